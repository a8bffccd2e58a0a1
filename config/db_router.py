"""Reads from a PostgreSQL read replica, writes to the primary (docs/deploy.md).

Enabled by ``DATABASE_REPLICA_URL``, which adds the ``replica`` database alias. The public
pages' reads, nearly all the traffic, go to the replica. A replica lags its primary by a
moment, so reads that must see the latest writes, or lock rows, stay on the primary:

- any read inside a transaction there (read-modify-write code, ``select_for_update``, the
  sign form's "signed before?" branch);
- the task queue, whose worker picks its database before opening the transaction in which
  it locks a task row;
- sessions and logins (a staff member just logged in must stay logged in), and the admin
  log.
"""

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_DB_ALIAS = "replica"
PRIMARY_ONLY_APPS = frozenset({"django_tasks_database", "sessions", "auth", "admin"})


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases hold the same rows.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # The replica copies the primary's schema; it is never migrated itself.
        return db == DEFAULT_DB_ALIAS

"""Trigram indexes for the admin's signatory search on PostgreSQL.

The admin searches with ``icontains`` (``UPPER(name) LIKE UPPER('%…%')``), which no b-tree
index serves: over a million signatories each search would read the whole table. A GIN
trigram index on the same expression makes it an index lookup. SQLite, for trying the app
on a laptop, has no such index and needs none.
"""

from django.db import migrations

INDEXES = {
    "signatory_name_trgm_idx": "name",
    "signatory_email_trgm_idx": "email",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON signatories_signatory "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("signatories", "0008_signatory_name_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""Writing and looking up many rows at once, for the importer and the synthetic data
generator: ``insert_rows`` (PostgreSQL's ``COPY`` with ids from the table's sequence;
``bulk_create`` elsewhere) and lookups whose number of queries does not grow with the
number of values (``EqualsAny`` on PostgreSQL, chunked ``IN`` lists elsewhere)."""

import datetime
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection, models
from django.db.models import Lookup
from django.utils import timezone
from psycopg import sql

# Strings per ``IN`` list where lookups are chunked (not PostgreSQL).
LOOKUP_CHUNK = 10_000
# Rows per INSERT where ``bulk_create`` writes (not PostgreSQL); Django lowers it to what
# SQLite's limit on query parameters allows.
INSERT_BATCH = 1000


def chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def lookup_chunk() -> int:
    """Strings per ``IN`` list: large, for few table scans, within the database's limit
    on query parameters (a query may carry two lists)."""
    limit = connection.features.max_query_params
    return min(LOOKUP_CHUNK, (limit - 10) // 2) if limit else LOOKUP_CHUNK


class EqualsAny(Lookup):
    """``lhs = ANY(values)``, on PostgreSQL: however many values, one parameter and one
    query, where ``__in`` takes a parameter per value (Django and psycopg handle each in
    Python: some seconds for 100,000) and a query per chunk (a table scan each). The
    values go as one newline-separated string, split by the server: ten times quicker to
    send than an array. Not registered: used as ``filter(EqualsAny(F("slug"), slugs))``."""

    lookup_name = "equals_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        joined = "\n".join(values)
        if "" in values or joined.count("\n") != len(values) - 1:
            # A value that is empty or has a line break would be lost in the split.
            return f"{lhs_sql} = ANY(%s::text[])", (*lhs_params, values)
        return f"{lhs_sql} = ANY(string_to_array(%s, chr(10)))", (*lhs_params, joined)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    returning_ids: bool = False,
) -> list[int]:
    """Create a ``model`` row for each sequence of values of ``fields`` (attribute names),
    the other columns at their defaults and timestamps now, as ``bulk_create`` would, and
    no history; the new ids, in order, if asked.

    On PostgreSQL with ``COPY`` (several times quicker than ``INSERT``), the ids taken
    from the table's sequence first, in one query; elsewhere with ``bulk_create``."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(
            [model(**dict(zip(fields, values, strict=True))) for values in rows],
            batch_size=INSERT_BATCH,
        )
        return [instance.pk for instance in created]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if not returning_ids:
            copy_rows(cursor, model, fields, rows, now=timezone.now())
            return []
        ids = allocate_ids(cursor, model, len(rows))
        copy_rows(
            cursor,
            model,
            (model._meta.pk.attname, *fields),
            ((pk, *values) for pk, values in zip(ids, rows, strict=True)),
            now=timezone.now(),
        )
    return ids


def allocate_ids(cursor, model: type[models.Model], count: int) -> list[int]:
    """``count`` primary keys taken from the table's own sequence (PostgreSQL), in
    order, so rows written with ``COPY`` can name them, and rows inserted later never
    collide."""
    opts = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [connection.ops.quote_name(opts.db_table), opts.pk.column, count],
    )
    return sorted(pk for (pk,) in cursor.fetchall())


def copy_rows(
    cursor,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    now: datetime.datetime,
) -> None:
    """Write ``rows`` (values of ``fields``, in order) into the model's table with
    PostgreSQL's ``COPY … FROM STDIN``. Every other column gets its field's default,
    and ``auto_now``/``auto_now_add`` columns get ``now``: what ``bulk_create`` would
    write. ``cursor`` is a Django cursor; its psycopg cursor does the copy."""
    opts = model._meta
    given = [opts.get_field(name) for name in fields]
    # The primary key, when not given, is the table's own default (its sequence).
    rest = [field for field in opts.concrete_fields if field not in given and field != opts.pk]
    constant = tuple(
        now
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        else field.get_db_prep_save(field.get_default(), connection)
        for field in rest
    )
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(opts.db_table),
        columns=sql.SQL(", ").join(sql.Identifier(field.column) for field in given + rest),
    )
    with cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row((*row, *constant))

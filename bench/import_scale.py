"""Import speed: time ``import_signatures`` on files of synthetic signatories (PostgreSQL),
against PostgreSQL's own ``COPY FROM`` of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
        DJANGO_SECRET_KEY=bench .venv/bin/python bench/import_scale.py \\
        [--rows 10000 100000] [--runs 3]

For each size and run: a fresh draft letter, a CSV of obviously synthetic rows ("Synthetic
Import 0000123", unique emails), then a dry run; the baseline, ``COPY … FROM STDIN`` of the
same rows into the signatory and signature tables (every column the import writes, ids
taken from the sequence first, the deferred foreign-key checks forced at the end as the
import's commit forces them, then rolled back); the import (published, committed); and a
re-import of the same file (every row already signed). Prints seconds for each and the
import's time as a multiple of the baseline's (the target: at most 10). No assertion.
"""

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import setup_django  # noqa: E402

setup_django("bench/import_scale.py")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from letters.models import Letter  # noqa: E402
from signatories.importers import import_signatures  # noqa: E402
from signatories.models import (  # noqa: E402
    Signatory,
    Signature,
    identity_values,
    list_sort_key,
)
from signatories.slugs import slug_base  # noqa: E402

COUNTRIES = ["GB", "US", "FR", "DE", "CA", "AU", "BE", "GR", "TH", ""]
HEADER = ["name", "kind", "category", "country", "email", "display"]


def synthetic_rows(rows: int, run: str) -> list[dict[str, str]]:
    result = []
    for i in range(rows):
        kind, category = ("organisation", "ngo") if i % 3 == 0 else ("individual", "survivor")
        display = "full" if kind == "organisation" else ["full", "first_name", "anonymous"][i % 3]
        result.append(
            {
                "name": f"Synthetic Import {run} {i:07d}",
                "kind": kind,
                "category": category,
                "country": COUNTRIES[i % 10],
                "email": f"synthetic-{run}-{i}@example.invalid",
                "display": display,
            }
        )
    return result


def synthetic_csv(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(row[column] for column in HEADER) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _columns(model, values: dict) -> tuple[list[str], tuple]:
    """Every column but the id, as ``bulk_create`` writes them: ``values`` where given,
    else the field's default."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    return [field.column for field in fields], tuple(
        values[field.attname] if field.attname in values else field.get_default()
        for field in fields
    )


def copy_from_seconds(letter: Letter, rows: list[dict[str, str]]) -> float:
    """Seconds to write ``rows`` as new signatories and published signatures with
    ``COPY FROM`` (after one query for their ids, and with the foreign keys checked), the
    rows prepared beforehand; rolled back."""
    now = timezone.now()
    signatories, signatures = [], []
    for row in rows:
        rank, sort_name = list_sort_key(kind=row["kind"], display=row["display"], name=row["name"])
        signatory_columns, values = _columns(
            Signatory,
            {
                "name": row["name"],
                "slug": slug_base(row["name"]),
                "kind": row["kind"],
                "category": row["category"],
                "country": row["country"],
                "email": row["email"],
                "name_key": identity_values(name=row["name"], kind=row["kind"], website="")[0],
                "created_at": now,
                "updated_at": now,
            },
        )
        signatories.append(values)
        signature_columns, values = _columns(
            Signature,
            {
                "letter_id": letter.pk,
                "signatory_id": None,  # set from the ids taken below
                "display": row["display"],
                "status": Signature.Status.PUBLISHED,
                "source": Signature.Source.IMPORT,
                "list_rank": rank,
                "sort_name": sort_name,
                "created_at": now,
                "updated_at": now,
            },
        )
        signatures.append(values)
    signatory_at = signature_columns.index("signatory_id")

    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Signatory._meta.db_table, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        table, columns = Signatory._meta.db_table, ", ".join(["id", *signatory_columns])
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, values in zip(ids, signatories, strict=True):
                copy.write_row((pk, *values))
        table, columns = Signature._meta.db_table, ", ".join(signature_columns)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, values in zip(ids, signatures, strict=True):
                copy.write_row((*values[:signatory_at], pk, *values[signatory_at + 1 :]))
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def timed(**kwargs):
    started = time.perf_counter()
    report = import_signatures(**kwargs)
    return time.perf_counter() - started, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=1, help="runs of each size (default 1)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/import_scale.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)

    print(
        f"{'rows':>8} {'MB':>5} {'dry run s':>10} {'COPY FROM s':>12} {'import s':>9} "
        f"{'× COPY':>7} {'re-import s':>12}"
    )
    for rows in args.rows:
        for _ in range(args.runs):
            run = uuid.uuid4().hex[:6]
            letter = Letter.objects.create(
                title=f"Synthetic import benchmark {run}",
                slug=f"bench-import-{run}",
                summary="Synthetic data for benchmarks; not a real letter.",
            )
            synthetic = synthetic_rows(rows, run)
            data = synthetic_csv(synthetic)
            common = {"letter": letter, "data": data, "filename": "synthetic.csv"}
            dry, _ = timed(**common, dry_run=True)
            copy = copy_from_seconds(letter, synthetic)
            real, report = timed(**common, dry_run=False, publish=True)
            again, second = timed(**common, dry_run=False, publish=True)
            assert report.ok and report.created == rows and second.created == 0
            print(
                f"{rows:8d} {len(data) / 1e6:5.1f} {dry:10.2f} {copy:12.2f} {real:9.2f} "
                f"{real / copy:7.1f} {again:12.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

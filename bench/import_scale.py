"""Import speed: time ``import_signatures`` on files of synthetic signatories (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
        DJANGO_SECRET_KEY=bench .venv/bin/python bench/import_scale.py [--rows 10000 100000]

For each size: a fresh draft letter, a CSV of obviously synthetic rows ("Synthetic Import
0000123", unique emails), then a dry run, the import, and a re-import of the same file
(every row already signed). Prints seconds for each. No assertion.
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from letters.models import Letter  # noqa: E402
from signatories.importers import import_signatures  # noqa: E402

COUNTRIES = ["GB", "US", "FR", "DE", "CA", "AU", "BE", "GR", "TH", ""]


def synthetic_csv(rows: int, run: str) -> bytes:
    lines = ["name,kind,category,country,email,display"]
    for i in range(rows):
        kind, category = ("organisation", "ngo") if i % 3 == 0 else ("individual", "survivor")
        display = "full" if kind == "organisation" else ["full", "first_name", "anonymous"][i % 3]
        lines.append(
            f"Synthetic Import {run} {i:07d},{kind},{category},{COUNTRIES[i % 10]},"
            f"synthetic-{run}-{i}@example.invalid,{display}"
        )
    return ("\n".join(lines) + "\n").encode()


def timed(**kwargs):
    started = time.perf_counter()
    report = import_signatures(**kwargs)
    return time.perf_counter() - started, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/import_scale.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)

    print(f"{'rows':>8} {'MB':>6} {'dry run s':>10} {'import s':>9} {'re-import s':>12} created")
    for rows in args.rows:
        run = uuid.uuid4().hex[:6]
        letter = Letter.objects.create(
            title=f"Synthetic import benchmark {run}",
            slug=f"bench-import-{run}",
            summary="Synthetic data for benchmarks; not a real letter.",
        )
        data = synthetic_csv(rows, run)
        common = {"letter": letter, "data": data, "filename": "synthetic.csv"}
        dry, _ = timed(**common, dry_run=True)
        real, report = timed(**common, dry_run=False)
        again, second = timed(**common, dry_run=False)
        assert report.ok and report.created == rows and second.created == 0
        print(
            f"{rows:8d} {len(data) / 1e6:6.1f} {dry:10.2f} {real:9.2f} {again:12.2f} "
            f"{report.created}"
        )


if __name__ == "__main__":
    main()

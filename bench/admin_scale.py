"""Admin pages at scale: time the signature list and a letter's change page with a
million signatures on one letter (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
        DJANGO_SECRET_KEY=bench .venv/bin/python bench/admin_scale.py [--signatures 1000000]

The synthetic letter ("bench-admin-scale") and its obviously synthetic signatories
("Synthetic Signatory 0000123") are created once with server-side INSERT … SELECT and
reused on later runs. Prints, per page: median and worst server time over the runs, and the
number of SQL queries. No assertion: figures to read, not a test.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SLUG = "bench-admin-scale"


def ensure_data(count: int):
    from letters.models import Letter

    letter, _ = Letter.objects.get_or_create(
        slug=SLUG,
        defaults={
            "title": "Synthetic benchmark letter",
            "summary": "Synthetic data for benchmarks; not a real letter.",
            "status": Letter.Status.DRAFT,
        },
    )
    have = letter.signatures.count()
    if have >= count:
        return letter, have
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO signatories_signatory
                (name, slug, kind, category, country, website, role, affiliation,
                 description, email, notes, name_key, website_domain, created_at, updated_at)
            SELECT 'Synthetic Signatory ' || lpad(g::text, 7, '0'),
                   'synthetic-signatory-' || lpad(g::text, 7, '0'),
                   CASE WHEN g %% 3 = 0 THEN 'organisation' ELSE 'individual' END,
                   CASE WHEN g %% 3 = 0 THEN 'ngo' ELSE 'survivor' END,
                   (ARRAY['GB','US','FR','DE','CA','AU','BE','GR','TH',''])[1 + g %% 10],
                   '', '', '', '', 'synthetic' || g || '@example.invalid', '',
                   'synthetic signatory ' || lpad(g::text, 7, '0'), '', now(), now()
            FROM generate_series(%s, %s) AS g
            ON CONFLICT (slug) DO NOTHING
            """,
            [have + 1, count],
        )
        cursor.execute(
            """
            INSERT INTO signatories_signature
                (letter_id, signatory_id, display, statement, featured, status, source, notes,
                 verification, rejection_reason, created_at, updated_at)
            SELECT %s, s.id,
                   CASE WHEN s.kind = 'organisation' THEN 'full'
                        ELSE (ARRAY['full','first_name','initials','anonymous'])[1 + s.id %% 4]
                   END,
                   '', false,
                   CASE WHEN s.id %% 50 = 0 THEN 'pending' ELSE 'published' END,
                   'import', '', 'unverified', '', now(), now()
            FROM signatories_signatory s
            WHERE s.slug LIKE 'synthetic-signatory-%%'
            ON CONFLICT ON CONSTRAINT one_signature_per_letter DO NOTHING
            """,
            [letter.pk],
        )
        cursor.execute("ANALYZE signatories_signatory")
        cursor.execute("ANALYZE signatories_signature")
    print(f"Created synthetic data in {time.perf_counter() - started:.1f} s")
    return letter, letter.signatures.count()


def measure(client: Client, url: str, runs: int) -> tuple[float, float, int, int]:
    client.get(url)  # warm caches and connections
    times, queries, status = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        queries, status = len(ctx.captured_queries), response.status_code
    return statistics.median(times), max(times), queries, status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/admin_scale.py needs PostgreSQL: set DATABASE_URL=postgres://…")

    call_command("migrate", verbosity=0)
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    letter, total = ensure_data(args.signatures)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    signature_list = "/admin/signatories/signature/"
    autocomplete = (
        "/admin/autocomplete/?app_label=signatories&model_name=signature&field_name=signatory"
    )
    pages = {
        "signature list": signature_list,
        "signature list, this letter": f"{signature_list}?letter__id__exact={letter.pk}",
        "signature list, pending": f"{signature_list}?status__exact=pending",
        "signature list, page 500": f"{signature_list}?p=500",
        "letter change page": f"/admin/letters/letter/{letter.pk}/change/",
        "letter list": "/admin/letters/letter/",
        "signatory list": "/admin/signatories/signatory/",
        "signatory autocomplete, 1 match": f"{autocomplete}&term=0000123",
        "autocomplete, every row matches": f"{autocomplete}&term=Synthetic%20Signatory%20000012",
    }
    print(f"\n{total:,} signatures on one letter; {args.runs} runs per page\n")
    print(f"{'page':32} {'median ms':>10} {'worst ms':>10} {'queries':>8} {'status':>7}")
    for name, url in pages.items():
        median, worst, queries, status = measure(client, url, args.runs)
        print(f"{name:32} {median * 1000:10.0f} {worst * 1000:10.0f} {queries:8d} {status:7d}")


if __name__ == "__main__":
    main()

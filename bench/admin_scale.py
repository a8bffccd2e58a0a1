"""Admin pages at scale: time the signature list and a letter's change page with a
million signatures on one letter (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
        DJANGO_SECRET_KEY=bench .venv/bin/python bench/admin_scale.py [--signatures 1000000]

The synthetic letter ("bench-admin-scale") and its obviously synthetic signatories are
created once with ``generate_signatures`` (COPY) and reused on later runs. Prints, per
page: median and worst server time over the runs, and the number of SQL queries. No
assertion: figures to read, not a test.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import setup_django  # noqa: E402

setup_django("bench/admin_scale.py")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from signatories.synthetic import generate_signatures  # noqa: E402

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
    if have < count:
        # The project's own synthetic writer (``manage.py generate_signatures``): every
        # column the models require, list keys and the tally included.
        made = generate_signatures(letter=letter, count=count - have)
        print(f"Created {made.count:,} synthetic signatures in {made.seconds:.1f} s")
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

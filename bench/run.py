"""``make bench``: the public site with a million signatures on one letter, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench make bench
    .venv/bin/python bench/run.py [--signatures 1000000] [--smoke] [--skip-load]

Prepares (once; reused while the count is right) synthetic letters of 10, N/10 and N
published signatures, then measures in one run: SQL queries per letter page; the letter
page's server time at N against 10 (first page, a keyset page half-way down, a filtered
page); the CSV export against PostgreSQL's own COPY of the same query, and the export's
memory; the import engine against COPY FROM of the same rows; requests per second under
gunicorn (``bench/load.py``); and that the counts shown match the signatures after all
that. Prints one table and writes ``bench/results.json`` (``--smoke``: 10,000 signatures,
a short load test, ``bench/results-smoke.json``). Misses are reported, not raised: the
exit status is non-zero only when something could not be measured.
"""

import argparse
import gc
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.environment import setup_django  # noqa: E402

setup_django("make bench")

from django.conf import settings  # noqa: E402
from django.core.management import call_command, get_commands  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import api as api_bench  # noqa: E402  (the JSON API's figures, issue 12)
from bench import country as country_bench  # noqa: E402  (a country's page, issue 13)
from letters.models import Addressee, Letter, LetterSource, Recipient, ResponseEvent  # noqa: E402
from signatories.bulk import allocate_ids, copy_rows  # noqa: E402
from signatories.counts import sums, tally_rows  # noqa: E402
from signatories.importers import MAX_FILE_BYTES, import_signatures  # noqa: E402
from signatories.models import (  # noqa: E402
    LIST_ORDER,
    Display,
    LetterTally,
    ListMark,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    Source,
    identity_values,
    list_sort_key,
)
from signatories.paging import encode_cursor  # noqa: E402
from signatories.slugs import slug_base  # noqa: E402
from signatories.synthetic import generate_signatures  # noqa: E402
from signatories.tallies import reconcile, refresh_tally  # noqa: E402

SMALL = 10
SIGN_EMAIL_TASK = "signatories.tasks.send_signature_email"
PAGE_NAMES = ("first", "deep", "filtered", "numbered", "numbered_middle")
NUMBERED_PAGES = ("numbered", "numbered_middle")
CACHE_MIDDLEWARE = (
    "django.middleware.cache.UpdateCacheMiddleware",
    "django.middleware.cache.FetchFromCacheMiddleware",
    "django.middleware.cache.CacheMiddleware",
)


@dataclass(frozen=True)
class Plan:
    signatures: int
    compare: int  # the export's memory is compared with this many rows
    import_rows: int
    page_runs: int
    export_runs: int
    load_duration: float
    sign_duration: float
    load_connections: int
    output: Path
    skip_load: bool

    @classmethod
    def from_args(cls, args) -> "Plan":
        n = 10_000 if args.smoke else args.signatures
        return cls(
            signatures=n,
            compare=max(SMALL, n // 10),
            import_rows=min(100_000, max(1_000, n // 10)),
            page_runs=10 if args.smoke else args.runs,
            export_runs=1 if args.smoke else 2,
            load_duration=3 if args.smoke else 20,
            sign_duration=3 if args.smoke else 60,
            load_connections=8 if args.smoke else 32,
            output=BASE_DIR / "bench" / ("results-smoke.json" if args.smoke else "results.json"),
            skip_load=args.skip_load,
        )


# Data


def bench_letter(count: int) -> Letter:
    """An open letter, taking public signatures, with ``count`` published synthetic
    signatures: made once, topped up if short, reused while the count is right."""
    letter, created = Letter.objects.get_or_create(
        slug=f"bench-{count}-signatures",
        defaults={
            "title": f"Synthetic benchmark letter with {count:,} signatures",
            "summary": "Synthetic data for benchmarks; not a real letter.",
            "body": "Made up for `make bench`.\n\n" + "A paragraph of the letter. " * 40,
            "status": Letter.Status.OPEN,
            "published_on": date.today() - timedelta(days=30),
            "accepts_public_signatures": True,
        },
    )
    if created:
        for position, code in enumerate("AB"):
            recipient, _ = Recipient.objects.get_or_create(
                slug=f"bench-recipient-{code.lower()}",
                defaults={"name": f"Synthetic Recipient {code}"},
            )
            addressee = Addressee.objects.create(
                letter=letter, recipient=recipient, person_name="A. Person", position=position
            )
            ResponseEvent.objects.create(
                addressee=addressee,
                kind=ResponseEvent.Kind.DELIVERED,
                date=date.today() - timedelta(days=20),
                summary="Delivered by email.",
            )
        LetterSource.objects.create(
            letter=letter, title="The organisers' page", url="https://example.invalid/letter"
        )
    have = Signature.objects.filter(letter=letter, status=SignatureStatus.PUBLISHED).count()
    if have < count:
        print(f"Adding {count - have:,} synthetic signatures to {letter.slug}…", flush=True)
        result = generate_signatures(letter=letter, count=count - have)
        print(f"  done in {result.seconds:.1f} s ({result.method})", flush=True)
        # As autovacuum would in time: without it the first reads of fresh rows pay for
        # setting their hint bits, and no scan can be index-only (nothing is all-visible).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) signatories_signature, signatories_signatory")
    elif getattr(LetterTally.objects.filter(letter=letter).first(), "total", None) != have or (
        ListMark.objects.filter(letter=letter).count() != have // ListMark.MARK_EVERY
    ):
        refresh_tally(letter.pk)  # counts, and the marks that deep ?page=N starts from
    return letter


# Letter pages


def page_urls(letter: Letter, filter_query: str) -> dict[str, str]:
    """The first page, a keyset page half-way down the list (a cursor for the middle row,
    as the page's own "Next" links carry), a filtered page, and by number the last page
    and the one half-way (``?page=N``, as an old or hand-made link asks)."""
    url = letter.get_absolute_url()
    public = Signature.objects.public_on(letter).order_by(*LIST_ORDER)
    count = public.count()
    middle = public.only("pk", "list_rank", "sort_name")[count // 2]
    cursor = encode_cursor(middle, count // 2 // settings.SIGNATURES_PER_PAGE + 1)
    last = -(-count // settings.SIGNATURES_PER_PAGE)
    return {
        "first": url,
        "deep": f"{url}?after={cursor}",
        "filtered": f"{url}?{filter_query}",
        "numbered": f"{url}?page={last}",
        "numbered_middle": f"{url}?page={last // 2 + 1}",
    }


def busiest_country(letter: Letter) -> str:
    """The country with most of the letter's signatures, so the filtered page of even the
    10-signature letter has rows."""
    by_country = {code: n for code, n in sums(tally_rows(letter.tally)).by_country.items() if code}
    return max(sorted(by_country), key=by_country.get, default="GB")


def page_cache_off(*, fragments: bool = True) -> override_settings:
    """No page cache (every cache a dummy and no cache middleware): the view's own cost,
    whatever page caching the site may have by then. The fragment cache stays as in
    production, unless ``fragments=False``: its keys are what a fragment draws, so after
    the first render of a letter's figures every later render uses it, page cache or not."""
    return override_settings(
        CACHES={
            alias: settings.CACHES[alias]
            if fragments and alias == "fragments"
            else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
            for alias in settings.CACHES
        },
        MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in CACHE_MIDDLEWARE],
    )


def measure_cold(client: Client, url: str, runs: int) -> dict:
    """Server time of one page with no cache at all (fragments drawn on every request)."""
    with page_cache_off(fragments=False):
        for _ in range(5):
            get_ok(client, url)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            get_ok(client, url)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": statistics.median(times), "p95_ms": percentile(times, 95)}


def get_ok(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def inspect_page(client: Client, url: str) -> dict:
    """The page's SQL queries, the signatures it lists, and whether its "Next →" link is
    a cursor (``?after=``), as the deep page measured here."""
    with CaptureQueriesContext(connection) as ctx:
        html = get_ok(client, url).content.decode()
    table = html.partition('<table class="signatories">')[2].partition("</table>")[0]
    return {
        "queries": len(ctx.captured_queries),
        "rows": max(0, table.count("<tr>") - 1),  # less the header row
        "next_is_cursor": re.search(r'<a href="\?[^"]*after=[^"]*" rel="next">', html) is not None,
    }


def percentile(times: list[float], p: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1]


def measure_pages(client: Client, small: dict, large: dict, runs: int) -> dict:
    """Server time of each page at both sizes, in milliseconds. The two sizes alternate,
    so that whatever else the machine is doing weighs on both alike."""
    results = {}
    for name in PAGE_NAMES:
        times = {"small": [], "large": []}
        for _ in range(5):
            get_ok(client, small[name])
            get_ok(client, large[name])
        for _ in range(runs):
            for size, urls in (("small", small), ("large", large)):
                started = time.perf_counter()
                response = client.get(urls[name])
                times[size].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {urls[name]} answered {response.status_code}")
        results[name] = {
            size: {"p50_ms": statistics.median(t), "p95_ms": percentile(t, 95)}
            for size, t in times.items()
        }
        results[name]["ratio"] = results[name]["large"]["p50_ms"] / results[name]["small"]["p50_ms"]
    return results


# CSV export


def read_status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


class PeakSampler(threading.Thread):
    """VmRSS every 10 ms, where the kernel's peak (VmHWM) cannot be reset."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb = read_status_kb("VmRSS")
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.01):
            self.peak_kb = max(self.peak_kb, read_status_kb("VmRSS"))


def export_child(slug: str, warm_slug: str) -> None:
    """In a fresh process: export the letter's CSV once through the test client, and print
    the time, the rows, the peak memory above the baseline, and the SQL it ran."""
    client = Client()
    url = f"/letters/{slug}/signatures.csv"
    settings.ALLOWED_HOSTS = ["testserver"]
    for _ in get_ok(client, f"/letters/{warm_slug}/signatures.csv").streaming_content:
        pass  # every module, template and connection ready before the baseline
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux 4.0+)
        sampler = None
    except OSError:
        sampler = PeakSampler()
        sampler.start()
    baseline = read_status_kb("VmRSS")
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        size = lines = 0
        for chunk in get_ok(client, url).streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    if sampler:
        sampler.done.set()
        sampler.join()
        peak = sampler.peak_kb
    else:
        peak = read_status_kb("VmHWM")
    query = max((q["sql"] for q in ctx.captured_queries), key=len)
    result = {
        "seconds": seconds,
        "rows": lines - 1,
        "bytes": size,
        "rss_growth_mb": (peak - baseline) / 1024,
        "peak_by": "VmHWM" if sampler is None else "sampling",
        "sql": query,
    }
    print("EXPORT_RESULT " + json.dumps(result))


def run_export_child(slug: str, warm_slug: str) -> dict:
    command = [sys.executable, __file__, "--export-child", slug, "--warm-slug", warm_slug]
    result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    for line in result.stdout.splitlines():
        if line.startswith("EXPORT_RESULT "):
            return json.loads(line.removeprefix("EXPORT_RESULT "))
    raise RuntimeError(f"The export of {slug} failed:\n{result.stdout}\n{result.stderr[-3000:]}")


def select_of(captured: str) -> str:
    """The SELECT of a captured query (a server-side cursor's may be wrapped in DECLARE)."""
    start = captured.upper().find("SELECT")
    return captured[start:]


def copy_out(query: str) -> tuple[float, int]:
    """Seconds for PostgreSQL to send ``query``'s rows as CSV (``COPY … TO STDOUT``),
    read to the end by this process; and the bytes."""
    statement = sql.SQL("COPY ({}) TO STDOUT WITH CSV HEADER").format(sql.SQL(query))
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.cursor.copy(statement) as copy:
            size = sum(len(block) for block in copy)
        return time.perf_counter() - started, size


def measure_export(plan: Plan, large: Letter, compare: Letter, small: Letter) -> dict:
    runs = [run_export_child(large.slug, small.slug) for _ in range(plan.export_runs)]
    compared = run_export_child(compare.slug, small.slug)
    query = select_of(runs[0]["sql"])
    copy_out(query)  # warm-up: the same pages in PostgreSQL's cache as the exports had
    copies = [copy_out(query) for _ in range(3)]
    export_seconds = min(run["seconds"] for run in runs)
    copy_seconds = min(seconds for seconds, _ in copies)
    growth = max(run["rss_growth_mb"] for run in runs)
    return {
        "rows": runs[0]["rows"],
        "bytes": runs[0]["bytes"],
        "seconds": export_seconds,
        "copy_seconds": copy_seconds,
        "copy_bytes": copies[0][1],
        "ratio": export_seconds / copy_seconds,
        "rss_growth_mb": growth,
        "compare_rows": compared["rows"],
        "compare_rss_growth_mb": compared["rss_growth_mb"],
        "compare_seconds": compared["seconds"],
        "peak_by": runs[0]["peak_by"],
        "runs_seconds": [run["seconds"] for run in runs],
        "query": query,
    }


# Import


@dataclass(frozen=True)
class ImportRow:
    name: str
    kind: str
    category: str
    country: str
    email: str
    display: str
    statement: str
    signed_on: date


def import_rows(count: int, run: str) -> list[ImportRow]:
    countries = ["GB", "US", "FR", "DE", "CA", "AU", "BE", "GR", "TH", ""]
    displays = [Display.FULL, Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS]
    rows = []
    for i in range(count):
        organisation = i % 5 == 0
        rows.append(
            ImportRow(
                name=f"Synthetic Import {run} {i:06d}",
                kind=SignatoryKind.ORGANISATION if organisation else SignatoryKind.INDIVIDUAL,
                category="ngo" if organisation else "survivor",
                country=countries[i % len(countries)],
                email=f"i{run}{i}@example.invalid",
                display=Display.FULL if organisation else displays[i % 4],
                statement="Synthetic." if i % 50 == 0 else "",
                signed_on=date(2024, 1, 1) + timedelta(days=i % 365),
            )
        )
    return rows


def import_csv(rows: list[ImportRow]) -> bytes:
    lines = ["name,kind,category,country,email,display,statement,signed_at"]
    lines += [
        f"{r.name},{r.kind},{r.category},{r.country},{r.email},{r.display},{r.statement},"
        f"{r.signed_on.isoformat()}"
        for r in rows
    ]
    data = ("\n".join(lines) + "\n").encode()
    if len(data) > MAX_FILE_BYTES:
        raise RuntimeError(f"The synthetic file ({len(data):,} bytes) is over the import limit")
    return data


def draft_letter(run: str, what: str) -> Letter:
    return Letter.objects.create(
        title=f"Synthetic {what} benchmark {run}",
        slug=f"bench-{what}-{run}",
        summary="Synthetic data for benchmarks; not a real letter.",
    )


def measure_import(count: int) -> dict:
    """The import engine writing ``count`` new signatories into a fresh draft letter,
    against COPY FROM of the same rows into the same tables. Both run in a transaction
    that is rolled back, deferred foreign-key checks included, so nothing stays."""
    run = uuid.uuid4().hex[:6]
    rows = import_rows(count, run)
    data = import_csv(rows)

    with transaction.atomic():
        letter = draft_letter(run, "import")
        started = time.perf_counter()
        report = import_signatures(
            letter=letter, data=data, filename="synthetic.csv", dry_run=False, publish=True
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        import_seconds = time.perf_counter() - started
        if not (report.written and report.created == count):
            raise RuntimeError(f"The import did not write {count} rows: {report.counts}")
        transaction.set_rollback(True)

    with transaction.atomic():
        letter = draft_letter(run, "copy")
        now = timezone.now()
        signatories = [
            (
                r.name,
                slug_base(r.name),
                r.kind,
                r.category,
                r.country,
                r.email,
                identity_values(name=r.name, kind=r.kind, website="")[0],
            )
            for r in rows
        ]
        signatures = [
            (
                r.display,
                r.statement,
                r.signed_on,
                SignatureStatus.PUBLISHED.value,
                Source.IMPORT.value,
                *list_sort_key(kind=r.kind, display=r.display, name=r.name),
            )
            for r in rows
        ]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            ids = allocate_ids(cursor, Signatory, count)
            copy_rows(
                cursor,
                Signatory,
                ["id", "name", "slug", "kind", "category", "country", "email", "name_key"],
                ((pk, *values) for pk, values in zip(ids, signatories, strict=True)),
                now=now,
            )
            copy_rows(
                cursor,
                Signature,
                [
                    "letter",
                    "signatory",
                    "display",
                    "statement",
                    "signed_on",
                    "status",
                    "source",
                    "list_rank",
                    "sort_name",
                ],  # fmt: skip
                ((letter.pk, pk, *values) for pk, values in zip(ids, signatures, strict=True)),
                now=now,
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        copy_seconds = time.perf_counter() - started
        transaction.set_rollback(True)

    return {
        "rows": count,
        "bytes": len(data),
        "seconds": import_seconds,
        "copy_seconds": copy_seconds,
        "ratio": import_seconds / copy_seconds,
    }


# Load and counts


def measure_load(plan: Plan, letter: Letter) -> dict:
    try:
        from bench.load import LoadError, run_load
    except ImportError as error:
        return {"error": f"bench/load.py cannot be imported ({error}); run with --skip-load"}
    connection.close()  # the server's workers open their own
    try:
        signatures_before = Signature.objects.filter(letter=letter).count()
        emails_before = DBTaskResult.objects.filter(task_path=SIGN_EMAIL_TASK).count()
        load = run_load(
            database_url=os.environ["DATABASE_URL"],
            letter_slug=letter.slug,
            duration=plan.load_duration,
            connections=plan.load_connections,
            sign_duration=plan.sign_duration,
        )
    except LoadError as error:
        return {"error": str(error)}
    # Every sign POST answered must be a real signature with its email queued. A few more
    # may be recorded than wrk counted: those in flight when it stopped each run.
    recorded = Signature.objects.filter(letter=letter).count() - signatures_before
    queued = DBTaskResult.objects.filter(task_path=SIGN_EMAIL_TASK).count() - emails_before
    answered = load["sign_posts_answered"]
    sign = load["details"]["phases"]["sign"]
    load.update(
        signs_per_second_sustained=sign["rps"],
        sign_errors=sign["errors"] + max(0, answered - recorded) + abs(recorded - queued),
        sign_recorded={"answered": answered, "signatures": recorded, "emails_queued": queued},
    )
    return load


def count_drift() -> tuple[int, str]:
    """Letters whose shown counts differ from their signatures, by ``reconcile_counts
    --check`` (or ``reconcile(fix=False)`` where that command is missing)."""
    if "reconcile_counts" not in get_commands():
        drifts = reconcile(fix=False)
        return len(drifts), f"reconcile(fix=False): {len(drifts)} letter(s) differ"
    out = io.StringIO()
    try:
        call_command("reconcile_counts", "--check", stdout=out)
    except CommandError as error:
        return len(reconcile(fix=False)), f"{out.getvalue().strip()}\n{error}"
    return 0, out.getvalue().strip()


# Report


def row(figure: str, value, target: str = "", holds: bool | None = None) -> tuple:
    verdict = "" if holds is None else ("yes" if holds else "NO")
    return figure, value, target, verdict


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def report(plan: Plan, results: dict, pages: dict, export: dict, imported: dict, load: dict):
    """The table; ``results["details"]["api"]`` adds the API's rows (bench/api.py)."""
    n, c = f"{plan.signatures:,}", f"{plan.compare:,}"
    r = results
    queries_hold = r["queries_small"] == r["queries_large"] and r["queries_large"] <= 8
    rows = [
        row(f"queries per letter page, {SMALL} signatures", fmt(r["queries_small"])),
        row(f"queries per letter page, {n}", fmt(r["queries_large"]), "equal, ≤ 8", queries_hold),
    ]
    for name in PAGE_NAMES:
        p = pages[name]
        for size, label in (("small", SMALL), ("large", n)):
            rows.append(
                row(
                    f"{name} page at {label} ({p[size]['rows']} rows), p50 / p95 ms",
                    f"{p[size]['p50_ms']:.1f} / {p[size]['p95_ms']:.1f}",
                )
            )
        rows.append(row(f"{name} page, {n} vs {SMALL} (p50)", fmt(p["ratio"])))
    rows += [
        row(
            f"worst ?page=N vs page 1 at {n} (p50)",
            fmt(r["page_number_ratio_worst"]),
            "≤ 2",
            r["page_number_ratio_worst"] <= 2,
        ),
        row(
            f"letter page uncached at {SMALL} signatures, p50 ms",
            fmt(r["letter_uncached_ms_p50_small"], 1),
            "≤ 25",
            r["letter_uncached_ms_p50_small"] <= 25,
        ),
        row(
            "the same with no fragment cache either, p50 ms",
            fmt(pages["first"]["small_cold"]["p50_ms"], 1),
        ),
        row(
            "page time ratio, worst of the five",
            fmt(r["page_ratio_large_vs_small"]),
            "≤ 2",
            r["page_ratio_large_vs_small"] <= 2,
        ),
        row(f"CSV export of {export['rows']:,} rows, s", fmt(export["seconds"])),
        row("COPY (same query) TO STDOUT, s", fmt(export["copy_seconds"])),
        row(
            "export vs COPY", fmt(r["export_ratio_vs_copy"]), "≤ 3", r["export_ratio_vs_copy"] <= 3
        ),
        row(
            f"export memory growth, {n} rows, MB",
            fmt(r["export_rss_growth_mb"], 1),
            "< 100",
            r["export_rss_growth_mb"] < 100,
        ),
        row(f"export memory growth, {c} rows, MB", fmt(export["compare_rss_growth_mb"], 1)),
        row(
            f"growth at {n} minus at {c}, MB",
            fmt(export["rss_growth_mb"] - export["compare_rss_growth_mb"], 1),
            "≤ 20",
            export["rss_growth_mb"] - export["compare_rss_growth_mb"] <= 20,
        ),
        *api_bench.report_rows(r["details"]["api"], row, fmt),
        *country_bench.report_rows(r["details"]["country"], row, fmt),
        row(f"import of {imported['rows']:,} rows, s", fmt(imported["seconds"])),
        row("COPY FROM of the same rows, s", fmt(imported["copy_seconds"])),
        row(
            "import vs COPY",
            fmt(r["import_ratio_vs_copy"]),
            "≤ 10",
            r["import_ratio_vs_copy"] <= 10,
        ),
    ]
    if "error" in load or plan.skip_load:
        rows.append(row("load test", load.get("error", "skipped (--skip-load)")))
    else:
        rps = " / ".join(fmt(load[key], 0) for key in ("hello_rps", "letter_rps", "sign_rps"))
        letter_ratio, sign_ratio = load["letter_vs_hello"], load["sign_vs_hello"]
        rows += [
            row("hello / letter / sign, requests per s", rps),
            row("letter vs hello", fmt(letter_ratio), "≥ 0.5", letter_ratio >= 0.5),
            row("sign vs hello", fmt(sign_ratio), "≥ 0.1", sign_ratio >= 0.1),
            row("load errors", fmt(load["load_errors"]), "0", load["load_errors"] == 0),
            row(
                f"signs per second sustained for {plan.sign_duration:g} s",
                fmt(load["signs_per_second_sustained"], 0),
                "≥ 100",
                load["signs_per_second_sustained"] >= 100,
            ),
            row(
                "sign errors (incl. POSTs without a signature and its queued email)",
                fmt(load["sign_errors"]),
                "0",
                load["sign_errors"] == 0,
            ),
        ]
    rows.append(
        row("letters whose counts drifted", fmt(r["count_drift"]), "0", r["count_drift"] == 0)
    )
    header = ("figure", "value", "target", "holds")
    widths = [max(len(str(cells[i])) for cells in [header, *rows]) for i in range(4)]
    for cells in [header, tuple("-" * w for w in widths), *rows]:
        figure, value, target, holds = (str(cell) for cell in cells)
        print(
            f"{figure:<{widths[0]}}  {value:>{widths[1]}}  {target:<{widths[2]}}  {holds}".rstrip()
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="10,000 signatures, short load")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn load test")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    parser.add_argument("--warm-slug", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.export_child, args.warm_slug)
        return 0
    if args.signatures < 1000:
        parser.error("--signatures must be at least 1,000")
    plan = Plan.from_args(args)
    began = time.perf_counter()
    load_average = os.getloadavg()[0]

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages need the manifest
    settings.ALLOWED_HOSTS = ["testserver"]
    small = bench_letter(SMALL)
    compare = bench_letter(plan.compare)
    large = bench_letter(plan.signatures)
    prepared = time.perf_counter() - began
    print(f"Letters ready in {prepared:.0f} s; measuring…", flush=True)

    client = Client()
    filter_query = f"country={busiest_country(small)}"
    small_urls, large_urls = page_urls(small, filter_query), page_urls(large, filter_query)
    with page_cache_off():
        inspected = {
            name: {
                "small": inspect_page(client, small_urls[name]),
                "large": inspect_page(client, large_urls[name]),
            }
            for name in PAGE_NAMES
        }
        pages = measure_pages(client, small_urls, large_urls, plan.page_runs)
    pages["first"]["small_cold"] = measure_cold(client, small_urls["first"], plan.page_runs)
    for name in PAGE_NAMES:
        for size in ("small", "large"):
            pages[name][size]["rows"] = inspected[name][size]["rows"]
    print("  pages measured", flush=True)
    export = measure_export(plan, large, compare, small)
    print("  export measured", flush=True)
    api = api_bench.measure_api(client, large, plan.page_runs, page_cache_off)
    print("  API measured", flush=True)
    country = country_bench.measure_country(client, large, plan.page_runs, page_cache_off)
    print("  country page measured", flush=True)
    imported = measure_import(plan.import_rows)
    print("  import measured", flush=True)
    load = {} if plan.skip_load else measure_load(plan, large)
    drift, drift_text = count_drift()

    results = {
        "queries_small": inspected["first"]["small"]["queries"],
        "queries_large": inspected["first"]["large"]["queries"],
        "page_ratio_large_vs_small": max(pages[name]["ratio"] for name in PAGE_NAMES),
        "export_ratio_vs_copy": export["ratio"],
        "export_rss_growth_mb": export["rss_growth_mb"],
        "import_ratio_vs_copy": imported["ratio"],
        "letter_vs_hello": load.get("letter_vs_hello"),
        "sign_vs_hello": load.get("sign_vs_hello"),
        "load_errors": load.get("load_errors"),
        "count_drift": drift,
        "page_number_ratio_worst": max(pages[name]["large"]["p50_ms"] for name in NUMBERED_PAGES)
        / pages["first"]["large"]["p50_ms"],
        "signs_per_second_sustained": load.get("signs_per_second_sustained"),
        "sign_errors": load.get("sign_errors"),
        "letter_uncached_ms_p50_small": pages["first"]["small"]["p50_ms"],
        "api_queries_first": api["queries"]["first"],
        "api_queries_deep": api["queries"]["deep"],
        "api_deep_vs_first": api["deep_vs_first"],
        "api_equals_csv": api["csv"]["equal"],
        "country_queries_first": country["pages"]["first"]["queries"],
        "country_queries_deep": country["pages"]["deep"]["queries"],
        "country_deep_vs_first": country["deep_vs_first"],
        "details": {
            "signatures": plan.signatures,
            "date": timezone.now().isoformat(timespec="seconds"),
            "postgresql": connection.pg_version,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": load_average,
            "prepare_seconds": prepared,
            "seconds": time.perf_counter() - began,
            "inspected": inspected,
            "filter": filter_query,
            "pages": pages,
            "export": export,
            "api": api,
            "country": country,
            "import": imported,
            "load": load,
            "reconcile": drift_text,
        },
    }
    plan.output.write_text(json.dumps(results, indent=2, default=str) + "\n")

    print(
        f"\n{plan.signatures:,} signatures on PostgreSQL; {os.cpu_count()} CPUs, load average "
        f"{load_average:.1f} at the start; {plan.page_runs} timed requests per page\n"
    )
    report(plan, results, pages, export, imported, load)
    print(f"\nreconcile_counts --check: {drift_text}")
    cursor_link = inspected["first"]["large"]["next_is_cursor"]
    print(f'The page\'s own "Next →" link is a keyset cursor (?after=): {cursor_link}')
    print(
        f"Written to {plan.output.relative_to(BASE_DIR)} in {results['details']['seconds']:.0f} s."
    )
    return 1 if "error" in load else 0


if __name__ == "__main__":
    sys.exit(main())

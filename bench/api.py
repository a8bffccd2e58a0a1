"""The JSON API's figures for ``make bench`` (``bench/run.py`` calls ``measure_api``):

- a letter's signature list, first page against a deep page — a keyset cursor for the
  row 99% of the way down (990,000 of 1,000,000), as following ``next`` would reach —
  server time (p50, page cache off) and SQL queries of each;
- the whole list read through the API, ``page_size=1000`` following ``next`` to the end,
  against the streamed CSV of the same letter, row for row (the CSV's formula guard
  applied to the API's cells, as the CSV applies it): equal or not, and where first not.
"""

import csv
import statistics
import time

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatories.exports import PUBLIC_COLUMNS, neutralise
from signatories.models import LIST_ORDER, Signature
from signatories.paging import encode_cursor

API_PAGE = 100  # the API's default page size
WALK_PAGE = 1000
DEEP_AT = 0.99
NO_LIMIT = override_settings(API_RATE="100000000/min")  # the bench is one client


def deep_cursor(letter) -> tuple[str, int]:
    """A cursor for the row ``DEEP_AT`` of the way down the list (found once, by offset:
    set-up, not measured), numbered as the page following cursors would be."""
    public = Signature.objects.public_on(letter).order_by(*LIST_ORDER)
    position = int(public.count() * DEEP_AT)
    row = public.only("pk", "list_rank", "sort_name")[position]
    return encode_cursor(row, position // API_PAGE + 2), position


def _get(client: Client, url: str) -> dict:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response.json()


def time_pages(client: Client, urls: dict[str, str], runs: int, get=None) -> dict:
    """p50 and p95 server time (ms) of each of ``urls``, after five warm-up rounds, the urls
    alternating so that other load weighs on each alike. ``get(client, url)`` fetches one
    and fails on anything but 200 (by default: the API's JSON)."""
    get = get or _get
    times = {name: [] for name in urls}
    for _ in range(5):
        for url in urls.values():
            get(client, url)
    for _ in range(runs):
        for name, url in urls.items():
            started = time.perf_counter()
            get(client, url)
            times[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {
            "p50_ms": statistics.median(t),
            "p95_ms": statistics.quantiles(t, n=100, method="inclusive")[94],
        }
        for name, t in times.items()
    }


def _queries(client: Client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        rows = len(_get(client, url)["results"])
    return len(captured.captured_queries), rows


def _csv_rows(client: Client, letter):
    response = client.get(reverse("signatories:letter_csv", args=[letter.slug]))
    if response.status_code != 200:
        raise RuntimeError(f"the CSV answered {response.status_code}")
    lines = (
        line
        for chunk in response.streaming_content
        for line in chunk.decode("utf-8").splitlines(keepends=True)
    )
    reader = csv.reader(line.removeprefix("\ufeff") for line in lines)
    header = next(reader)
    if header != PUBLIC_COLUMNS:
        raise RuntimeError(f"the CSV's header is {header}")
    yield from reader


def _api_rows(client: Client, url: str, pages: list[int]):
    while url:
        page = _get(client, url)
        pages[0] += 1
        for row in page["results"]:
            yield [neutralise(row[column]) for column in PUBLIC_COLUMNS]
        url = page["next"]


def compare_with_csv(client: Client, letter) -> dict:
    """Both lists streamed side by side: constant memory at a million rows."""
    started = time.perf_counter()
    url = reverse("api:letter-signatures", args=[letter.slug]) + f"?page_size={WALK_PAGE}"
    pages = [0]
    api_rows, csv_rows = _api_rows(client, url, pages), _csv_rows(client, letter)
    compared, first_difference = 0, None
    sentinel = object()
    while True:
        api_row, csv_row = next(api_rows, sentinel), next(csv_rows, sentinel)
        if api_row is sentinel and csv_row is sentinel:
            break
        if api_row != csv_row:
            first_difference = {
                "row": compared + 1,
                "api": None if api_row is sentinel else api_row,
                "csv": None if csv_row is sentinel else csv_row,
            }
            break
        compared += 1
    return {
        "equal": first_difference is None,
        "rows": compared,
        "api_pages": pages[0],
        "first_difference": first_difference,
        "seconds": time.perf_counter() - started,
    }


def measure_api(client: Client, letter, runs: int, cache_off) -> dict:
    """Every API figure for ``letter``; ``cache_off`` is the bench's page-cache switch."""
    first = reverse("api:letter-signatures", args=[letter.slug])
    cursor, position = deep_cursor(letter)
    urls = {"first": first, "deep": f"{first}?after={cursor}"}
    with NO_LIMIT, cache_off():
        queries = {name: _queries(client, url) for name, url in urls.items()}
        timed = time_pages(client, urls, runs)
        equality = compare_with_csv(client, letter)
    return {
        "deep_position": position,
        "queries": {name: q for name, (q, _rows) in queries.items()},
        "rows": {name: rows for name, (_q, rows) in queries.items()},
        "pages": timed,
        "deep_vs_first": timed["deep"]["p50_ms"] / timed["first"]["p50_ms"],
        "csv": equality,
    }


def report_rows(api: dict, row, fmt) -> list[tuple]:
    first, deep = api["pages"]["first"], api["pages"]["deep"]
    queries_hold = api["queries"]["first"] == api["queries"]["deep"]
    csv_result = api["csv"]
    difference = csv_result["first_difference"]
    verdict = "equal" if difference is None else f"differ at row {difference['row']:,}"
    return [
        row(
            f"API signatures, first page ({api['rows']['first']} rows), p50 / p95 ms",
            f"{first['p50_ms']:.1f} / {first['p95_ms']:.1f}",
        ),
        row(
            f"API signatures, page after row {api['deep_position']:,} "
            f"({api['rows']['deep']} rows), p50 / p95 ms",
            f"{deep['p50_ms']:.1f} / {deep['p95_ms']:.1f}",
        ),
        row(
            "API deep page vs first page (p50)",
            fmt(api["deep_vs_first"]),
            "≤ 2",
            api["deep_vs_first"] <= 2,
        ),
        row(
            "API queries, first / deep page",
            f"{api['queries']['first']} / {api['queries']['deep']}",
            "equal",
            queries_hold,
        ),
        row(
            f"API list = CSV, row for row ({csv_result['rows']:,} rows, "
            f"{csv_result['api_pages']:,} pages of {WALK_PAGE}, {csv_result['seconds']:.0f} s)",
            verdict,
            "equal",
            csv_result["equal"],
        ),
    ]

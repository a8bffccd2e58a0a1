"""A country's page for ``make bench`` (``bench/run.py`` calls ``measure_country``):

the page of the country with most signatures on the public letters, its first page
against a deep one — a cursor for the row half-way down that country's signatures on the
largest letter, as following "Next →" would reach — server time (p50 and p95, page cache
off, the two alternating) and SQL queries of each. Its counts come from the letters'
tallies and its list is paged by cursor across letters (``signatories.paging.page_across``),
so both pages should cost the same.
"""

import re

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.api import time_pages
from signatories.models import LIST_ORDER, Signature
from signatories.paging import encode_cursor
from signatories.tallies import public_country_rows, public_rows_by_letter


def deep_url(code: str, letter) -> tuple[str, int]:
    """The country's page after the row half-way down its signatures on ``letter``
    (found once, by offset: set-up, not measured), and that row's place in the list."""
    per_page = settings.SIGNATURES_PER_PAGE
    before, here = 0, 0
    for letter_id, rows in public_rows_by_letter(country=code):
        count = sum(row.count for row in rows)
        if letter_id == letter.pk:
            here = count
            break
        before += count
    signatures = (
        Signature.objects.public()
        .filter(letter=letter, signatory__country=code)
        .order_by(*LIST_ORDER)
        .only("pk", "letter_id", "list_rank", "sort_name")
    )
    position = before + here // 2
    middle = signatures[here // 2]
    cursor = encode_cursor(middle, position // per_page + 2, across_letters=True)
    url = reverse("signatories:country_detail", args=[code])
    return f"{url}?after={cursor}", position


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response.content.decode()


def _inspect(client: Client, url: str) -> dict:
    with CaptureQueriesContext(connection) as captured:
        html = _get(client, url)
    table = html.partition('<table class="signatories">')[2].partition("</table>")[0]
    return {
        "queries": len(captured.captured_queries),
        "rows": max(0, table.count("<tr>") - 1),  # less the header row
        "next_is_cursor": re.search(r'<a href="\?[^"]*after=[^"]*" rel="next">', html) is not None,
    }


def measure_country(client: Client, letter, runs: int, cache_off) -> dict:
    """The country page's figures; ``letter`` is the largest letter (where the deep page
    is), ``cache_off`` the bench's page-cache switch."""
    code = next(row.code for row in public_country_rows() if row.code)
    first = reverse("signatories:country_detail", args=[code])
    deep, position = deep_url(code, letter)
    urls = {"first": first, "deep": deep}
    with cache_off():
        inspected = {name: _inspect(client, url) for name, url in urls.items()}
        timed = time_pages(client, urls, runs, get=_get)
    pages = {name: {**timed[name], **inspected[name]} for name in urls}
    return {
        "country": code,
        "deep_position": position,
        "pages": pages,
        "deep_vs_first": pages["deep"]["p50_ms"] / pages["first"]["p50_ms"],
    }


def report_rows(country: dict, row, fmt) -> list[tuple]:
    first, deep = country["pages"]["first"], country["pages"]["deep"]
    name = f"country page ({country['country']})"
    return [
        row(
            f"{name}, first page ({first['rows']} rows), p50 / p95 ms",
            f"{first['p50_ms']:.1f} / {first['p95_ms']:.1f}",
        ),
        row(
            f"{name}, page after row {country['deep_position']:,} ({deep['rows']} rows), "
            "p50 / p95 ms",
            f"{deep['p50_ms']:.1f} / {deep['p95_ms']:.1f}",
        ),
        row(
            f"{name}, deep page vs first page (p50)",
            fmt(country["deep_vs_first"]),
            "≤ 2",
            country["deep_vs_first"] <= 2,
        ),
        row(
            f"{name}, queries, first / deep page",
            f"{first['queries']} / {deep['queries']}",
            "equal, ≤ 8",
            first["queries"] == deep["queries"] <= 8,
        ),
    ]

"""Keyset pages of a letter's signatory list: every signature once, in display order, at
the same cost on page 1 and deep in the list."""

import base64
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signatories.models import ListMark, Signature, list_sort_key
from signatories.paging import decode_cursor, encode_cursor
from signatories.tallies import reconcile
from tests.factories import make_many_signatures
from tests.helpers import next_page_query, previous_page_query, table_rows

pytestmark = pytest.mark.django_db

PER_PAGE = settings.SIGNATURES_PER_PAGE


def walk(client, letter, query: str = "") -> list[list[list[str]]]:
    """Every page's table rows, following the "Next" links from ``query``."""
    pages, url = [], letter.get_absolute_url() + query
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(table_rows(response))
        following = next_page_query(response)
        url = letter.get_absolute_url() + following if following else None
    return pages


def test_following_next_lists_every_signature_once_in_display_order(client, letter):
    make_many_signatures(letter, 2 * PER_PAGE + 17)

    pages = walk(client, letter)

    assert [len(page) for page in pages] == [PER_PAGE, PER_PAGE, 17]
    names = [row[0] for page in pages for row in page]
    in_order = Signature.objects.public_on(letter).select_related("signatory").in_display_order()
    assert len(names) == in_order.count()
    # Named ones by the name shown; the rest (initials, anonymous) after them.
    shown = [
        s.public_name or f"Anonymous {s.signatory.get_category_display().lower()}" for s in in_order
    ]
    assert names == shown


def test_previous_link_returns_the_page_before(client, letter):
    make_many_signatures(letter, 3 * PER_PAGE)
    first, second, third = walk(client, letter)
    second_url = letter.get_absolute_url() + next_page_query(client.get(letter.get_absolute_url()))
    third_url = letter.get_absolute_url() + next_page_query(client.get(second_url))

    back = client.get(letter.get_absolute_url() + previous_page_query(client.get(third_url)))

    assert table_rows(back) == second
    assert "Page 2 of 3" in back.content.decode()


def test_pages_reached_by_cursor_say_where_they_are(client, letter):
    make_many_signatures(letter, 2 * PER_PAGE + 1)
    second = client.get(
        letter.get_absolute_url() + next_page_query(client.get(letter.get_absolute_url()))
    )

    assert "Page 2 of 3" in second.content.decode()


def test_filters_hold_across_cursor_pages(client, letter):
    make_many_signatures(letter, 4 * PER_PAGE, countries=("GB", "FR"))

    pages = walk(client, letter, "?country=FR")

    assert {row[2] for page in pages for row in page} == {"France"}
    assert sum(len(page) for page in pages) == 2 * PER_PAGE


def forged(raw: str) -> str:
    """A cursor as a forger would build one: any JSON, encoded as the site's are."""
    return base64.urlsafe_b64encode(raw.encode("utf-8", "surrogatepass")).decode().rstrip("=")


FORGED_CURSORS = [
    "garbage",
    "e30",
    "WzEsMiwzXQ",
    "W1siYSJdLCAiYiIsIDEsIDFd",
    "%00",
    forged('[1, "a\\u0000b", 1, 2]'),  # NUL: PostgreSQL refuses it in a string
    forged('[1, "\\ud800", 1, 2]'),  # a lone surrogate: no database can encode it
    forged('[1, "\ud800", 1, 2]'),  # the same, raw in the JSON bytes
    forged('[1, "a", 99999999999999999999999999, 2]'),
    forged('[1, "a", 1, 99999999999]'),
    forged('[1, "a", -5, 2]'),
    forged('[1e400, "a", 1, 2]'),
    forged('[true, "a", 1, 2]'),
    forged('[1, ["a"], 1, 2]'),
    forged('[1, "a", 1, "2"]'),
    forged('[1, "a", 1, 2, 3]'),
    forged('{"rank": 1}'),
    forged('"[1, \\"a\\", 1, 2]"'),
    forged('[1, "%s", 1, 2]' % ("x" * 5000)),
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_broken_or_forged_cursor_shows_the_first_page_with_a_message(
    client, letter, cursor, direction
):
    make_many_signatures(letter, PER_PAGE + 5)
    first = table_rows(client.get(letter.get_absolute_url()))

    response = client.get(letter.get_absolute_url() + f"?{direction}={cursor}")

    assert response.status_code == 200
    assert "That page link was not understood" in response.content.decode()
    assert table_rows(response) == first


# Page numbers: any page at the cost of the first


@pytest.mark.slow
def test_every_page_number_shows_the_page_the_next_links_reach(client, letter):
    make_many_signatures(letter, 2 * ListMark.MARK_EVERY + 3 * PER_PAGE + 7)

    pages = walk(client, letter)

    assert len(pages) == 24
    for number, page in enumerate(pages, start=1):
        response = client.get(letter.get_absolute_url() + f"?page={number}")
        assert table_rows(response) == page, number
        assert f"Page {number} of 24" in response.content.decode()


def test_a_deep_page_number_reads_no_further_than_a_mark_and_one_short_offset(client, letter):
    make_many_signatures(letter, 3 * ListMark.MARK_EVERY)
    last = 3 * ListMark.MARK_EVERY // PER_PAGE

    with CaptureQueriesContext(connection) as first:
        client.get(letter.get_absolute_url())
    with CaptureQueriesContext(connection) as deep:
        response = client.get(letter.get_absolute_url() + f"?page={last}")

    assert f"Page {last} of {last}" in response.content.decode()
    assert len(table_rows(response)) == PER_PAGE
    assert len(deep) == len(first) + 1  # the mark
    offsets = [
        int(offset)
        for query in deep.captured_queries
        for offset in re.findall(r"OFFSET (\d+)", query["sql"])
    ]
    assert offsets and max(offsets) < ListMark.MARK_EVERY


def test_page_numbers_follow_signatures_added_since_the_marks_were_made(client, letter):
    make_many_signatures(letter, 2 * ListMark.MARK_EVERY)
    make_many_signatures(letter, 3)  # recounted and re-marked at once in tests
    pages = walk(client, letter)

    response = client.get(letter.get_absolute_url() + f"?page={len(pages)}")

    assert table_rows(response) == pages[-1]


def test_a_deep_page_number_of_a_filtered_list_shows_the_first_page_with_a_message(client, letter):
    make_many_signatures(letter, 2 * ListMark.MARK_EVERY + PER_PAGE, countries=("GB",))
    first = table_rows(client.get(letter.get_absolute_url() + "?country=GB"))

    response = client.get(letter.get_absolute_url() + "?country=GB&page=15")

    assert response.status_code == 200
    assert "Page numbers that deep can" in response.content.decode()
    assert table_rows(response) == first
    assert "Page 1 of" in response.content.decode()


def test_a_filtered_list_reads_its_first_pages_by_number(client, letter):
    make_many_signatures(letter, 6 * PER_PAGE, countries=("GB", "FR"))
    pages = walk(client, letter, "?country=FR")

    response = client.get(letter.get_absolute_url() + "?country=FR&page=3")

    assert table_rows(response) == pages[2]


def test_cursors_hold_only_the_public_sort_key(letter):
    make_many_signatures(letter, 8)
    for signature in Signature.objects.filter(letter=letter).select_related("signatory"):
        rank, name, pk, number = decode_cursor(encode_cursor(signature, 3))

        assert (rank, name, pk, number) == (
            signature.list_rank,
            signature.sort_name,
            signature.pk,
            3,
        )
        if signature.public_name:
            assert name == signature.public_name.lower()
        else:
            assert name == ""


def test_a_page_deep_in_the_list_runs_the_same_queries_as_the_first(client, letter):
    make_many_signatures(letter, 6 * PER_PAGE)
    url = letter.get_absolute_url()
    for _ in range(4):
        url = letter.get_absolute_url() + next_page_query(client.get(url))

    with CaptureQueriesContext(connection) as first:
        client.get(letter.get_absolute_url())
    with CaptureQueriesContext(connection) as deep:
        response = client.get(url)

    assert "Page 5 of 6" in response.content.decode()
    assert len(deep) == len(first) <= 8
    assert not any("OFFSET" in query["sql"] for query in deep.captured_queries)


def test_stored_sort_keys_match_the_signatures(letter):
    make_many_signatures(letter, 40)

    for signature in Signature.objects.filter(letter=letter).select_related("signatory"):
        assert (signature.list_rank, signature.sort_name) == list_sort_key(
            kind=signature.signatory.kind, display=signature.display, name=signature.signatory.name
        )


def test_reconcile_counts_makes_missing_list_marks_and_deep_page_numbers_work_again(client, letter):
    make_many_signatures(letter, 2 * ListMark.MARK_EVERY + PER_PAGE)
    pages = walk(client, letter)
    ListMark.objects.filter(letter=letter).delete()  # as after deploying the marks
    refused = client.get(letter.get_absolute_url() + "?page=15")
    assert "can't be looked up until the list is next counted" in refused.content.decode()

    (drift,) = reconcile()

    assert drift.marks_differ
    assert table_rows(client.get(letter.get_absolute_url() + "?page=15")) == pages[14]
    assert reconcile() == []

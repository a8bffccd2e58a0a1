"""Keyset pages of a letter's signatory list: every signature once, in display order, at
the same cost on page 1 and deep in the list."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signatories.models import Signature, list_sort_key
from signatories.paging import decode_cursor, encode_cursor
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
    in_order = Signature.objects.published_on(letter).select_related("signatory").in_display_order()
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


@pytest.mark.parametrize(
    "cursor", ["garbage", "e30", "WzEsMiwzXQ", "W1siYSJdLCAiYiIsIDEsIDFd", "%00"]
)
def test_a_broken_cursor_shows_the_first_page_with_a_message(client, letter, cursor):
    make_many_signatures(letter, PER_PAGE + 5)
    first = table_rows(client.get(letter.get_absolute_url()))

    response = client.get(letter.get_absolute_url() + f"?after={cursor}")

    assert response.status_code == 200
    assert "That page link was not understood" in response.content.decode()
    assert table_rows(response) == first


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

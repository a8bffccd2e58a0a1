"""A country's page reads its counts from the letters' tallies and pages its list by
cursor across letters (``signatories.paging.page_across``): the same queries on the first
page and a deep one, at a few signatures or many; every signature reached once, in order;
no hidden name on any page; damaged links answered with the first page, never an error."""

import base64
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatories.models import Display, ListMark, Signature
from signatories.paging import encode_cursor
from tests.factories import make_letter, make_many_signatures, make_person, make_signature
from tests.helpers import next_page_query, previous_page_query, table_rows
from tests.test_paging import FORGED_CURSORS

pytestmark = pytest.mark.django_db

PER_PAGE = settings.SIGNATURES_PER_PAGE
COUNTRY_PAGE_QUERY_LIMIT = 2  # the public letters' tallies, and the page's rows


def country_url(code: str = "GB", query: str = "") -> str:
    return reverse("signatories:country_detail", args=[code]) + query


def walk(client, code: str = "GB") -> list[list[list[str]]]:
    """Every page's table rows, following the "Next" links from the first page."""
    pages, url = [], country_url(code)
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(table_rows(response))
        following = next_page_query(response)
        url = country_url(code, following) if following else None
    return pages


def expected_rows(code: str = "GB") -> list[list[str]]:
    """The country's public signatures as the page shows them: letters by title, each in
    its list order, computed here by sorting the whole list as the old page did."""
    signatures = (
        Signature.objects.public()
        .filter(signatory__country=code)
        .select_related("signatory", "letter")
        .in_display_order("letter__title", "letter")
    )
    return [
        [
            s.public_name or f"Anonymous {s.signatory.get_category_display().lower()}",
            s.signatory.get_category_display(),
            s.letter.title,
        ]
        for s in signatures
    ]


def three_letters(per_letter: tuple[int, int, int]) -> None:
    """Letters whose titles sort in another order than they were made in, with as many
    signatures from GB each (and as many from FR)."""
    titles = ("Zebra letter", "Apple letter", "Mango letter")
    for title, count in zip(titles, per_letter, strict=True):
        if count:
            make_many_signatures(make_letter(title=title), 2 * count, countries=("GB", "FR"))


def queries_of(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in captured.captured_queries]


def deep_url(client, steps: int) -> str:
    url = country_url()
    for _ in range(steps):
        url = country_url(query=next_page_query(client.get(url)))
    return url


def test_following_next_lists_every_signature_once_letter_by_letter_in_order(client):
    # Pages start and end inside letters and cross from one to the next.
    three_letters((2 * PER_PAGE + 7, 23, PER_PAGE + 31))

    pages = walk(client)

    rows = [row for page in pages for row in page]
    assert rows == expected_rows()
    assert [len(page) for page in pages[:-1]] == [PER_PAGE] * (len(pages) - 1)
    assert {row[2] for row in rows} == {"Zebra letter", "Apple letter", "Mango letter"}


def test_previous_links_walk_back_through_the_same_pages(client):
    three_letters((PER_PAGE + 3, 5, PER_PAGE))
    forward = walk(client)
    url = deep_url(client, len(forward) - 1)

    backward = []
    while url:
        response = client.get(url)
        backward.append(table_rows(response))
        previous = previous_page_query(response)
        url = country_url(query=previous) if previous else None

    assert backward[::-1] == forward
    assert f"Page 1 of {len(forward)}" in response.content.decode()


def test_page_numbers_show_the_pages_the_next_links_reach(client):
    three_letters((PER_PAGE + 3, 5, PER_PAGE))

    pages = walk(client)

    for number, page in enumerate(pages, start=1):
        response = client.get(country_url(query=f"?page={number}"))
        assert table_rows(response) == page, number
        assert f"Page {number} of {len(pages)}" in response.content.decode()


def test_a_page_number_deeper_than_the_marks_shows_the_first_page_with_a_message(client):
    make_many_signatures(make_letter(), ListMark.MARK_EVERY + 2 * PER_PAGE, countries=("GB",))
    deep = ListMark.MARK_EVERY // PER_PAGE + 2

    response = client.get(country_url(query=f"?page={deep}"))

    assert response.status_code == 200
    assert "Page numbers that deep can't be looked up" in response.content.decode()
    assert table_rows(response) == expected_rows()[:PER_PAGE]


@pytest.mark.parametrize("count", [3, 3 * PER_PAGE], ids=["few", "many"])
def test_first_and_deep_pages_run_the_same_queries_at_few_and_many_signatures(client, count):
    make_many_signatures(make_letter(title="Small letter"), 3, countries=("GB",))
    first_few = queries_of(client, country_url())
    make_many_signatures(make_letter(title="Big letter"), count, countries=("GB",))
    make_many_signatures(make_letter(title="Other letter"), count, countries=("GB", "FR"))

    first_many = queries_of(client, country_url())
    deep = queries_of(client, deep_url(client, 2)) if count > PER_PAGE else first_many

    assert len(first_few) == len(first_many) == len(deep) <= COUNTRY_PAGE_QUERY_LIMIT, "\n".join(
        deep
    )
    assert not any("OFFSET" in sql for sql in deep)
    assert not any("COUNT(" in sql.upper() for sql in first_many + deep)


def test_counts_are_the_tallies_not_a_live_count(client):
    """Like the letter page, the page reads stored counts: a change the tally has not
    counted yet shows in the list at once and in the figures after the refresh."""
    letter = make_letter()
    make_many_signatures(letter, 8, countries=("GB",))
    Signature.objects.filter(letter=letter).update(status=Signature.Status.HIDDEN)  # no refresh

    html = client.get(country_url()).content.decode()

    assert "8 signatures" in html
    assert table_rows(client.get(country_url())) == []


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_broken_or_forged_cursor_shows_the_first_page_with_a_message(client, cursor, direction):
    three_letters((PER_PAGE + 5, 0, 0))
    first = table_rows(client.get(country_url()))

    response = client.get(country_url(query=f"?{direction}={cursor}"))

    assert response.status_code == 200
    assert "That page link was not understood" in response.content.decode()
    assert table_rows(response) == first


def test_a_letter_pages_cursor_or_one_for_a_letter_not_listed_is_refused(client):
    shown = make_letter(title="Shown")
    make_many_signatures(shown, PER_PAGE + 5, countries=("GB",))
    elsewhere = make_letter(title="Elsewhere")
    other = make_signature(elsewhere, make_person("Only French", country="FR"))
    signature = Signature.objects.filter(letter=shown).first()
    cursors = [
        encode_cursor(signature, 2),  # the letter page's kind: no letter in it
        encode_cursor(other, 2, across_letters=True),  # a letter with nobody from GB
    ]

    for cursor in cursors:
        response = client.get(country_url(query=f"?after={cursor}"))
        assert response.status_code == 200
        assert "That page link was not understood" in response.content.decode()


def test_no_page_shows_a_hidden_name(client):
    letters = [make_letter(title=f"Letter {n}") for n in range(3)]
    for letter in letters:
        make_many_signatures(letter, PER_PAGE, countries=("GB",))
    hidden = {
        Display.FIRST_NAME: "Zanzibarova",
        Display.INITIALS: "Quetzalcoatl",
        Display.ANONYMOUS: "Xylophonist",
    }
    for letter in letters:
        for display, surname in hidden.items():
            signatory = make_person(f"Hidden {surname}", country="GB")
            make_signature(letter, signatory, display=display)

    pages, url = [], country_url()
    while url:
        response = client.get(url)
        pages.append(response.content.decode())
        following = next_page_query(response)
        url = country_url(query=following) if following else None
    pages.append(client.get(country_url(query="?page=2")).content.decode())

    assert len(pages) > 3
    for page in pages:
        for surname in hidden.values():
            assert surname not in page
            assert surname.lower() not in page
    # The cursors in the links hold only names as shown: decode every link.
    links = [link for page in pages for link in re.findall(r"(?:after|before)=([\w-]+)", page)]
    assert links
    for link in links:
        raw = base64.urlsafe_b64decode(link + "=" * (-len(link) % 4)).decode()
        for surname in hidden.values():
            assert surname.lower() not in raw

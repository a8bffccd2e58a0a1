"""``signatories.counts``: one row shape, one GROUP BY, one way to sum, and every page
that shows a count agreeing with it."""

import datetime
import re

import pytest
from django.urls import reverse

from signatories.counts import CountRow, count_rows, matching, stored_rows, sums, tally_rows
from signatories.models import Category, LetterTally, SignatoryKind, Signature, Verification
from tests.factories import make_letter, make_many_signatures, make_person, make_signature
from tests.helpers import table_rows

pytestmark = pytest.mark.django_db

ORG, PERSON = SignatoryKind.ORGANISATION, SignatoryKind.INDIVIDUAL


@pytest.fixture
def letter():
    """Two GB charities (one checked by staff), a French survivor, a person with no
    country, and a hidden signature that must not count."""
    letter = make_letter()
    make_signature(letter)
    make_signature(
        letter,
        verification=Verification.STAFF_VETTED,
        verified_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    make_signature(letter, make_person("Ada", country="FR"))
    make_signature(letter, make_person("Nobody", country=""))
    make_signature(letter, make_person("Hidden", country="DE"), status=Signature.Status.HIDDEN)
    return letter


def published(letter):
    return Signature.objects.filter(letter=letter, status=Signature.Status.PUBLISHED)


def test_count_rows_groups_by_kind_category_country_and_verification_in_order(letter):
    assert count_rows(published(letter)) == [
        CountRow(PERSON, Category.SURVIVOR, "", Verification.UNVERIFIED, 1),
        CountRow(PERSON, Category.SURVIVOR, "FR", Verification.UNVERIFIED, 1),
        CountRow(ORG, Category.CHARITY, "GB", Verification.STAFF_VETTED, 1),
        CountRow(ORG, Category.CHARITY, "GB", Verification.UNVERIFIED, 1),
    ]


def test_a_tally_stores_the_rows_as_documented_lists_and_reads_them_back(letter):
    stored = LetterTally.objects.filter(letter=letter).values_list("breakdown", flat=True).get()

    assert stored == [list(row) for row in count_rows(published(letter))]
    assert stored[0] == ["individual", "survivor", "", "unverified", 1]
    assert stored_rows(stored) == count_rows(published(letter))
    assert tally_rows(LetterTally.objects.get(letter=letter)) == stored_rows(stored)
    assert tally_rows(None) == []


def test_sums_add_the_rows_up_every_way(letter):
    summed = sums(count_rows(published(letter)))

    assert (summed.total, summed.organisations, summed.individuals) == (4, 2, 2)
    assert summed.countries == 2  # GB and FR; no country is not a country
    assert summed.by_country == {"GB": 2, "FR": 1, "": 1}
    assert summed.by_category == {(ORG, Category.CHARITY): 2, (PERSON, Category.SURVIVOR): 2}
    assert summed.by_verification == {Verification.UNVERIFIED: 3, Verification.STAFF_VETTED: 1}


def test_matching_counts_rows_with_every_value_given(letter):
    rows = count_rows(published(letter))

    assert matching(rows) == 4
    assert matching(rows, kind=ORG) == 2
    assert matching(rows, kind=ORG, verification=Verification.STAFF_VETTED) == 1
    assert matching(rows, country="FR", kind=ORG) == 0
    assert matching(rows, country="", category="") == 4  # an empty value is no filter


def figure(html: str, pattern: str) -> int:
    match = re.search(pattern, html)
    assert match, pattern
    return int(match.group(1).replace(",", ""))


def test_every_page_gives_a_country_the_same_count(client):
    letters = [make_letter(), make_letter()]
    for letter in letters:
        make_many_signatures(letter, 37, countries=("GB", "FR", "DE"))
    live = Signature.objects.public().filter(signatory__country="FR").count()

    country_page = client.get(reverse("signatories:country_detail", args=["FR"])).content
    country_list = client.get(reverse("signatories:country_list"))
    api_letters = [
        client.get(reverse("api:letter-detail", args=[letter.slug])).json() for letter in letters
    ]

    assert figure(country_page.decode(), r"([\d,]+) signatures?:") == live
    assert [row[1] for row in table_rows(country_list, "listing") if "France" in row[0]] == [
        str(live)
    ]
    assert live == sum(
        row["count"]
        for api in api_letters
        for row in api["counts"]["by_country"]
        if row["country_code"] == "FR"
    )

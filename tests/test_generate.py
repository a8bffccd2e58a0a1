"""``generate_signatures``: obviously synthetic signatures in bulk, right down to their
sort keys and counts (PostgreSQL writes them with COPY, SQLite with bulk_create)."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from signatories.models import (
    INDIVIDUAL_CATEGORIES,
    ORGANISATION_CATEGORIES,
    Display,
    LetterTally,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    list_sort_key,
)
from signatories.tallies import reconcile
from tests.factories import make_letter, make_signature
from tests.helpers import table_rows

pytestmark = pytest.mark.django_db

COUNT = 250
SYNTHETIC_NAME = re.compile(r"Synthetic Signatory \d{7}")


def generate(letter, count=COUNT) -> str:
    out = io.StringIO()
    call_command("generate_signatures", letter.slug, str(count), stdout=out)
    return out.getvalue()


def test_generates_published_signatures_by_new_synthetic_signatories(letter):
    output = generate(letter)

    signatures = Signature.objects.filter(letter=letter).select_related("signatory")
    assert signatures.count() == COUNT
    assert {s.status for s in signatures} == {SignatureStatus.PUBLISHED}
    assert all(SYNTHETIC_NAME.fullmatch(s.signatory.name) for s in signatures)
    assert Signatory.objects.count() == COUNT
    assert f"Added {COUNT} synthetic signatures" in output


def test_generated_sort_keys_are_what_list_sort_key_computes(letter):
    generate(letter)

    for signature in Signature.objects.filter(letter=letter).select_related("signatory"):
        expected = list_sort_key(
            kind=signature.signatory.kind, display=signature.display, name=signature.signatory.name
        )
        assert (signature.list_rank, signature.sort_name) == expected


def test_generated_rows_spread_over_kinds_countries_displays_and_statements(letter):
    generate(letter)

    signatures = list(Signature.objects.filter(letter=letter).select_related("signatory"))
    assert {s.signatory.kind for s in signatures} == set(SignatoryKind)
    assert {s.display for s in signatures} == set(Display)
    assert len({s.signatory.country.code for s in signatures}) >= 10
    assert len({s.signatory.category for s in signatures}) >= 6
    assert any(s.statement for s in signatures)
    for signature in signatures:
        signatory = signature.signatory
        if signatory.kind == SignatoryKind.ORGANISATION:
            assert signatory.category in ORGANISATION_CATEGORIES
            assert signature.display == Display.FULL
        else:
            assert signatory.category in INDIVIDUAL_CATEGORIES


def test_the_letter_page_lists_generated_signatures_in_sort_key_order(client, letter):
    generate(letter)

    response = client.get(letter.get_absolute_url())

    signatures = Signature.objects.filter(letter=letter).select_related("signatory")
    expected = sorted(
        signatures,
        key=lambda s: (
            *list_sort_key(kind=s.signatory.kind, display=s.display, name=s.signatory.name),
            s.pk,
        ),
    )[:50]
    shown = [row[0] for row in table_rows(response)]
    assert shown == [
        f"Anonymous {s.signatory.get_category_display().lower()}"
        if s.display == Display.ANONYMOUS
        else s.public_name
        for s in expected
    ]
    assert all(name.startswith(("Synthetic", "S. S.", "Anonymous")) for name in shown)


def test_counts_equal_the_generated_number_and_do_not_drift(letter):
    make_signature(letter)

    generate(letter)

    assert LetterTally.objects.get(letter=letter).total == COUNT + 1
    assert reconcile(fix=False) == []


def test_each_run_numbers_on_so_slugs_never_clash():
    first, second = make_letter(), make_letter()

    generate(first, 30)
    output = generate(second, 20)

    slugs = list(Signatory.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == 50
    assert "Synthetic Signatory 0000031 to 0000050" in output


def test_writes_no_change_history(letter):
    generate(letter, 20)

    assert Signatory.history.count() == 0
    assert Signature.history.count() == 0


def test_refuses_an_unknown_letter():
    with pytest.raises(CommandError, match="No letter with the slug “no-such-letter”"):
        call_command("generate_signatures", "no-such-letter", "10")


@pytest.mark.parametrize("count", ["0", "-5"])
def test_refuses_a_count_that_is_not_positive(letter, count):
    with pytest.raises(CommandError, match="positive"):
        call_command("generate_signatures", letter.slug, count)

    assert not Signature.objects.exists()

"""Invariants the database itself enforces, and the models' own small rules."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from letters.models import Addressee, Letter, LetterSource, Recipient
from signatories.models import (
    INDIVIDUAL_CATEGORIES,
    ORGANISATION_CATEGORIES,
    Category,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
)
from tests.factories import (
    make_addressee,
    make_letter,
    make_person,
    make_recipient,
    make_signatory,
    make_signature,
)

pytestmark = pytest.mark.django_db

ONLY_INDIVIDUAL = sorted(set(INDIVIDUAL_CATEGORIES) - set(ORGANISATION_CATEGORIES))
ONLY_ORGANISATION = sorted(set(ORGANISATION_CATEGORIES) - set(INDIVIDUAL_CATEGORIES))


def refused(statement):
    """Whether the database refuses ``statement``; the rollback keeps the test usable."""
    try:
        with transaction.atomic():
            statement()
    except IntegrityError:
        return True
    return False


# One signature per signatory per letter -------------------------------------------------


def test_second_signature_by_the_same_signatory_on_a_letter_is_refused(letter):
    signatory = make_signatory()
    make_signature(letter, signatory)

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(letter=letter, signatory=signatory)

    assert Signature.objects.filter(letter=letter, signatory=signatory).count() == 1


def test_same_signatory_may_sign_two_different_letters(letter):
    signatory = make_signatory()
    make_signature(letter, signatory)

    make_signature(make_letter(), signatory)

    assert signatory.signatures.count() == 2


def test_second_addressee_for_the_same_recipient_on_a_letter_is_refused(letter):
    recipient = make_recipient()
    make_addressee(letter, recipient)

    assert refused(lambda: make_addressee(letter, recipient))


def test_same_source_url_twice_on_a_letter_is_refused(letter):
    LetterSource.objects.create(letter=letter, title="A", url="https://example.org/a")

    assert refused(
        lambda: LetterSource.objects.create(letter=letter, title="B", url="https://example.org/a")
    )


# Allowed values -----------------------------------------------------------------------------


def _rows():
    letter = make_letter()
    signatory = make_signatory()
    return {
        "letter": letter,
        "recipient": make_recipient(),
        "addressee": make_addressee(letter),
        "source": LetterSource.objects.create(
            letter=letter, title="Coverage", url="https://example.org/c"
        ),
        "signatory": signatory,
        "signature": make_signature(letter, signatory),
    }


FIELDS_WITH_CHOICES = [
    ("letter", "status"),
    ("letter", "published_on_precision"),
    ("recipient", "kind"),
    ("addressee", "response_status"),
    ("source", "kind"),
    ("signatory", "kind"),
    ("signature", "status"),
    ("signature", "display"),
    ("signature", "source"),
]


@pytest.mark.parametrize(("row", "field"), FIELDS_WITH_CHOICES)
def test_update_to_a_value_outside_the_choices_is_refused(row, field):
    obj = _rows()[row]
    model = type(obj)

    assert refused(lambda: model.objects.filter(pk=obj.pk).update(**{field: "bogus"}))

    obj.refresh_from_db()
    assert getattr(obj, field) != "bogus"


@pytest.mark.parametrize(("row", "field"), FIELDS_WITH_CHOICES)
def test_update_to_a_listed_choice_is_accepted(row, field):
    obj = _rows()[row]
    model = type(obj)
    value = next(v for v in model._meta.get_field(field).choices if v[0] != getattr(obj, field))[0]
    if (row, field) == ("signatory", "kind"):
        # Changing kind alone would break the category rule tested below.
        update = {"kind": value, "category": Category.OTHER}
    else:
        update = {field: value}

    assert not refused(lambda: model.objects.filter(pk=obj.pk).update(**update))

    obj.refresh_from_db()
    assert getattr(obj, field) == value


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Letter, {"title": "T", "slug": "t", "summary": "S", "status": "published"}),
        (Recipient, {"name": "R", "slug": "r", "kind": "charity"}),
        (Signatory, {"name": "N", "slug": "n", "kind": "robot", "category": "other"}),
    ],
    ids=["letter-status", "recipient-kind", "signatory-kind"],
)
def test_create_with_a_value_outside_the_choices_is_refused(model, fields):
    assert refused(lambda: model.objects.create(**fields))
    assert not model.objects.filter(slug=fields["slug"]).exists()


@pytest.mark.parametrize(
    "fields",
    [{"status": "approved"}, {"display": "surname"}, {"source": "scraper"}],
    ids=["status", "display", "source"],
)
def test_signature_created_with_a_value_outside_the_choices_is_refused(letter, fields):
    assert refused(lambda: make_signature(letter, **fields))
    assert not Signature.objects.exists()


def test_addressee_created_with_an_unknown_response_status_is_refused(letter):
    assert refused(lambda: make_addressee(letter, response_status="ignored"))
    assert not Addressee.objects.exists()


# A category must fit the signatory's kind -------------------------------------------------


@pytest.mark.parametrize("category", ONLY_ORGANISATION)
def test_individual_with_an_organisation_category_is_refused(category):
    assert refused(lambda: make_person("Ann Example", category=category))
    assert not Signatory.objects.exists()


@pytest.mark.parametrize("category", ONLY_INDIVIDUAL)
def test_organisation_with_an_individual_category_is_refused(category):
    assert refused(lambda: make_signatory(kind=SignatoryKind.ORGANISATION, category=category))
    assert not Signatory.objects.exists()


def test_changing_an_organisation_into_an_individual_keeping_its_category_is_refused():
    charity = make_signatory(kind=SignatoryKind.ORGANISATION, category=Category.CHARITY)

    assert refused(
        lambda: Signatory.objects.filter(pk=charity.pk).update(kind=SignatoryKind.INDIVIDUAL)
    )


@pytest.mark.parametrize("kind", SignatoryKind.values)
def test_other_category_is_accepted_for_either_kind(kind):
    signatory = make_signatory(kind=kind, category=Category.OTHER)

    assert Signatory.objects.get(pk=signatory.pk).category == Category.OTHER


@pytest.mark.parametrize(
    ("kind", "categories"),
    [
        (SignatoryKind.INDIVIDUAL, INDIVIDUAL_CATEGORIES),
        (SignatoryKind.ORGANISATION, ORGANISATION_CATEGORIES),
    ],
)
def test_every_category_listed_for_a_kind_is_accepted(kind, categories):
    for category in categories:
        make_signatory(kind=kind, category=category)

    assert Signatory.objects.filter(kind=kind).count() == len(categories)


# Unique slugs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [make_letter, make_recipient, make_signatory], ids=["letter", "recipient", "signatory"]
)
def test_second_row_with_a_taken_slug_is_refused(make):
    first = make(slug="taken")

    assert refused(lambda: make(slug="taken"))
    assert type(first).objects.filter(slug="taken").count() == 1


# Publication date precision ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "label"),
    [
        (Letter.DatePrecision.DAY, "5 September 2023"),
        (Letter.DatePrecision.MONTH, "September 2023"),
        (Letter.DatePrecision.YEAR, "2023"),
    ],
)
def test_published_on_label_shows_only_the_known_part_of_the_date(precision, label):
    letter = make_letter(published_on=datetime.date(2023, 9, 5), published_on_precision=precision)

    assert Letter.objects.get(pk=letter.pk).published_on_label == label


def test_published_on_label_is_empty_without_a_date():
    assert make_letter(published_on=None).published_on_label == ""


def test_letter_page_shows_publication_month_only_when_day_is_unknown(client):
    letter = make_letter(
        published_on=datetime.date(2023, 9, 5),
        published_on_precision=Letter.DatePrecision.MONTH,
    )

    content = client.get(letter.get_absolute_url()).content.decode()

    assert "Published September 2023" in content
    assert "5 September 2023" not in content


@pytest.mark.parametrize(
    ("number", "is_minimum", "label"),
    [(100, True, "more than 100"), (1234, False, "1,234"), (None, False, "")],
)
def test_reported_signatories_label_says_whether_the_figure_is_a_floor(number, is_minimum, label):
    letter = make_letter(reported_signatories=number, reported_signatories_is_minimum=is_minimum)

    assert letter.reported_signatories_label == label


# Names as the public sees them ------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "shown"),
    [
        (Display.FULL, "Grace Brewster Hopper"),
        (Display.FIRST_NAME, "Grace"),
        (Display.INITIALS, "G. B. H."),
        (Display.ANONYMOUS, ""),
    ],
)
def test_public_name_follows_the_chosen_display(letter, display, shown):
    signature = make_signature(letter, make_person("Grace Brewster Hopper"), display=display)

    assert Signature.objects.get(pk=signature.pk).public_name == shown


def test_public_name_by_first_name_of_a_one_word_name_is_that_word(letter):
    signature = make_signature(letter, make_person("Frida"), display=Display.FIRST_NAME)

    assert signature.public_name == "Frida"


@pytest.mark.parametrize("display", [Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS])
def test_public_name_never_contains_a_hidden_surname(letter, display):
    signature = make_signature(letter, make_person("Grace Hopper"), display=display)

    assert "Hopper" not in signature.public_name


# Which signatures are public --------------------------------------------------------------


def test_public_signatures_are_the_published_ones_on_published_letters():
    open_letter = make_letter(status=Letter.Status.OPEN)
    closed_letter = make_letter(status=Letter.Status.CLOSED)
    draft_letter = make_letter(status=Letter.Status.DRAFT)
    public = {
        make_signature(open_letter).pk,
        make_signature(closed_letter).pk,
    }
    for status in [
        Signature.Status.PENDING,
        Signature.Status.HIDDEN,
        Signature.Status.WITHDRAWN,
    ]:
        make_signature(open_letter, status=status)
        make_signature(closed_letter, status=status)
    make_signature(draft_letter)

    assert set(Signature.objects.public().values_list("pk", flat=True)) == public


@pytest.mark.parametrize(
    "status",
    [Signature.Status.PENDING, Signature.Status.HIDDEN, Signature.Status.WITHDRAWN],
)
def test_signature_that_is_not_published_is_not_public(letter, status):
    make_signature(letter, status=status)

    assert not Signature.objects.public().exists()


def test_published_signature_on_a_draft_letter_is_not_public():
    make_signature(make_letter(status=Letter.Status.DRAFT))

    assert not Signature.objects.public().exists()


def test_published_letters_are_open_and_closed_ones_never_drafts():
    shown = {make_letter(status=s).pk for s in (Letter.Status.OPEN, Letter.Status.CLOSED)}
    make_letter(status=Letter.Status.DRAFT)

    assert set(Letter.objects.published().values_list("pk", flat=True)) == shown

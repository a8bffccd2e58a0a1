"""One rule in one place: each rule the code and the database both apply is written once
in Python, and these tests hold the Python form equal to the SQL form on the real
database, for every combination of the values it reads."""

import datetime
import itertools

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.utils import timezone

from signatories.models import (
    Category,
    SignatoryKind,
    Signature,
    SignatureStatus,
    Source,
    category_fits_kind,
)
from tests.factories import make_signatory

pytestmark = pytest.mark.django_db

A_MOMENT = timezone.make_aware(datetime.datetime(2025, 1, 2, 3, 4, 5))

# Every combination of the fields the confirmation rules read.
SIGNATURE_STATES = [
    {"source": source, "consented_at": consented, "confirmed_at": confirmed, "status": status}
    for source, consented, confirmed, status in itertools.product(
        Source.values, [None, A_MOMENT], [None, A_MOMENT], SignatureStatus.values
    )
]


def in_sql(condition, state: dict) -> bool:
    """Whether the database finds ``condition`` true of a row holding ``state``."""
    fields = Signature._meta
    return condition.check(
        {name: Value(value, output_field=fields.get_field(name)) for name, value in state.items()}
    )


def constraint(name: str):
    return next(c for c in Signature._meta.constraints if c.name == name)


def test_awaiting_confirmation_is_one_rule_in_python_and_sql():
    seen = set()
    for state in SIGNATURE_STATES:
        found = in_sql(Signature.awaiting_confirmation(), state)
        assert Signature(**state).is_awaiting_confirmation == found, state
        seen.add(found)
    assert seen == {True, False}


def test_unconfirmed_is_one_rule_in_python_and_sql():
    seen = set()
    for state in SIGNATURE_STATES:
        found = in_sql(Signature.unconfirmed(), state)
        assert Signature(**state).is_unconfirmed == found, state
        seen.add(found)
    assert seen == {True, False}


def test_awaiting_confirmation_is_an_unconfirmed_signature_its_link_can_still_confirm():
    for state in SIGNATURE_STATES:
        signature = Signature(**state)
        can_still_confirm = state["status"] in (
            SignatureStatus.UNCONFIRMED,
            SignatureStatus.PENDING,
            SignatureStatus.HIDDEN,
        )
        assert signature.is_awaiting_confirmation == (
            signature.is_unconfirmed and can_still_confirm
        ), state


def test_the_database_refuses_to_publish_exactly_the_unconfirmed_signatures():
    published_confirmed = constraint("signature_public_form_published_confirmed").condition
    for state in SIGNATURE_STATES:
        if state["status"] != SignatureStatus.PUBLISHED:
            continue
        assert in_sql(published_confirmed, state) == (not Signature(**state).is_unconfirmed), state


def test_open_submissions_are_left_out_of_the_one_standing_signature_per_address():
    one_standing = constraint("one_standing_signature_per_email_per_letter").condition
    for state in SIGNATURE_STATES:
        if state["status"] == SignatureStatus.WITHDRAWN:
            continue
        counted = in_sql(one_standing, {**state, "email_normalised": "frida@example.org"})
        assert counted == (not Signature(**state).is_awaiting_confirmation), state


def test_category_fits_kind_agrees_with_the_database_for_every_kind_and_category():
    refused = set()
    for kind, category in itertools.product(SignatoryKind.values, Category.values):
        try:
            with transaction.atomic():
                make_signatory(kind=kind, category=category)
        except IntegrityError as error:
            assert "signatory_category_fits_kind" in str(error)
            refused.add((kind, category))
        assert category_fits_kind(kind, category) == ((kind, category) not in refused)
    assert refused, "some pairs must be refused, or the test proves nothing"

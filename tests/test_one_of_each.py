"""One rule in one place: each rule the code and the database both apply is written once
in Python, and these tests hold the Python form equal to the SQL form on the real
database, for every combination of the values it reads."""

import datetime
import itertools
import re

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.utils import timezone

from signatories.forms import SignatoryForm
from signatories.importers import import_signatures
from signatories.models import (
    Category,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    Source,
    category_fits_kind,
)
from signatories.signing import SignerDetails, sign_letter
from signatories.slugs import slug_base, unique_slugs, validate_slug
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


def test_unique_slugs_keep_every_script_and_number_clashes_with_the_database_and_each_other():
    make_signatory(name="张伟", slug="张伟")
    make_signatory(name="Zoë Žižek", slug="zoe-zizek-2")
    slugs = unique_slugs(["张伟", "Zoe Zizek", "Zoë Žižek", "ZOË ŽIŽEK"], among=Signatory.objects)
    assert slugs == ["张伟-2", "zoe-zizek", "zoe-zizek-3", "zoe-zizek-4"]


def test_unique_slugs_of_long_names_fit_the_field_with_their_suffix():
    long_name = "कि" * 300
    make_signatory(name="Taken", slug=slug_base(long_name))
    slugs = unique_slugs([long_name, long_name], among=Signatory.objects, suffix="3f9c2a1b")
    max_length = Signatory._meta.get_field("slug").max_length
    assert len(set(slugs)) == 2
    for slug in slugs:
        assert len(slug) <= max_length
        validate_slug(slug)


def test_every_maker_of_a_signatory_slug_gives_the_same_slug_for_a_name(letter):
    """The admin's form (``SignatoryForm``), the import and the public form make a name's
    slug alike: the public form's with a random suffix after it."""
    name = "Zoë Žižek"
    form = SignatoryForm(
        data={"name": name, "slug": "", "kind": "individual", "category": "survivor"}
    )
    assert form.is_valid(), form.errors
    form.save()
    from_admin = Signatory.objects.get(name=name).slug
    Signatory.objects.filter(name=name).delete()
    import_signatures(
        letter=letter,
        data=f"name,kind,category\n{name},individual,survivor\n".encode(),
        filename="signatories.csv",
        dry_run=False,
    )
    from_import = Signatory.objects.get(name=name).slug
    details = SignerDetails(
        kind="individual", name=name, email="zoe@example.org", category="survivor"
    )
    from_form = sign_letter(letter=letter, details=details, ip_address=None).signatory.slug
    assert from_admin == from_import == "zoe-zizek"
    assert re.fullmatch(r"zoe-zizek-[0-9a-f]{8}", from_form)

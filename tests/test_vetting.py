"""Vetting: staff verify, publish, hide and reject signatures; the public sees the badges."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError, transaction
from django.urls import reverse

from signatories.models import Signature
from tests.factories import make_person, make_signature

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/signatories/signature/"


def run_action(client, action: str, signatures, **extra):
    return client.post(
        CHANGELIST,
        {"action": action, ACTION_CHECKBOX_NAME: [s.pk for s in signatures], **extra},
    )


def public_csv(client, letter, **params) -> list[dict]:
    response = client.get(reverse("signatories:letter_csv", args=[letter.slug]), params)
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_verify_action_records_method_staff_member_and_time(admin_client, admin_user, letter):
    signature = make_signature(letter)

    run_action(admin_client, "verify_staff", [signature])

    signature.refresh_from_db()
    assert signature.verification == Signature.Verification.STAFF_VETTED
    assert signature.verified_by == admin_user
    assert signature.verified_at is not None


def test_organisation_confirmed_action_records_that_method(admin_client, letter):
    signature = make_signature(letter)

    run_action(admin_client, "verify_organisation", [signature])

    signature.refresh_from_db()
    assert signature.verification == Signature.Verification.ORGANISATION_CONFIRMED


def test_letter_page_shows_verification_badge_and_key(client, admin_client, letter):
    vetted = make_signature(letter, make_person("Vetted Person"))
    make_signature(letter, make_person("Unchecked Person"))
    run_action(admin_client, "verify_staff", [vetted])

    content = client.get(letter.get_absolute_url()).content.decode()

    assert "Checked by staff" in content
    assert "badge-unverified" not in content  # no badge on the unchecked row
    assert "What the “Verified” badges mean" in content
    assert "Our staff checked that this signatory is real" in content


def test_verification_filter_lists_only_signatures_verified_that_way(client, admin_client, letter):
    vetted = make_signature(letter, make_person("Vetted Person"))
    make_signature(letter, make_person("Unchecked Person"))
    run_action(admin_client, "verify_staff", [vetted])

    response = client.get(letter.get_absolute_url(), {"verification": "staff_vetted"})

    assert "Vetted Person" in response.content.decode()
    assert "Unchecked Person" not in response.content.decode()
    rows = public_csv(client, letter, verification="staff_vetted")
    assert [(row["name"], row["verification"]) for row in rows] == [
        ("Vetted Person", "Checked by staff")
    ]


def test_reject_action_asks_for_a_reason_before_changing_anything(admin_client, letter):
    signature = make_signature(letter)

    response = run_action(admin_client, "reject", [signature])

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="reason"' in content
    assert "Reject 1 signature." in content
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED


def test_reject_action_with_empty_reason_rejects_nothing(admin_client, letter):
    signature = make_signature(letter)

    response = run_action(admin_client, "reject", [signature], apply="1", reason="   ")

    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED


def test_rejected_signature_keeps_its_reason_and_leaves_the_public_page(
    client, admin_client, letter
):
    signature = make_signature(letter, make_person("Celebrity Impostor"))

    run_action(
        admin_client, "reject", [signature], apply="1", reason="Fake name: unverifiable claim"
    )

    signature.refresh_from_db()
    assert signature.status == Signature.Status.REJECTED
    assert signature.rejection_reason == "Fake name: unverifiable claim"
    page = client.get(letter.get_absolute_url()).content.decode()
    assert "Celebrity Impostor" not in page
    assert "unverifiable claim" not in page
    assert public_csv(client, letter) == []


def test_publish_after_rejection_clears_the_reason(admin_client, letter):
    signature = make_signature(letter, status=Signature.Status.REJECTED, rejection_reason="x")

    run_action(admin_client, "publish", [signature])

    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED
    assert signature.rejection_reason == ""


def test_database_refuses_a_rejection_without_reason(letter):
    signature = make_signature(letter)

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.REJECTED)


def test_database_refuses_a_verification_without_its_date(letter):
    signature = make_signature(letter)

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(
            verification=Signature.Verification.STAFF_VETTED
        )

"""Audit trail: who changed what, and when, visible in the admin."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from letters.models import Addressee
from signatories.models import Signature
from tests.factories import make_addressee, make_signature
from tests.helpers import letter_admin_form

pytestmark = pytest.mark.django_db


def test_editing_a_letter_in_the_admin_records_who_changed_which_field(
    admin_client, admin_user, letter
):
    response = admin_client.post(
        reverse("admin:letters_letter_change", args=[letter.pk]),
        letter_admin_form(letter, title="A corrected title"),
    )
    assert response.status_code == 302

    latest = letter.history.latest()
    assert latest.history_user == admin_user
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("title", letter.title, "A corrected title")
    ]


def test_letter_history_page_shows_the_change_and_its_author(admin_client, admin_user, letter):
    admin_client.post(
        reverse("admin:letters_letter_change", args=[letter.pk]),
        letter_admin_form(letter, title="A corrected title"),
    )

    response = admin_client.get(reverse("admin:letters_letter_history", args=[letter.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "A corrected title" in content
    assert admin_user.get_username() in content


def test_recording_a_response_is_kept_in_the_addressee_history(admin_client, admin_user, letter):
    addressee = make_addressee(letter)
    admin_client.post(
        reverse("admin:letters_addressee_change", args=[addressee.pk]),
        {
            "letter": letter.pk,
            "recipient": addressee.recipient.pk,
            "position": 0,
            "response_status": Addressee.ResponseStatus.DECLINED,
            "response_date": "2024-01-15",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "translations-TOTAL_FORMS": "0",
            "translations-INITIAL_FORMS": "0",
        },
    )

    statuses = [h.response_status for h in addressee.history.order_by("history_date")]
    assert statuses == [Addressee.ResponseStatus.AWAITING, Addressee.ResponseStatus.DECLINED]
    assert addressee.history.latest().history_user == admin_user


def test_bulk_vetting_actions_write_one_history_row_per_signature_with_reason(
    admin_client, admin_user, letter
):
    signatures = [make_signature(letter) for _ in range(3)]

    admin_client.post(
        "/admin/signatories/signature/",
        {"action": "verify_staff", ACTION_CHECKBOX_NAME: [s.pk for s in signatures]},
    )

    for signature in signatures:
        latest = signature.history.latest()
        assert latest.history_user == admin_user
        assert latest.history_change_reason == "Verified: Checked by staff"
        assert latest.verification == Signature.Verification.STAFF_VETTED


def test_rejection_reason_and_author_are_in_the_history(admin_client, admin_user, letter):
    signature = make_signature(letter)

    admin_client.post(
        "/admin/signatories/signature/",
        {
            "action": "reject",
            ACTION_CHECKBOX_NAME: [signature.pk],
            "apply": "1",
            "reason": "Duplicate of an earlier signature",
        },
    )

    latest = signature.history.latest()
    assert latest.status == Signature.Status.REJECTED
    assert latest.rejection_reason == "Duplicate of an earlier signature"
    assert latest.history_user == admin_user


def test_each_records_history_is_its_own_while_the_manager_class_is_made_once(letter):
    """config/history.py: the ``.history`` manager class is built once per model (not on
    every access, as simple-history does), and each access is still bound to its record."""
    first, second = make_signature(letter), make_signature(letter)
    Signature.objects.filter(pk=first.pk).update(statement="Changed")
    first.refresh_from_db()
    first._change_reason = "An edit"
    first.save()

    assert type(first.history) is type(second.history) is type(Signature.history)
    assert [r.history_change_reason for r in first.history.all()] == ["An edit", None]
    assert second.history.count() == 1
    assert Signature.history.count() == 3

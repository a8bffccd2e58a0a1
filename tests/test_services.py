"""Every write is a service that does all of it, whoever calls it: recording an answer
emails the followers, changing a signatory moves its signatures in the lists and recounts
its letters, deleting signatures recounts and redacts. Called from a shell here, and
through the admin's forms."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse

from letters.models import ResponseEvent
from letters.responses import record_response_event
from signatories.delivered import freeze_delivered_list
from signatories.editing import delete_signatures, update_signatory, update_signature
from signatories.models import Category, DeliveredRow, Display, SignatoryKind, Signature
from tests.factories import make_addressee, make_letter, make_person, make_recipient, make_signature
from tests.helpers import shown_count, shown_names, table_rows
from tests.test_delivered import post_change_form
from tests.test_faults import REFUSING_TASKS
from tests.test_follow_up import signer

Kind = ResponseEvent.Kind


def found_by_search(client, letter, text: str) -> list[str]:
    response = client.get(letter.get_absolute_url(), {"q": text})
    return [row[0] for row in table_rows(response)]


# Follow-ups


@pytest.mark.django_db(transaction=True)
def test_follow_ups_go_out_when_record_response_event_is_called_from_a_shell(smtp_server):
    letter = make_letter(accepts_public_signatures=True)
    follower = signer(letter, "Ada Follower")
    signer(letter, "Bo Quiet", follow_up=False)

    event = record_response_event(
        addressee=make_addressee(letter, make_recipient(name="Chatterbox Platforms")),
        kind=Kind.REPLIED,
        date=datetime.date.today(),
        summary="They wrote back.",
    )

    assert smtp_server.recipients() == [follower.email]
    event.refresh_from_db()
    assert event.followers_notified_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_answer_rolled_back_emails_nobody(smtp_server):
    letter = make_letter(accepts_public_signatures=True)
    signer(letter, "Ada Follower")
    addressee = make_addressee(letter)

    with pytest.raises(RuntimeError), transaction.atomic():
        record_response_event(addressee=addressee, kind=Kind.REPLIED, date=datetime.date.today())
        raise RuntimeError("the rest of the change failed")

    assert smtp_server.recipients() == []
    assert not ResponseEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_answer_recorded_without_emailing_is_never_sent(smtp_server, admin_client):
    letter = make_letter(accepts_public_signatures=True)
    signer(letter, "Ada Follower")
    addressee = make_addressee(letter)

    record_response_event(
        addressee=addressee,
        kind=Kind.DECLINED,
        date=datetime.date(2020, 1, 1),
        email_followers=False,
    )
    admin_client.post(  # the resend action: sends what is not yet sent
        reverse("admin:letters_addressee_changelist"),
        {"action": "email_followers", "_selected_action": [addressee.pk]},
    )

    assert smtp_server.recipients() == []


@pytest.mark.django_db(transaction=True)
def test_a_step_that_is_not_an_answer_emails_nobody(smtp_server):
    letter = make_letter(accepts_public_signatures=True)
    signer(letter, "Ada Follower")

    record_response_event(
        addressee=make_addressee(letter), kind=Kind.DELIVERED, date=datetime.date.today()
    )

    assert smtp_server.recipients() == []


@pytest.mark.django_db(transaction=True)
def test_staff_see_when_the_emails_about_an_answer_could_not_be_queued(admin_client, settings):
    # Told after the commit, on the page the admin goes on to: as in production, with no
    # test transaction round the request.
    addressee = make_addressee(make_letter())
    settings.TASKS = REFUSING_TASKS

    response = admin_client.post(
        reverse("admin:letters_addressee_change", args=[addressee.pk]),
        {
            "letter": addressee.letter_id,
            "recipient": addressee.recipient_id,
            "position": addressee.position,
            "response_status": addressee.response_status,
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "0",
            "translations-TOTAL_FORMS": "0",
            "translations-INITIAL_FORMS": "0",
            "events-0-date": datetime.date.today().isoformat(),
            "events-0-kind": Kind.DECLINED,
        },
        follow=True,
    )

    assert response.redirect_chain[0][1] == 302
    assert "could not be queued now" in response.content.decode()
    assert ResponseEvent.objects.filter(addressee=addressee, kind=Kind.DECLINED).exists()


# Signatories and signatures


@pytest.mark.django_db
def test_renaming_a_signatory_from_a_shell_moves_it_in_the_list_and_the_search(client, letter):
    zelda = make_person("Zelda Zimmer")
    make_signature(letter, zelda, display=Display.FIRST_NAME)
    make_signature(letter, make_person("Mia Moore"), display=Display.FIRST_NAME)

    update_signatory(signatory=zelda, name="Abigail Zimmer")

    assert shown_names(client, letter) == ["Abigail", "Mia"]
    assert found_by_search(client, letter, "abigail") == ["Abigail"]
    assert found_by_search(client, letter, "zelda") == []


@pytest.mark.django_db
def test_a_signatory_changed_from_a_shell_is_recounted_under_its_new_kind(letter):
    person = make_person("Ada Lovelace")
    make_signature(letter, person)

    update_signatory(signatory=person, kind=SignatoryKind.ORGANISATION, category=Category.CHARITY)

    letter.tally.refresh_from_db()
    assert (letter.tally.organisations, letter.tally.individuals) == (1, 0)


@pytest.mark.django_db
def test_a_signatory_renamed_from_a_shell_leaves_the_delivered_list(letter):
    signature = make_signature(letter, make_person("Grace Hopper"))
    freeze_delivered_list(letter=letter)

    update_signatory(signatory=signature.signatory, name="Grace B. Hopper")

    row = DeliveredRow.objects.get(signature=signature)
    assert (row.salt, row.text) == ("", "")


@pytest.mark.django_db
def test_signatures_deleted_from_a_shell_are_recounted_and_redacted(client, letter):
    kept = make_signature(letter, make_person("Grace Hopper"))
    gone = make_signature(letter, make_person("Alan Turing"))
    freeze_delivered_list(letter=letter)

    assert delete_signatures(signatures=Signature.objects.filter(pk=gone.pk)) == 1

    assert shown_count(client, letter) == 1
    assert DeliveredRow.objects.get(signature_id=gone.pk).salt == ""
    assert DeliveredRow.objects.get(signature_id=kept.pk).salt != ""


@pytest.mark.django_db
def test_a_signature_moved_from_a_shell_is_recounted_on_both_letters(client, letter):
    other = make_letter()
    signature = make_signature(letter, make_person("Grace Hopper"))
    assert (shown_count(client, letter), shown_count(client, other)) == (1, 0)

    update_signature(signature=signature, letter=other)

    assert (shown_count(client, letter), shown_count(client, other)) == (0, 1)


# The same through the admin's forms


@pytest.mark.django_db
def test_a_name_changed_in_the_admin_moves_its_signatures_in_the_list(client, admin_client, letter):
    zelda = make_person("Zelda Zimmer")
    make_signature(letter, zelda, display=Display.FIRST_NAME)
    make_signature(letter, make_person("Mia Moore"), display=Display.FIRST_NAME)

    post_change_form(
        admin_client,
        reverse("admin:signatories_signatory_change", args=[zelda.pk]),
        name="Abigail Zimmer",
    )

    assert shown_names(client, letter) == ["Abigail", "Mia"]
    assert zelda.history.latest().history_user.is_superuser


@pytest.mark.django_db
def test_a_signature_moved_in_the_admin_is_recounted_on_both_letters(client, admin_client, letter):
    other = make_letter()
    signature = make_signature(letter, make_person("Grace Hopper"))

    post_change_form(
        admin_client,
        reverse("admin:signatories_signature_change", args=[signature.pk]),
        letter=other.pk,
    )

    assert (shown_count(client, letter), shown_count(client, other)) == (0, 1)


@pytest.mark.django_db
def test_a_signature_deleted_in_the_signatory_pages_inline_is_recounted(
    client, admin_client, letter
):
    person = make_person("Grace Hopper")
    make_signature(letter, person)

    post_change_form(
        admin_client,
        reverse("admin:signatories_signatory_change", args=[person.pk]),
        **{"signatures-0-DELETE": "on"},
    )

    assert not Signature.objects.filter(signatory=person).exists()
    assert shown_count(client, letter) == 0


@pytest.mark.django_db
def test_a_signature_deleted_in_the_admin_is_recounted(client, admin_client, letter):
    signature = make_signature(letter, make_person("Grace Hopper"))

    response = admin_client.post(
        reverse("admin:signatories_signature_delete", args=[signature.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert shown_count(client, letter) == 0

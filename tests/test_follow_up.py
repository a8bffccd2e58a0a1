"""Signers who opted in get an email when a recipient of their letter answers: once per
answer, never after they stop it, withdraw, or their address was erased."""

import datetime
import re

import pytest
from django.conf import settings
from django.core import mail
from django.tasks import TaskResultStatus
from django.tasks.signals import task_finished
from django.test import Client, TestCase
from django.urls import reverse
from django.utils.text import slugify

from letters.models import ANSWER_EVENTS, Letter, ResponseEvent
from letters.responses import record_response_event
from signatories.links import Purpose, read_token
from signatories.models import Category, SignatoryKind, Signature
from signatories.retention import anonymise_closed
from signatories.signing import SignerDetails, confirm_signature, sign_letter, withdraw_signature
from signatories.tasks import notify_followers
from signatories.vetting import reject_signatures, set_status
from tests.factories import make_addressee, make_letter, make_recipient

pytestmark = pytest.mark.django_db

Kind = ResponseEvent.Kind


@pytest.fixture
def signable():
    return make_letter(title="Letter on safer chat apps", accepts_public_signatures=True)


@pytest.fixture
def addressee(signable):
    return make_addressee(signable, make_recipient(name="Chatterbox Platforms"))


@pytest.fixture
def tasks_run():
    """Every background task that ran, to check none of them failed (the immediate
    backend records a failure instead of raising it)."""
    results = []

    def record(sender, task_result, **kwargs):
        results.append(task_result)

    task_finished.connect(record)
    yield results
    task_finished.disconnect(record)


def signer(
    letter: Letter,
    name: str,
    *,
    follow_up: bool = True,
    confirm: bool = True,
    email: str = "",
) -> Signature:
    """A signature made as the public form makes it, confirmed unless told otherwise."""
    signature = sign_letter(
        letter=letter,
        details=SignerDetails(
            kind=SignatoryKind.INDIVIDUAL,
            name=name,
            email=email or f"{slugify(name)}@inbox.example",
            category=Category.SURVIVOR,
            country="GB",
            follow_up=follow_up,
        ),
        ip_address="198.51.100.7",
        send_email=False,
    )
    if confirm:
        confirm_signature(signature_id=signature.pk)
    signature.refresh_from_db()
    return signature


def add_event_in_admin(
    admin_client, addressee, kind=None, *, summary="", date="2024-03-01", follow_up="send"
):
    """Post the addressee's admin page back with its events unchanged, plus one new event
    of ``kind`` (none: save it again as it is), as staff who answered "send" (or
    ``follow_up``) to the question whether to email the followers."""
    existing = list(addressee.events.order_by("pk"))
    data = {
        "letter": addressee.letter_id,
        "recipient": addressee.recipient_id,
        "position": addressee.position,
        "person_name": addressee.person_name,
        "person_title": addressee.person_title,
        "events-TOTAL_FORMS": str(len(existing) + (1 if kind else 0)),
        "events-INITIAL_FORMS": str(len(existing)),
        "translations-TOTAL_FORMS": "0",
        "translations-INITIAL_FORMS": "0",
    }
    if not existing:
        # With a timeline, the response fields are read-only and not posted.
        data["response_status"] = addressee.response_status
    for n, event in enumerate(existing):
        data |= {
            f"events-{n}-id": event.pk,
            f"events-{n}-addressee": addressee.pk,
            f"events-{n}-date": event.date.isoformat(),
            f"events-{n}-kind": event.kind,
            f"events-{n}-summary": event.summary,
            f"events-{n}-url": event.url,
        }
    if follow_up:
        data["follow_up_emails"] = follow_up
    if kind:
        n = len(existing)
        data |= {f"events-{n}-date": date, f"events-{n}-kind": kind, f"events-{n}-summary": summary}
    with TestCase.captureOnCommitCallbacks(execute=True):  # the emails go after the commit
        response = admin_client.post(
            reverse("admin:letters_addressee_change", args=[addressee.pk]), data
        )
    assert response.status_code == 302, response.context and [
        form.errors for formset in response.context["inline_admin_formsets"] for form in formset
    ]
    return response


def follow_up_emails():
    return [m for m in mail.outbox if m.extra_headers.get("List-Unsubscribe")]


def recipients_of(messages) -> list[str]:
    return sorted(address for message in messages for address in message.to)


def link_in(message, view: str) -> str:
    [url] = re.findall(
        rf"{re.escape(settings.SITE_URL)}/letters/[\w-]+/{view}/[^\s/]+/", message.body
    )
    return url


def signature_named_by(url: str, purpose: Purpose) -> int:
    return read_token(url.rstrip("/").rpartition("/")[2], purpose)


# Who is emailed


@pytest.mark.parametrize("kind", ANSWER_EVENTS)
def test_each_answer_added_in_the_admin_emails_a_signer_who_asked_for_news(
    admin_client, addressee, kind
):
    follower = signer(addressee.letter, "Ada Follower")

    add_event_in_admin(admin_client, addressee, kind)

    assert recipients_of(follow_up_emails()) == [follower.email]


def test_an_answer_emails_only_confirmed_signers_of_that_letter_who_asked_for_news(
    admin_client, addressee
):
    letter = addressee.letter
    followers = [signer(letter, "Ada Follower"), signer(letter, "Bea Follower")]
    signer(letter, "Cy Quiet", follow_up=False)
    signer(letter, "Di Unconfirmed", confirm=False)
    withdrawn = signer(letter, "Ed Withdrawn")
    withdraw_signature(signature_id=withdrawn.pk)
    rejected = signer(letter, "Flo Rejected")
    reject_signatures(
        signatures=Signature.objects.filter(pk=rejected.pk), reason="Not a real person.", by=None
    )
    hidden = signer(letter, "Gus Hidden")
    set_status(
        signatures=Signature.objects.filter(pk=hidden.pk), status=Signature.Status.HIDDEN, by=None
    )
    other_letter = make_letter(accepts_public_signatures=True)
    make_addressee(other_letter, addressee.recipient)
    signer(other_letter, "Hal Elsewhere")

    add_event_in_admin(admin_client, addressee, Kind.REPLIED)

    assert recipients_of(mail.outbox) == sorted(s.email for s in followers)


def test_a_confirmed_signer_held_for_moderation_who_asked_for_news_is_emailed(admin_client):
    letter = make_letter(accepts_public_signatures=True, moderate_public_signatures=True)
    addressee = make_addressee(letter)
    held = signer(letter, "Ida Held")
    assert held.status == Signature.Status.PENDING

    add_event_in_admin(admin_client, addressee, Kind.COMMITTED)

    assert recipients_of(follow_up_emails()) == [held.email]


def test_a_delivered_event_emails_no_one(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")

    add_event_in_admin(admin_client, addressee, Kind.DELIVERED)

    assert addressee.events.get().kind == Kind.DELIVERED
    assert mail.outbox == []


# Once per answer


def test_saving_the_addressee_again_sends_nothing_more(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.REPLIED)
    assert len(mail.outbox) == 1

    add_event_in_admin(admin_client, addressee)
    add_event_in_admin(admin_client, addressee)

    assert len(mail.outbox) == 1
    assert addressee.events.get().followers_notified_at is not None


def test_a_second_answer_sends_a_second_round(admin_client, addressee):
    follower = signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.ACKNOWLEDGED, date="2024-03-01")

    add_event_in_admin(admin_client, addressee, Kind.COMMITTED, date="2024-04-01")

    assert recipients_of(mail.outbox) == [follower.email, follower.email]
    assert [m.subject.split(":")[1].split("—")[0].strip() for m in mail.outbox] == [
        "acknowledged receipt",
        "committed to act",
    ]


def test_notifying_followers_twice_of_one_event_sends_one_round(addressee, tasks_run):
    followers = [signer(addressee.letter, "Ada Follower"), signer(addressee.letter, "Bea Two")]
    event = record_response_event(
        addressee=addressee, kind=Kind.REPLIED, date=datetime.date(2024, 3, 1)
    )

    first = notify_followers.enqueue(event.pk)
    second = notify_followers.enqueue(event.pk)

    assert (first.return_value, second.return_value) == (2, 0)
    assert recipients_of(mail.outbox) == sorted(s.email for s in followers)
    assert all(result.status == TaskResultStatus.SUCCESSFUL for result in tasks_run)


# What each email says and carries


def test_follow_up_email_names_the_recipient_and_the_answer(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")

    add_event_in_admin(
        admin_client,
        addressee,
        Kind.COMMITTED,
        summary="Promised a survivor panel by June.",
        date="2024-03-05",
    )

    [message] = mail.outbox
    assert message.subject == (f"Chatterbox Platforms: committed to act — {addressee.letter.title}")
    assert "Chatterbox Platforms: Committed to act (5 March 2024)" in message.body
    assert "Promised a survivor panel by June." in message.body
    assert f"{settings.SITE_URL}{addressee.letter.get_absolute_url()}" in message.body


def test_follow_up_email_carries_stop_and_withdraw_links_for_its_own_signature(
    admin_client, addressee
):
    followers = [signer(addressee.letter, "Ada Follower"), signer(addressee.letter, "Bea Two")]

    add_event_in_admin(admin_client, addressee, Kind.REPLIED)

    by_address = {message.to[0]: message for message in mail.outbox}
    for follower in followers:
        message = by_address[follower.email]
        stop = link_in(message, "news/stop")
        withdraw = link_in(message, "withdraw")
        assert stop.startswith(f"{settings.SITE_URL}/letters/{addressee.letter.slug}/news/stop/")
        assert signature_named_by(stop, Purpose.UNFOLLOW) == follower.pk
        assert signature_named_by(withdraw, Purpose.WITHDRAW) == follower.pk


def test_follow_up_email_has_a_list_unsubscribe_header_with_the_stop_link(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")

    add_event_in_admin(admin_client, addressee, Kind.REPLIED)

    [message] = mail.outbox
    assert message.extra_headers["List-Unsubscribe"] == f"<{link_in(message, 'news/stop')}>"
    assert message.message()["List-Unsubscribe"] == f"<{link_in(message, 'news/stop')}>"


# Stopping, withdrawing


def test_after_the_stop_link_the_signer_gets_no_email_for_the_next_answer(
    client, admin_client, addressee
):
    stopping = signer(addressee.letter, "Ada Stopping")
    staying = signer(addressee.letter, "Bea Staying")
    add_event_in_admin(admin_client, addressee, Kind.ACKNOWLEDGED, date="2024-03-01")
    [message] = [m for m in mail.outbox if m.to == [stopping.email]]
    mail.outbox.clear()

    response = client.post(link_in(message, "news/stop").removeprefix(settings.SITE_URL))
    add_event_in_admin(admin_client, addressee, Kind.REPLIED, date="2024-04-01")

    assert response.status_code == 200
    assert "You will get no more news about this letter" in response.content.decode()
    assert recipients_of(mail.outbox) == [staying.email]


def test_the_stop_link_leaves_the_signature_as_it_was(client, admin_client, addressee):
    follower = signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.REPLIED)
    [message] = mail.outbox
    fields = ["status", "display", "confirmed_at", "verification", "statement", "email"]
    before = Signature.objects.values(*fields).get(pk=follower.pk)

    client.post(link_in(message, "news/stop").removeprefix(settings.SITE_URL))

    assert Signature.objects.values(*fields).get(pk=follower.pk) == before
    assert Signature.objects.get(pk=follower.pk).follow_up is False
    page = client.get(addressee.letter.get_absolute_url()).content.decode()
    assert "Ada Follower" in page


def test_opening_the_stop_link_without_pressing_the_button_changes_nothing(
    client, admin_client, addressee
):
    follower = signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.REPLIED, date="2024-03-01")
    [message] = mail.outbox

    response = client.get(link_in(message, "news/stop").removeprefix(settings.SITE_URL))
    add_event_in_admin(admin_client, addressee, Kind.MET, date="2024-04-01")

    assert "Stop these emails" in response.content.decode()
    assert Signature.objects.get(pk=follower.pk).follow_up is True
    assert recipients_of(mail.outbox) == [follower.email, follower.email]


def test_after_withdrawing_with_the_email_link_the_signer_gets_no_more_news(
    client, admin_client, addressee
):
    withdrawing = signer(addressee.letter, "Ada Withdrawing")
    add_event_in_admin(admin_client, addressee, Kind.ACKNOWLEDGED, date="2024-03-01")
    [message] = mail.outbox
    mail.outbox.clear()

    client.post(link_in(message, "withdraw").removeprefix(settings.SITE_URL))
    add_event_in_admin(admin_client, addressee, Kind.REPLIED, date="2024-04-01")

    assert Signature.objects.get(pk=withdrawing.pk).status == Signature.Status.WITHDRAWN
    assert mail.outbox == []


def test_the_stop_link_still_works_after_the_letters_address_changed(
    client, admin_client, addressee
):
    follower = signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.REPLIED)
    [message] = mail.outbox
    Letter.objects.filter(pk=addressee.letter_id).update(slug="safer-chat-apps")

    response = client.post(link_in(message, "news/stop").removeprefix(settings.SITE_URL))

    assert response.status_code == 200
    assert Signature.objects.get(pk=follower.pk).follow_up is False


# After retention erased the addresses


def test_signers_whose_email_was_erased_get_nothing_and_nothing_fails(
    admin_client, addressee, tasks_run
):
    letter = addressee.letter
    signer(letter, "Ada Erased")
    signer(letter, "Bea Erased")
    Letter.objects.filter(pk=letter.pk).update(
        status=Letter.Status.CLOSED, closed_on=datetime.date(2020, 1, 1)
    )
    assert anonymise_closed(days=settings.RETENTION_DAYS).signatures == 2

    response = add_event_in_admin(admin_client, addressee, Kind.REPLIED)

    assert response.status_code == 302
    assert mail.outbox == []
    assert [r.status for r in tasks_run] == [TaskResultStatus.SUCCESSFUL]
    assert [r.return_value for r in tasks_run] == [0]
    assert addressee.events.get().followers_notified_at is not None


def test_an_erased_address_is_skipped_and_the_others_still_hear(addressee, tasks_run):
    erased = signer(addressee.letter, "Ada Erased")
    kept = signer(addressee.letter, "Bea Kept")
    Signature.objects.filter(pk=erased.pk).update(email="", email_normalised="")
    event = record_response_event(
        addressee=addressee, kind=Kind.DECLINED, date=datetime.date(2024, 3, 1)
    )

    result = notify_followers.enqueue(event.pk)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 1
    assert recipients_of(mail.outbox) == [kept.email]


# A mail server that fails midway, and one-click unsubscribe


def resend_from_the_admin(admin_client, addressee):
    admin_client.post(
        reverse("admin:letters_addressee_changelist"),
        {"action": "email_followers", "_selected_action": [addressee.pk]},
    )


def test_a_round_the_mail_server_refuses_midway_resumes_without_repeats(
    admin_client, addressee, smtp_server, tasks_run
):
    followers = [signer(addressee.letter, f"Follower {n}") for n in range(5)]
    smtp_server.refuse = lambda n: n == 3  # "451 try again later" to the third message

    add_event_in_admin(admin_client, addressee, Kind.REPLIED)
    assert len(smtp_server.received) == 2
    assert addressee.events.get().followers_notified_at is None

    resend_from_the_admin(admin_client, addressee)

    assert smtp_server.recipients() == sorted(s.email for s in followers)
    assert [r.status for r in tasks_run] == [TaskResultStatus.SUCCESSFUL] * 2
    event = addressee.events.get()
    assert event.followers_notified_at is not None
    assert event.deliveries.filter(sent_at__isnull=False).count() == 5


def test_a_message_lost_with_the_connection_is_in_doubt_and_never_sent_twice(
    admin_client, addressee, smtp_server
):
    followers = [signer(addressee.letter, f"Follower {n}") for n in range(5)]
    # The server keeps the third message and hangs up before saying so.
    smtp_server.drop = lambda n: n == 3

    add_event_in_admin(admin_client, addressee, Kind.REPLIED)
    resend_from_the_admin(admin_client, addressee)
    resend_from_the_admin(admin_client, addressee)

    assert smtp_server.recipients() == sorted(s.email for s in followers)
    [in_doubt] = addressee.events.get().deliveries.filter(sent_at=None)
    assert in_doubt.signature == followers[2]
    assert in_doubt.error.startswith("In doubt: SMTPServerDisconnected")
    # Staff see it among the deliveries not sent.
    listed = admin_client.get(
        reverse("admin:signatories_followupdelivery_changelist"), {"sent_at__isnull": "True"}
    )
    assert [d.pk for d in listed.context["cl"].result_list] == [in_doubt.pk]
    assert "In doubt: SMTPServerDisconnected" in listed.content.decode()


def test_a_follower_the_mail_server_refuses_for_good_is_skipped_and_the_others_hear(
    admin_client, addressee, smtp_server
):
    followers = [signer(addressee.letter, f"Follower {n}") for n in range(3)]
    smtp_server.refuse_rcpt = {followers[1].email}

    add_event_in_admin(admin_client, addressee, Kind.REPLIED)

    assert smtp_server.recipients() == sorted([followers[0].email, followers[2].email])
    event = addressee.events.get()
    assert event.followers_notified_at is not None
    [refused] = event.deliveries.filter(sent_at=None)
    assert refused.signature == followers[1]
    assert refused.error == "Refused: SMTPRecipientsRefused 550"
    assert followers[1].email not in refused.error


def test_the_resend_action_sends_nothing_for_answers_already_sent(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.REPLIED)

    admin_client.post(
        reverse("admin:letters_addressee_changelist"),
        {"action": "email_followers", "_selected_action": [addressee.pk]},
    )

    assert len(mail.outbox) == 1


def test_mail_providers_can_unsubscribe_in_one_click(admin_client, addressee):
    follower = signer(addressee.letter, "Ada Follower")
    add_event_in_admin(admin_client, addressee, Kind.REPLIED)
    [message] = mail.outbox
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # RFC 8058: a POST to the List-Unsubscribe address, with no cookie and no CSRF token.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix(settings.SITE_URL),
        {"List-Unsubscribe": "One-Click"},
    )

    assert response.status_code == 200
    follower.refresh_from_db()
    assert follower.follow_up is False


# Staff are asked before followers are emailed


def post_new_answer(admin_client, addressee, date, decision=None):
    """Staff add a reply on the addressee's admin page and press Save (and then, if given,
    one of the question's buttons)."""
    data = {
        "letter": addressee.letter_id,
        "recipient": addressee.recipient_id,
        "position": addressee.position,
        "response_status": addressee.response_status,
        "events-TOTAL_FORMS": "1",
        "events-INITIAL_FORMS": "0",
        "translations-TOTAL_FORMS": "0",
        "translations-INITIAL_FORMS": "0",
        "events-0-date": date.isoformat(),
        "events-0-kind": Kind.REPLIED,
        "events-0-summary": "They wrote back.",
    }
    if decision:
        data["follow_up_emails"] = decision
    with TestCase.captureOnCommitCallbacks(execute=True):  # the emails go after the commit
        return admin_client.post(
            reverse("admin:letters_addressee_change", args=[addressee.pk]), data
        )


def test_saving_an_answer_with_followers_asks_first_and_sends_nothing(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")
    signer(addressee.letter, "Bo Follower")
    mail.outbox.clear()

    response = post_new_answer(admin_client, addressee, datetime.date.today())

    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert "This will email 2 people who asked for updates on this letter" in text
    assert 'value="send">Send 2 emails and save</button>' in text
    assert mail.outbox == []
    assert not ResponseEvent.objects.filter(addressee=addressee).exists()


def test_confirming_sends_the_emails(admin_client, addressee):
    follower = signer(addressee.letter, "Ada Follower")
    mail.outbox.clear()

    response = post_new_answer(admin_client, addressee, datetime.date.today(), "send")

    assert response.status_code == 302
    assert recipients_of(follow_up_emails()) == [follower.email]


def test_saving_without_emailing_saves_the_answer_and_the_resend_action_skips_it(
    admin_client, addressee
):
    signer(addressee.letter, "Ada Follower")
    mail.outbox.clear()

    response = post_new_answer(admin_client, addressee, datetime.date.today(), "skip")
    resend_from_the_admin(admin_client, addressee)

    assert response.status_code == 302
    assert ResponseEvent.objects.filter(addressee=addressee, kind=Kind.REPLIED).exists()
    assert follow_up_emails() == []


def test_an_answer_older_than_a_week_defaults_to_not_emailing(admin_client, addressee):
    signer(addressee.letter, "Ada Follower")

    response = post_new_answer(
        admin_client, addressee, datetime.date.today() - datetime.timedelta(days=30)
    )

    text = " ".join(response.content.decode().split())
    assert "It is dated 30 days ago" in text
    # The first button in the form is what Enter presses.
    assert text.index('value="skip">Save without emailing') < text.index('value="send">')
    assert follow_up_emails() == []


def test_an_answer_with_no_followers_saves_without_asking(admin_client, addressee):
    signer(addressee.letter, "Quiet Signer", follow_up=False)

    response = post_new_answer(
        admin_client, addressee, datetime.date.today() - datetime.timedelta(days=30)
    )

    assert response.status_code == 302
    assert ResponseEvent.objects.filter(addressee=addressee).exists()
    assert follow_up_emails() == []


def test_the_question_has_no_inline_code(admin_client, addressee):
    from tests.test_security_headers import inline_code

    signer(addressee.letter, "Ada Follower")

    found = inline_code(post_new_answer(admin_client, addressee, datetime.date.today()))

    assert found.style_attributes == []
    assert found.inline_scripts == []

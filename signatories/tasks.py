"""Emails to signers, sent in the background through Django's tasks framework.

Tasks take ids only, never an address or a name: task rows in the database (production's
backend) then hold nothing private, and a task that runs after the data was erased or the
signature withdrawn finds nothing to send.
"""

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from config.mail import SiteEmailMessage
from letters.models import ResponseEvent
from signatories.models import Signature, SignatureStatus
from signatories.signing import Purpose, awaits_confirmation, link

SUBJECTS = {
    "confirm": "Confirm your signature: {title}",
    "already_signed": "You have already signed: {title}",
}
BATCH_SIZE = 500


def _message(*, to: str, subject: str, template: str, context: dict, headers=None):
    body = render_to_string(template, {**context, "site_url": settings.SITE_URL})
    # Auto-Submitted keeps out-of-office replies away (RFC 3834).
    headers = {"Auto-Submitted": "auto-generated", **(headers or {})}
    return SiteEmailMessage(subject=subject, body=body, to=[to], headers=headers)


@task()
def send_signature_email(signature_id: int, kind: str) -> bool:
    """Email a signer the link to confirm (``confirm``), or, when they signed already, a
    reminder with the link to withdraw (``already_signed``). False when nothing was sent."""
    signature = (
        Signature.objects.select_related("letter", "signatory").filter(pk=signature_id).first()
    )
    if signature is None or not signature.email or kind not in SUBJECTS:
        return False
    if kind == "confirm" and not awaits_confirmation(signature):
        return False
    context = {
        "signature": signature,
        "letter": signature.letter,
        "confirm_url": link(signature, Purpose.CONFIRM),
        "withdraw_url": link(signature, Purpose.WITHDRAW),
        "valid_days": settings.SIGN_CONFIRMATION_MAX_AGE // 86400,
    }
    _message(
        to=signature.email,
        subject=SUBJECTS[kind].format(title=signature.letter.title),
        template=f"signatories/email/{kind}.txt",
        context=context,
    ).send()
    return True


def followers_of(event: ResponseEvent):
    """Confirmed signers of the event's letter who asked for news and still have an email."""
    return (
        Signature.objects.filter(
            letter_id=event.addressee.letter_id,
            follow_up=True,
            confirmed_at__isnull=False,
            status__in=[SignatureStatus.PUBLISHED, SignatureStatus.PENDING],
        )
        .exclude(email="")
        .select_related("letter")
        .order_by("pk")
    )


def _follow_up_message(event: ResponseEvent, signature: Signature) -> SiteEmailMessage:
    letter = event.addressee.letter
    unfollow_url = link(signature, Purpose.UNFOLLOW)
    return _message(
        to=signature.email,
        subject=f"{event.addressee.recipient}: {event.get_kind_display().lower()} — {letter.title}",
        template="signatories/email/response.txt",
        context={
            "event": event,
            "letter": letter,
            "addressee": event.addressee,
            "unfollow_url": unfollow_url,
            "withdraw_url": link(signature, Purpose.WITHDRAW),
        },
        # One-click unsubscribe (RFC 8058): mail providers POST to the stop link.
        headers={
            "List-Unsubscribe": f"<{unfollow_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@task()
def notify_followers(event_id: int) -> int:
    """Email every follower of the letter about a recipient's answer, once per event.

    Followers are emailed a batch at a time, in signature order, each batch in a
    transaction that holds the event's row and records how far it got: a second run never
    repeats a batch, and a run interrupted by a mail server error resumes (enqueue it
    again, or use the addressee admin's action) where it stopped. Returns the number sent.
    """
    sent = 0
    while True:
        with transaction.atomic():
            event = (
                ResponseEvent.objects.select_for_update(of=("self",))
                .select_related("addressee__letter", "addressee__recipient")
                .get(pk=event_id)
            )
            if event.followers_notified_at is not None:
                return sent
            batch = list(
                followers_of(event).filter(pk__gt=event.followers_notified_upto)[:BATCH_SIZE]
            )
            if not batch:
                # update(), not save(): progress marks are not edits for the history.
                ResponseEvent.objects.filter(pk=event_id).update(
                    followers_notified_at=timezone.now()
                )
                return sent
            with mailers.default as connection:
                sent += (
                    connection.send_messages(
                        [_follow_up_message(event, signature) for signature in batch]
                    )
                    or 0
                )
            ResponseEvent.objects.filter(pk=event_id).update(followers_notified_upto=batch[-1].pk)


def announce_response(event: ResponseEvent) -> bool:
    """Queue the follow-up emails for a new answer from a recipient (once per event)."""
    if not event.is_answer or event.followers_notified_at is not None:
        return False
    notify_followers.enqueue(event.pk)
    return True

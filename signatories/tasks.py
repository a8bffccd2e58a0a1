"""Emails to signers, sent in the background through Django's tasks framework.

Tasks take ids only, never an address or a name: task rows in the database (production's
backend) then hold nothing private, and a task that runs after the data was erased or the
signature withdrawn finds nothing to send.

Sending fails sometimes: the mail server is down, falls silent (``DJANGO_EMAIL_TIMEOUT``)
or refuses. Django's tasks framework has no retries, so a task whose send failed enqueues
itself again to run later, ``RETRY_DELAYS`` apart (1 min, 5 min, 30 min, 2 h), then gives
up. It catches the error rather than raising it: a raised error's text, which may name the
address, would be stored in the task's row. Staff see failures instead on the signature
(``email_failed_at``, ``email_error``) and on each follow-up delivery.

Each email is written in its signer's language (``Signature.language``, the language the
sign form was shown in; the site's default when none was recorded), whatever language the
task runs in: its subject, its text, and its links, which lead to the pages in that
language (``in_signers_language``).
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import mailers
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from config.mail import SiteEmailMessage
from letters.models import EventKind, Letter, ResponseEvent
from letters.translations import translated
from signatories import resilience
from signatories.abuse import ip_limit_reason, over_email_limit
from signatories.links import Purpose, link
from signatories.models import FollowUpDelivery, Signature, SignatureStatus
from signatories.submissions import same_address, set_aside, standing_signature

logger = logging.getLogger(__name__)

SUBJECTS = {
    # Translators: an email's subject; %(title)s is the letter's title.
    "confirm": _("Confirm your signature: %(title)s"),
    # Translators: an email's subject; %(title)s is the letter's title.
    "already_signed": _("You have already signed: %(title)s"),
}
# How a follow-up's subject says what the recipient did, after its name: "Meta: replied".
ANSWERED = {
    EventKind.ACKNOWLEDGED: pgettext_lazy("follow-up email subject", "acknowledged receipt"),
    EventKind.REPLIED: pgettext_lazy("follow-up email subject", "replied"),
    EventKind.MET: pgettext_lazy("follow-up email subject", "met the signatories"),
    EventKind.COMMITTED: pgettext_lazy("follow-up email subject", "committed to act"),
    EventKind.DECLINED: pgettext_lazy("follow-up email subject", "declined"),
}
# Seconds to wait before attempt 2, 3, 4 and 5 of a failed send; then give up.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 60 * 60)
# Follow-ups sent per task run: a worker asked to stop (SIGTERM) finishes the run it is in,
# so this bounds how long a stop waits; the rest of the round is queued as the next run.
BATCH_SIZE = 20


def in_signers_language(signature: Signature):
    """Everything an email to this signer says, in their language: a context in which to
    write its subject, render its text and reverse its links (``/fr/…`` for French)."""
    return translation.override(signature.language or settings.LANGUAGE_CODE)


def _message(*, to: str, subject: str, template: str, context: dict, headers=None):
    """An email, written in the active language (callers are ``in_signers_language``)."""
    body = render_to_string(template, {**context, "site_url": settings.SITE_URL})
    # Auto-Submitted keeps out-of-office replies away (RFC 3834); Content-Language tells
    # mail programs (and their screen readers) which language the text is in (RFC 3282).
    headers = {
        "Auto-Submitted": "auto-generated",
        "Content-Language": translation.get_language() or settings.LANGUAGE_CODE,
        **(headers or {}),
    }
    return SiteEmailMessage(subject=subject, body=body, to=[to], headers=headers)


def _reply_code(error: OSError) -> int | None:
    """The SMTP reply code when the server answered with a refusal; None when it did not
    answer (connection lost, timeout), so that whether it got the message is unknown."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return min((code for code, _ in error.recipients.values()), default=None)
    return None


def _describe(error: OSError, *, server_text: bool = True) -> str:
    """The error for staff. ``server_text`` adds what the server said, which may quote the
    address: only for rows that hold the address anyway (and lose it with it)."""
    code = _reply_code(error)
    text = f"{type(error).__name__}" + (f" {code}" if code else "")
    if not server_text:
        return text
    if isinstance(error, smtplib.SMTPResponseException):
        said = error.smtp_error
    elif isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        said = next(iter(error.recipients.values()))[1]
    else:
        said = str(error)
    if isinstance(said, bytes):
        said = said.decode(errors="replace")
    return f"{text}: {said}"[:200]


def _runs_later(task) -> bool:
    """Whether enqueueing leaves the task to a worker (production's database backend)
    rather than running it at once (the immediate backend of development and tests)."""
    return task.get_backend().supports_defer


def _retry(task, *args, attempt: int) -> datetime.datetime | None:
    """Enqueue ``task`` again for attempt ``attempt + 1`` after its delay; None when this
    was the last attempt, or when tasks run at once and so cannot wait."""
    if attempt > len(RETRY_DELAYS) or not _runs_later(task):
        return None
    run_after = timezone.now() + datetime.timedelta(seconds=RETRY_DELAYS[attempt - 1])
    task.using(run_after=run_after).enqueue(*args, attempt + 1)
    return run_after


def _retry_note(attempt: int, retry_at: datetime.datetime | None) -> str:
    if retry_at is None:
        return f"attempt {attempt}, not tried again"
    return f"attempt {attempt}, trying again at {retry_at:%Y-%m-%d %H:%M} UTC"


def _hold_over_ip_limit(signature: Signature) -> None:
    """Count the submission against its network's limits; over one, it will wait for a
    moderator once confirmed. Done before its link is sent, so before it can be."""
    if reason := ip_limit_reason(signature.ip_address):
        # A task run again (a worker killed mid-run, resumed) does not repeat the reason.
        reasons = [*signature.moderation_reason.split("; "), reason]
        signature.moderation_reason = "; ".join(dict.fromkeys(filter(None, reasons)))[:200]
        # update(), not save(): the submission has no history until it is confirmed.
        Signature.objects.filter(pk=signature.pk).update(
            moderation_reason=signature.moderation_reason
        )


@task()
def send_signature_email(signature_id: int, kind: str, attempt: int = 1) -> bool:
    """Email a signer the link to confirm (``confirm``), or, when they signed already, a
    reminder with the link to withdraw (``already_signed``). False when nothing was sent.

    A submission from an address whose signature already stands on the letter gets the
    reminder instead of a link, and is set aside: it could never be confirmed; so is one
    over the address's email limit, which gets nothing. The sign request queues
    ``confirm`` whatever the address did before, and the difference is made here, out of
    the request's timing.

    A failed send is marked on the signature emailed about and tried again later
    (``RETRY_DELAYS``); a retry finds nothing to do once a later email about it went out.
    """
    signature = (
        Signature.objects.select_related("letter", "signatory").filter(pk=signature_id).first()
    )
    if signature is None or not signature.email or kind not in SUBJECTS:
        return False
    # The submission's language, also for the reminder sent instead about the signature
    # that stands: it answers this submission (the standing one's record is left as it is).
    language = signature.language
    if kind == "confirm" and not signature.is_awaiting_confirmation:
        return False
    if attempt > 1 and signature.email_failed_at is None:
        return False
    if kind == "confirm" and attempt == 1:
        _hold_over_ip_limit(signature)
        if over_email_limit(
            letter_id=signature.letter_id, email_normalised=signature.email_normalised
        ):
            set_aside([signature])  # no link will ever reach it
            return False
        if standing := standing_signature(signature):
            set_aside([signature])
            signature, kind = standing, "already_signed"
            signature_id = signature.pk  # retries and failure marks are about this one
    with translation.override(language or settings.LANGUAGE_CODE):
        # The letter's title in the signer's language where it is translated.
        letter = Letter.objects.in_language().get(pk=signature.letter_id)
        context = {
            "signature": signature,
            "letter": letter,
            "confirm_url": link(signature, Purpose.CONFIRM),
            "withdraw_url": link(signature, Purpose.WITHDRAW),
            "valid_days": settings.SIGN_CONFIRMATION_MAX_AGE // 86400,
        }
        message = _message(
            to=signature.email,
            subject=SUBJECTS[kind] % {"title": letter.text.title},
            template=f"signatories/email/{kind}.txt",
            context=context,
        )
    try:
        message.send()
    except OSError as error:  # smtplib's errors, refused connections and timeouts alike
        retry_at = _retry(send_signature_email, signature_id, kind, attempt=attempt)
        note = _retry_note(attempt, retry_at)
        # update(), not save(): delivery marks are not edits for the history.
        Signature.objects.filter(pk=signature_id).update(
            email_failed_at=timezone.now(),
            email_error=f"{kind} email: {_describe(error)} ({note})"[:300],
        )
        logger.warning(
            "Sending the %s email for signature %s failed (%s): %s",
            kind,
            signature_id,
            note,
            _describe(error, server_text=False),
        )
        return False
    sent = Signature.objects.filter(pk=signature_id)
    if kind == "confirm":
        # The signer asked again, and this newer link went out: the address's earlier
        # submissions need no retry of theirs (one link is enough, and the newest is it).
        sent = sent | same_address(signature).filter(Signature.awaiting_confirmation())
    sent.exclude(email_failed_at=None).update(email_failed_at=None, email_error="")
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


def followers_not_yet_emailed(event: ResponseEvent):
    """Followers with no delivery for this event: neither sent, nor being sent, nor in
    doubt, nor refused."""
    return followers_of(event).filter(
        ~Exists(FollowUpDelivery.objects.filter(event=event, signature=OuterRef("pk")))
    )


def _follow_up_message(event: ResponseEvent, signature: Signature) -> SiteEmailMessage:
    """The email about ``event`` to one follower, in the follower's language."""
    with in_signers_language(signature):
        # The letter's title and the answer's summary in the signer's language where
        # they are translated.
        letter = Letter.objects.in_language().get(pk=event.addressee.letter_id)
        event = (
            translated(ResponseEvent.objects.filter(pk=event.pk))
            .select_related("addressee__recipient")
            .get()
        )
        unfollow_url = link(signature, Purpose.UNFOLLOW)
        answered = ANSWERED.get(event.kind) or event.get_kind_display().lower()
        # Translators: an organisation's name, what it did, then the letter's title, e.g.
        # "Meta: replied — Protect children online".
        subject = pgettext("follow-up email subject", "%(recipient)s: %(answered)s — %(title)s")
        return _message(
            to=signature.email,
            subject=subject
            % {
                "recipient": event.addressee.recipient.name,
                "answered": answered,
                "title": letter.text.title,
            },
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


def _claim(event: ResponseEvent, signature: Signature) -> FollowUpDelivery | None:
    """Record, committed before sending, that this follower's email is being sent; None
    when another run of the task got there first (the unique constraint decides)."""
    try:
        with transaction.atomic():
            return FollowUpDelivery.objects.create(
                event=event, signature=signature, claimed_at=timezone.now()
            )
    except IntegrityError:
        return None


def _send_follow_ups(event: ResponseEvent, followers) -> tuple[int, OSError | None]:
    """Email each follower, claiming each just before and marking it sent just after, over
    one connection. Returns how many were sent, and the error that stopped the batch.

    A follower the mail server refuses for good (5xx) keeps the claim with the reason and
    the batch goes on. Any other failure stops the batch: a message the server answered
    with a refusal was not delivered, so its claim is released for the retry; one lost
    with the connection is in doubt and keeps its claim (at most once, never twice).
    """
    sent = 0
    try:
        # Opening the connection comes first: a server that is down fails here, before
        # anything is claimed.
        with mailers.default as connection:
            for signature in followers:
                message = _follow_up_message(event, signature)
                delivery = _claim(event, signature)
                if delivery is None:
                    continue
                try:
                    connection.send_messages([message])
                except OSError as error:
                    code = _reply_code(error)
                    claim = FollowUpDelivery.objects.filter(pk=delivery.pk)
                    if isinstance(error, smtplib.SMTPRecipientsRefused) and (code or 0) >= 500:
                        claim.update(error=f"Refused: {_describe(error, server_text=False)}")
                        continue
                    if code is not None:
                        claim.delete()
                    else:
                        claim.update(error=f"In doubt: {_describe(error, server_text=False)}")
                    return sent, error
                FollowUpDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
                sent += 1
    except OSError as error:  # opening or closing the connection
        return sent, error
    return sent, None


@task()
def notify_followers(event_id: int, attempt: int = 1) -> int:
    """Email every follower of the letter about a recipient's answer, once per event.

    Each follower's email has a ``FollowUpDelivery`` row, written before it is sent and
    marked once the server accepted it, so no run of this task, concurrent or later, sends
    it again. A run sends one batch (``BATCH_SIZE``) and queues the next run for the rest;
    a failed batch is tried again later (``RETRY_DELAYS``). A worker killed mid-batch loses
    at most the message it was sending (in doubt, never resent); ``resume_stale_tasks``
    queues the rest again. With tasks run at once (development, tests) the whole round runs
    in one go. Returns the number sent by this run.
    """
    event = (
        ResponseEvent.objects.select_related("addressee__letter", "addressee__recipient")
        .filter(pk=event_id)
        .first()
    )
    sent = 0
    while event is not None and event.followers_notified_at is None:
        batch = list(followers_not_yet_emailed(event)[:BATCH_SIZE])
        if not batch:
            # update(), not save(): progress marks are not edits for the history.
            ResponseEvent.objects.filter(pk=event_id, followers_notified_at=None).update(
                followers_notified_at=timezone.now()
            )
            break
        batch_sent, error = _send_follow_ups(event, batch)
        sent += batch_sent
        if error is not None:
            retry_at = _retry(notify_followers, event_id, attempt=attempt)
            logger.warning(
                "Follow-ups about response event %s stopped (%s): %s",
                event_id,
                _retry_note(attempt, retry_at),
                _describe(error, server_text=False),
            )
            break
        if _runs_later(notify_followers):
            notify_followers.enqueue(event_id)
            break
    return sent


def announce_response(event: ResponseEvent) -> bool:
    """Queue the follow-up emails for a new answer from a recipient (once per event).
    False when there is nothing to send, or the queue refused it (logged): the answer is
    recorded all the same, and the addressee list's action sends the emails later."""
    if not event.is_answer or event.followers_notified_at is not None:
        return False
    return resilience.enqueue(notify_followers, event.pk)

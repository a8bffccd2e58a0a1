"""Recipients' answers as a dated timeline; the addressee's status follows the latest event."""

import datetime
from collections.abc import Callable
from functools import partial

from django.db import transaction
from django.utils import timezone

from letters.models import STATUS_AFTER_EVENT, Addressee, EventKind, ResponseEvent
from letters.signatures import announce_response


def refresh_response(addressee: Addressee) -> Addressee:
    """Set the addressee's current status, date, summary and link from its latest event.

    They are kept on the addressee (rather than worked out on every read) so that lists and
    counts — "how many recipients are still awaiting an answer" — stay single queries. An
    addressee with no events keeps what staff entered by hand.
    """
    latest = addressee.events.order_by("-date", "-pk").first()
    if latest is None:
        return addressee
    addressee.response_status = STATUS_AFTER_EVENT[latest.kind]
    addressee.response_date = latest.date
    addressee.response_summary = latest.summary
    addressee.response_url = latest.url
    addressee.save(
        update_fields=["response_status", "response_date", "response_summary", "response_url"]
    )
    return addressee


@transaction.atomic
def record_response_event(
    *,
    addressee: Addressee,
    kind: EventKind,
    date: datetime.date,
    summary: str = "",
    url: str = "",
    email_followers: bool = True,
    on_queued: Callable[[bool], None] | None = None,
) -> ResponseEvent:
    """Add a step to the timeline, bring the addressee's status up to date, and, when the
    step is an answer, email the letter's followers about it once it is committed
    (``tasks.notify_followers``; an answer rolled back emails nobody). Whoever records
    it (the admin, a shell, an import of answers) gets the emails sent: they belong to the
    answer, not to the page it was typed on.

    ``email_followers=False`` records the answer as announced without emailing anyone, so
    that the resend action never sends it either (staff chose "save without emailing",
    e.g. for old news). ``on_queued`` is called after the commit with whether the emails
    were queued (the queue may refuse them: then the resend action sends them later)."""
    event = ResponseEvent.objects.create(
        addressee=addressee, kind=kind, date=date, summary=summary, url=url
    )
    refresh_response(addressee)
    if not event.is_answer:
        return event
    if email_followers:
        transaction.on_commit(partial(_announce, event, on_queued))
    else:
        # update(), not save(): a progress mark, not an edit for the history.
        event.followers_notified_at = timezone.now()
        ResponseEvent.objects.filter(pk=event.pk).update(
            followers_notified_at=event.followers_notified_at
        )
    return event


def _announce(event: ResponseEvent, on_queued: Callable[[bool], None] | None) -> None:
    queued = announce_response(event)
    if on_queued is not None:
        on_queued(queued)

"""Recipients' answers as a dated timeline; the addressee's status follows the latest event."""

import datetime

from django.db import transaction

from letters.models import STATUS_AFTER_EVENT, Addressee, EventKind, ResponseEvent


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
) -> ResponseEvent:
    """Add a step to the timeline and bring the addressee's status up to date."""
    event = ResponseEvent.objects.create(
        addressee=addressee, kind=kind, date=date, summary=summary, url=url
    )
    refresh_response(addressee)
    return event

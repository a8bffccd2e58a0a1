"""Recipients' responses as a dated timeline; the current status follows the latest event."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from letters.models import Addressee, ResponseEvent
from letters.responses import record_response_event
from tests.factories import make_addressee, make_recipient

pytestmark = pytest.mark.django_db

Kind = ResponseEvent.Kind


def day(n: int) -> datetime.date:
    return datetime.date(2024, 1, 1) + datetime.timedelta(days=n)


def test_status_follows_the_latest_event(letter):
    addressee = make_addressee(letter)

    record_response_event(addressee=addressee, kind=Kind.DELIVERED, date=day(0))
    record_response_event(
        addressee=addressee, kind=Kind.DECLINED, date=day(9), summary="Will not meet survivors."
    )

    addressee.refresh_from_db()
    assert addressee.response_status == Addressee.ResponseStatus.DECLINED
    assert addressee.response_date == day(9)
    assert addressee.response_summary == "Will not meet survivors."


def test_an_older_event_recorded_late_does_not_replace_the_current_status(letter):
    addressee = make_addressee(letter)
    record_response_event(addressee=addressee, kind=Kind.COMMITTED, date=day(20))

    record_response_event(addressee=addressee, kind=Kind.ACKNOWLEDGED, date=day(3))

    addressee.refresh_from_db()
    assert addressee.response_status == Addressee.ResponseStatus.COMMITTED


def test_letter_and_recipient_pages_show_the_timeline_newest_first(client, letter):
    addressee = make_addressee(letter)
    record_response_event(addressee=addressee, kind=Kind.DELIVERED, date=day(0))
    record_response_event(addressee=addressee, kind=Kind.REPLIED, date=day(5), summary="A reply")
    record_response_event(addressee=addressee, kind=Kind.MET, date=day(30))

    for url in (letter.get_absolute_url(), addressee.recipient.get_absolute_url()):
        content = client.get(url).content.decode()
        positions = [
            content.index(label) for label in ("Met the signatories", "Replied", "Letter delivered")
        ]
        assert positions == sorted(positions), url
        assert "A reply" in content


def test_letter_page_queries_do_not_grow_with_timeline_events(client, letter):
    addressees = [make_addressee(letter, make_recipient()) for _ in range(2)]
    record_response_event(addressee=addressees[0], kind=Kind.DELIVERED, date=day(0))
    with CaptureQueriesContext(connection) as few:
        client.get(letter.get_absolute_url())

    for n in range(15):
        for addressee in addressees:
            record_response_event(addressee=addressee, kind=Kind.REPLIED, date=day(n + 1))
    with CaptureQueriesContext(connection) as many:
        client.get(letter.get_absolute_url())

    assert len(many) == len(few)


def test_adding_an_event_in_the_admin_updates_the_status(admin_client, letter):
    addressee = make_addressee(letter)

    response = admin_client.post(
        reverse("admin:letters_addressee_change", args=[addressee.pk]),
        {
            "letter": letter.pk,
            "recipient": addressee.recipient.pk,
            "position": 0,
            "response_status": Addressee.ResponseStatus.AWAITING,
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "0",
            "translations-TOTAL_FORMS": "0",
            "translations-INITIAL_FORMS": "0",
            "events-0-date": "2024-03-01",
            "events-0-kind": Kind.COMMITTED,
            "events-0-summary": "Agreed to consult survivors.",
        },
    )

    assert response.status_code == 302
    addressee.refresh_from_db()
    assert addressee.response_status == Addressee.ResponseStatus.COMMITTED
    assert addressee.response_summary == "Agreed to consult survivors."


def test_response_fields_are_read_only_once_a_timeline_exists(admin_client, letter):
    addressee = make_addressee(letter)
    record_response_event(addressee=addressee, kind=Kind.DELIVERED, date=day(0))

    response = admin_client.get(reverse("admin:letters_addressee_change", args=[addressee.pk]))

    assert 'name="response_status"' not in response.content.decode()


def test_database_refuses_an_unknown_event_kind(letter):
    addressee = make_addressee(letter)
    event = record_response_event(addressee=addressee, kind=Kind.DELIVERED, date=day(0))

    with pytest.raises(IntegrityError), transaction.atomic():
        ResponseEvent.objects.filter(pk=event.pk).update(kind="ignored")

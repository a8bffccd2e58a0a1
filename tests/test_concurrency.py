"""Simultaneous identical requests to the sign form and to a confirm link, as a
double-click or an impatient script sends them: the database keeps one signature and one
confirmation, and no request fails. PostgreSQL only: SQLite serialises every write, so it
can't show a race (the CI run on PostgreSQL is the one that counts)."""

import re
import threading
import time

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from signatories.abuse import form_stamp
from signatories.links import Purpose, read_token
from signatories.models import Signatory, Signature
from tests.factories import make_letter

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
CONFIRM_LINK = re.compile(re.escape(settings.SITE_URL) + r"(/letters/[^/\s]+/confirm/([^/\s]+)/)")


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            f"Races need PostgreSQL's concurrent writers; this run is on {connection.vendor}. "
            "Run with DATABASE_URL=postgres://… (mandatory in CI)."
        )


def simultaneously(send) -> list:
    """Call ``send(client)`` from ``THREADS`` threads at once, each with its own test
    client and database connection; their responses, server errors included."""
    barrier = threading.Barrier(THREADS)
    responses = [None] * THREADS
    failures = []

    def run(index: int) -> None:
        client = Client(raise_request_exception=False)
        try:
            barrier.wait(timeout=30)
            responses[index] = send(client)
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert failures == []
    return responses


def server_errors(responses) -> list:
    return [
        (r.status_code, getattr(r, "exc_info", None)) for r in responses if r.status_code >= 500
    ]


def sign_form(email: str) -> dict:
    return {
        "kind": "individual",
        "name": "Ada Lovelace",
        "email": email,
        "category": "survivor",
        "display": "full",
        "consent": "on",
        "stamp": form_stamp(now=time.time() - 60),
    }


def test_simultaneous_identical_sign_requests_are_counted_once():
    letter = make_letter(accepts_public_signatures=True)
    url = reverse("signatories:sign", args=[letter.slug])
    form = sign_form("ada@example.org")

    responses = simultaneously(lambda client: client.post(url, form))

    assert server_errors(responses) == []
    sent_page = reverse("signatories:sign_sent", args=[letter.slug])
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, sent_page)}
    tokens = [CONFIRM_LINK.search(message.body).group(2) for message in mail.outbox]
    assert 1 <= len(tokens) <= 3  # SIGN_EMAIL_RATE_LIMIT: a burst floods no inbox
    assert {tuple(message.to) for message in mail.outbox} == {("ada@example.org",)}
    # Each email's link names its own submission; those that got no email are set aside.
    submissions = Signature.objects.filter(letter=letter, email_normalised="ada@example.org")
    assert {read_token(token, Purpose.CONFIRM) for token in tokens} == set(
        submissions.values_list("pk", flat=True)
    )
    assert Signatory.objects.count() == len(tokens)
    for path in CONFIRM_LINK.findall("\n".join(message.body for message in mail.outbox)):
        Client().post(path[0])
    (signature,) = Signature.objects.filter(letter=letter)
    assert signature.confirmed_at is not None
    # Published, or held when one of the links that went out was for a submission past
    # the per-network limit (20 from one address in a burst): which ones got the 3 emails
    # depends on the race.
    assert signature.status in (Signature.Status.PUBLISHED, Signature.Status.PENDING)
    assert Signatory.objects.count() == 1


def test_two_links_to_one_address_confirmed_at_once_publish_one_signature():
    letter = make_letter(accepts_public_signatures=True)
    url = reverse("signatories:sign", args=[letter.slug])
    Client().post(url, sign_form("ada@example.org") | {"name": "Ada Lovelace"})
    Client().post(url, sign_form("ada@example.org") | {"name": "Augusta Ada King"})
    paths = [CONFIRM_LINK.search(message.body).group(1) for message in mail.outbox]
    assert len(set(paths)) == 2
    turn = iter(range(THREADS))
    lock = threading.Lock()

    def confirm_one(client):
        with lock:
            index = next(turn)
        return client.post(paths[index % 2])

    responses = simultaneously(confirm_one)

    assert server_errors(responses) == []
    (signature,) = Signature.objects.filter(letter=letter)
    assert signature.status == Signature.Status.PUBLISHED
    assert signature.history.filter(history_change_reason="Confirmed by email").count() == 1
    pages = [r.content.decode() for r in responses]
    assert sum("Thank you: your signature is confirmed" in page for page in pages) == 1


def test_simultaneous_identical_confirm_requests_confirm_once():
    letter = make_letter(accepts_public_signatures=True)
    Client().post(reverse("signatories:sign", args=[letter.slug]), sign_form("ada@example.org"))
    (message,) = mail.outbox
    path = CONFIRM_LINK.search(message.body).group(1)
    signature = Signature.objects.get(letter=letter)

    responses = simultaneously(lambda client: client.post(path))

    assert server_errors(responses) == []
    assert [r.status_code for r in responses] == [200] * THREADS
    pages = [r.content.decode() for r in responses]
    assert sum("Thank you: your signature is confirmed" in page for page in pages) == 1
    assert sum("Your signature is already confirmed" in page for page in pages) == THREADS - 1
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED
    confirmations = signature.history.filter(history_change_reason="Confirmed by email")
    assert confirmations.count() == 1
    assert confirmations.get().confirmed_at == signature.confirmed_at

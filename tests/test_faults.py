"""A signer's safety when a service fails: with Redis unreachable or stopped and the task
queue refusing work, signing, confirming, withdrawing, stopping emails and a moderator's
"hide" still work (no 500), and the counts catch up once ``reconcile_counts`` runs.

Redis is a real client against a port where nothing listens, or a real redis-server
started here and stopped mid-test; the refusing queue stands in for a queue service that
is down (Django's tasks framework has none to stop here).
"""

import logging
import os
import shutil

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError
from django.tasks.backends.base import BaseTaskBackend
from django.urls import reverse

from letters.models import ResponseEvent
from signatories.links import Purpose, make_token
from signatories.models import Signature, SignatureStatus
from tests.factories import make_addressee, make_letter, make_recipient
from tests.helpers import RedisServer, free_port, shown_count, shown_names, sign
from tests.test_follow_up import add_event_in_admin

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseTaskBackend):
    """A task queue that is down: every enqueue fails, as a broken queue service would."""

    supports_defer = True

    def enqueue(self, task, args, kwargs):
        raise OperationalError("task queue unavailable")


REFUSING_TASKS = {"default": {"BACKEND": f"{__name__}.RefusingBackend", "QUEUES": ["default"]}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def run_worker() -> None:
    """The task worker, as production runs it, until the queue is empty."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def redis_cache_at(port: int) -> dict:
    return {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
    }


@pytest.fixture
def break_services(settings, empty_cache):
    """Call it to make the shared cache a Redis server that does not answer (connection
    refused) and the task queue refuse work; both are put back after the test."""
    before = settings.CACHES

    def break_them() -> None:
        settings.CACHES = {**before, "default": redis_cache_at(free_port())}
        settings.TASKS = REFUSING_TASKS

    yield break_them
    settings.CACHES = before


@pytest.fixture
def letter(db):
    return make_letter(accepts_public_signatures=True)


def signer(n: int = 1) -> dict:
    """The n-th signer's form fields and address: each signs from an address of their own,
    asking for follow-up emails."""
    return {
        "name": f"Fault Signer {n}",
        "email": f"fault-{n}@example.org",
        "follow_up": "on",
        "ip": f"198.51.100.{n}",
    }


def link_path(signature: Signature, purpose: Purpose) -> str:
    names = {Purpose.CONFIRM: "confirm", Purpose.WITHDRAW: "withdraw", Purpose.UNFOLLOW: "unfollow"}
    return reverse(
        f"signatories:{names[purpose]}",
        args=[signature.letter.slug, make_token(signature, purpose)],
    )


def signed_and_confirmed(client, letter, n: int = 1) -> Signature:
    sign(client, letter, **signer(n))
    signature = Signature.objects.get(email=f"fault-{n}@example.org")
    client.post(link_path(signature, Purpose.CONFIRM))
    signature.refresh_from_db()
    assert signature.status == SignatureStatus.PUBLISHED
    return signature


def test_withdrawing_works_with_redis_unreachable_and_the_queue_refusing(
    client, letter, break_services, caplog
):
    signature = signed_and_confirmed(client, letter)
    break_services()

    with caplog.at_level(logging.WARNING, logger="signatories.resilience"):
        response = client.post(link_path(signature, Purpose.WITHDRAW))

    assert response.status_code == 200
    signature.refresh_from_db()
    assert (signature.status, signature.follow_up) == (SignatureStatus.WITHDRAWN, False)
    assert shown_names(client, letter) == []
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("Cache unavailable") for message in messages)
    assert any(message.startswith("Task queue unavailable") for message in messages)
    # The count waits for the recount that cron runs.
    assert shown_count(client, letter) == 1
    call_command("reconcile_counts", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert shown_count(client, letter) == 0


def test_confirming_works_with_redis_unreachable_and_the_queue_refusing(
    client, letter, break_services
):
    sign(client, letter, **signer())
    signature = Signature.objects.get()
    break_services()

    response = client.post(link_path(signature, Purpose.CONFIRM))

    assert response.status_code == 200
    assert "Thank you: your signature is confirmed" in response.content.decode()
    assert shown_names(client, letter) == ["Fault Signer 1"]


def test_signing_with_redis_unreachable_and_the_queue_refusing_holds_it_and_still_emails_the_link(
    client, letter, break_services, django_capture_on_commit_callbacks
):
    break_services()

    with django_capture_on_commit_callbacks(execute=True):
        response = sign(client, letter, **signer())

    assert response.status_code == 302
    assert response["Location"] == reverse("signatories:sign_sent", args=[letter.slug])
    signature = Signature.objects.get()
    assert signature.status == SignatureStatus.UNCONFIRMED
    assert "could not be counted" in signature.moderation_reason
    (message,) = mail.outbox
    assert message.to == ["fault-1@example.org"]
    assert link_path(signature, Purpose.CONFIRM).rsplit("/", 2)[0] in message.body
    # Without its limits the network's signature waits for a moderator once confirmed.
    client.post(link_path(signature, Purpose.CONFIRM))
    signature.refresh_from_db()
    assert signature.status == SignatureStatus.PENDING


def test_stopping_news_works_with_redis_unreachable_and_the_queue_refusing(
    client, letter, break_services
):
    signature = signed_and_confirmed(client, letter)
    break_services()

    response = client.post(link_path(signature, Purpose.UNFOLLOW))

    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.follow_up is False


def test_moderators_hide_action_works_with_redis_unreachable_and_the_queue_refusing(
    admin_client, client, letter, break_services
):
    signature = signed_and_confirmed(client, letter)
    break_services()

    response = admin_client.post(
        "/admin/signatories/signature/",
        {"action": "hide", "_selected_action": [signature.pk]},
    )

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == SignatureStatus.HIDDEN
    assert shown_names(client, letter) == []


# A real Redis, stopped and started again during signing and withdrawal


@pytest.fixture
def redis_server(settings, empty_cache):
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is required (REQUIRE_REDIS=1) but is not installed")
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    before = settings.CACHES
    settings.CACHES = {**before, "default": redis_cache_at(server.port)}
    yield server
    settings.CACHES = before
    if server.process.poll() is None:
        server.stop()


# The worker closes its database connection after each task, as in production: the test
# cannot hold one transaction open around it.
@pytest.mark.django_db(transaction=True)
def test_redis_stopped_and_started_again_during_signing_and_withdrawal(
    client, letter, settings, redis_server
):
    settings.TASKS = DATABASE_TASKS  # refreshes are queued, deduplicated through Redis
    sign(client, letter, **signer(1))
    run_worker()  # the email task counts the per-IP limits, in Redis
    first = Signature.objects.get(email="fault-1@example.org")
    assert first.moderation_reason == ""
    assert caches["default"].get_many([]) == {}  # Redis answers

    redis_server.stop()
    statuses = [client.post(link_path(first, Purpose.CONFIRM)).status_code]
    statuses.append(sign(client, letter, **signer(2)).status_code)
    run_worker()
    statuses.append(client.post(link_path(first, Purpose.WITHDRAW)).status_code)
    statuses.append(client.get(letter.get_absolute_url()).status_code)

    redis_server.start()
    statuses.append(sign(client, letter, **signer(3)).status_code)
    run_worker()

    assert statuses == [200, 302, 200, 200, 302]
    first.refresh_from_db()
    assert first.status == SignatureStatus.WITHDRAWN
    held = Signature.objects.get(email="fault-2@example.org")
    assert "could not be counted" in held.moderation_reason
    after = Signature.objects.get(email="fault-3@example.org")
    assert after.moderation_reason == ""


def test_recording_an_answer_works_with_the_queue_refusing_and_the_emails_go_out_later(
    admin_client, client, letter, settings, break_services
):
    signed_and_confirmed(client, letter)  # asked for news (follow_up on)
    addressee = make_addressee(letter, make_recipient(name="Chatterbox"))
    break_services()

    response = add_event_in_admin(admin_client, addressee, ResponseEvent.Kind.DECLINED)

    assert ResponseEvent.objects.filter(addressee=addressee, kind="declined").exists()
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("could not be queued now" in text for text in shown)
    assert mail.outbox[-1].subject.startswith("Confirm")  # no follow-up sent yet

    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
    admin_client.post(
        "/admin/letters/addressee/",
        {"action": "email_followers", "_selected_action": [addressee.pk]},
    )
    assert "Chatterbox: declined" in mail.outbox[-1].subject

"""A follow-up round survives its worker: killed mid-batch (SIGKILL), the task is found
stale, queued again and resumed where it stopped, and every follower gets exactly one
email, counted at a real SMTP server. A worker asked to stop (SIGTERM) finishes the small
batch it is sending and leaves the rest queued."""

import contextlib
import datetime
import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import signatories.tasks
from letters.models import ResponseEvent
from letters.responses import record_response_event
from signatories.models import FollowUpDelivery
from signatories.stale_tasks import resume_stale_tasks
from signatories.tasks import notify_followers
from tests.factories import make_addressee, make_letter
from tests.test_mail_wire import signer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def event():
    letter = make_letter(accepts_public_signatures=True)
    event = record_response_event(
        addressee=make_addressee(letter),
        kind=ResponseEvent.Kind.REPLIED,
        date=datetime.date(2024, 3, 1),
    )
    # Recording it queued its round; each test queues its own, once its followers signed.
    follow_up_tasks().delete()
    return event


def followers(event, count: int):
    return [signer(event.addressee.letter, f"Follower {n}") for n in range(count)]


@contextlib.contextmanager
def shared_database(tmp_path):
    """The test database as a URL another process can open. SQLite's lives in this
    process's memory: it is copied to a file for the other process, and back after."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
        yield f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        return
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    yield f"sqlite:///{path}"
    with contextlib.closing(sqlite3.connect(path)) as copy:
        copy.backup(connection.connection)


def start_worker(database_url: str, smtp_port: int) -> subprocess.Popen:
    """``manage.py db_worker`` in its own process, as production runs it."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in {"REDIS_URL", "DATABASE_REPLICA_URL"}
    }
    environ |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SITE_URL": settings.SITE_URL,
        "DATABASE_URL": database_url,
        "DJANGO_TASKS_BACKEND": "database",
        "DJANGO_EMAIL_HOST": "127.0.0.1",
        "DJANGO_EMAIL_PORT": str(smtp_port),
        "DJANGO_EMAIL_TIMEOUT": "5",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=settings.BASE_DIR,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def follow_up_tasks():
    """The follow-up task rows (signing also queues recounts of the letter's totals)."""
    return DBTaskResult.objects.filter(task_path=notify_followers.module_path)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.mark.slow
def test_a_round_killed_mid_batch_resumes_and_every_follower_gets_exactly_one_email(
    smtp_server, event, tmp_path
):
    everyone = followers(event, 6)
    notify_followers.enqueue(event.pk)
    worker = None

    def kill_on_the_third(message):
        if len(smtp_server.received) == 3:
            # The worker is waiting for the answer to its third message: it never hears.
            os.kill(worker.pid, signal.SIGKILL)

    smtp_server.on_data = kill_on_the_third
    with shared_database(tmp_path) as url:
        worker = start_worker(url, smtp_server.port)
        assert worker.wait(timeout=60) == -signal.SIGKILL

    [stale] = follow_up_tasks()
    assert stale.status == TaskResultStatus.RUNNING  # and would stay so forever
    assert len(smtp_server.received) == 3

    report = resume_stale_tasks(older_than=datetime.timedelta(0))
    run_worker()

    assert (report.failed, report.requeued) == (1, 1)
    stale.refresh_from_db()
    assert stale.status == TaskResultStatus.FAILED
    assert smtp_server.recipients() == sorted(f.email for f in everyone)
    [in_doubt] = FollowUpDelivery.objects.filter(sent_at=None)
    assert in_doubt.signature == everyone[2]
    event.refresh_from_db()
    assert event.followers_notified_at is not None


@pytest.mark.slow
def test_the_admin_resend_after_a_kill_emails_nobody_twice(
    smtp_server, event, tmp_path, admin_client
):
    everyone = followers(event, 4)
    notify_followers.enqueue(event.pk)
    worker = None

    def kill_on_the_second(message):
        if len(smtp_server.received) == 2:
            os.kill(worker.pid, signal.SIGKILL)

    smtp_server.on_data = kill_on_the_second
    with shared_database(tmp_path) as url:
        worker = start_worker(url, smtp_server.port)
        worker.wait(timeout=60)

    admin_client.post(
        "/admin/letters/addressee/",
        {"action": "email_followers", "_selected_action": [event.addressee_id]},
    )
    run_worker()
    resume_stale_tasks(older_than=datetime.timedelta(0))
    run_worker()

    assert smtp_server.recipients() == sorted(f.email for f in everyone)


def test_stale_means_running_longer_than_the_limit(event):
    notify_followers.enqueue(event.pk)
    DBTaskResult.objects.update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(minutes=5)
    )

    call_command("resume_stale_tasks", "--minutes", "15", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING

    report = resume_stale_tasks(older_than=datetime.timedelta(minutes=4))
    assert (report.failed, report.requeued) == (1, 1)
    assert list(DBTaskResult.objects.values_list("status", flat=True).order_by("enqueued_at")) == [
        TaskResultStatus.FAILED,
        TaskResultStatus.READY,
    ]


def test_a_task_run_sends_one_small_batch_and_queues_the_rest(smtp_server, event, monkeypatch):
    monkeypatch.setattr(signatories.tasks, "BATCH_SIZE", 2)
    everyone = followers(event, 5)
    notify_followers.enqueue(event.pk)

    call_command("db_worker", "--max-tasks", "1", "--no-startup-delay", "--no-reload", verbosity=0)

    assert len(smtp_server.received) == 2
    assert follow_up_tasks().ready().count() == 1

    run_worker()

    assert smtp_server.recipients() == sorted(f.email for f in everyone)
    returns = follow_up_tasks().order_by("enqueued_at").values_list("return_value", flat=True)
    assert list(returns) == [2, 2, 1, 0]


@pytest.mark.slow
def test_a_worker_asked_to_stop_finishes_its_small_batch_and_leaves_the_rest_queued(
    smtp_server, event, tmp_path
):
    everyone = followers(event, 25)  # more than one batch of 20
    notify_followers.enqueue(event.pk)
    worker = None

    def stop_on_the_fifth(message):
        if len(smtp_server.received) == 5:
            os.kill(worker.pid, signal.SIGTERM)

    smtp_server.on_data = stop_on_the_fifth
    with shared_database(tmp_path) as url:
        worker = start_worker(url, smtp_server.port)
        assert worker.wait(timeout=60) == 0

    assert len(smtp_server.received) == 20  # the batch in hand, then it stopped
    assert follow_up_tasks().ready().count() == 1
    run_worker()
    assert smtp_server.recipients() == sorted(f.email for f in everyone)

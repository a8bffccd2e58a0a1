"""When a signer's email fails to send: retried later with backoff by the task, visible to
staff, never a task row holding the address, and the signer can ask again. Run with the
production task backend (django-tasks-db) and its worker, against real SMTP servers."""

import datetime
import re
import time

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from signatories.links import Purpose, read_token
from signatories.models import Category, SignatoryKind
from signatories.signing import SignerDetails, sign_letter
from signatories.tasks import RETRY_DELAYS, send_signature_email
from tests.factories import make_letter
from tests.smtp import SilentServer
from tests.test_mail_wire import signer

# The worker closes the database connection between tasks, as in production: the tests
# commit for real (on PostgreSQL a test transaction would be cut off).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def unconfirmed():
    letter = make_letter(title="Letter on safer chat apps", accepts_public_signatures=True)
    return signer(letter, "Ada Unconfirmed", confirm=False)


def confirm_token(smtp_server) -> str:
    """The token of the confirm link in the one message the server received."""
    [message] = smtp_server.received
    return re.search(r"/confirm/([^/\s]+)/", message.text()).group(1)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def queued():
    return list(DBTaskResult.objects.ready().order_by("enqueued_at"))


def waiting():
    """Tasks queued to run later."""
    return list(DBTaskResult.objects.filter(status="READY").order_by("enqueued_at"))


def make_due(task_result: DBTaskResult):
    """Time passes: a retry queued for later is due now."""
    DBTaskResult.objects.filter(pk=task_result.pk).update(run_after=timezone.now())


def test_a_failed_confirmation_email_is_marked_for_staff_and_sent_by_a_later_retry(
    smtp_server, unconfirmed
):
    smtp_server.refuse = lambda n: n == 1
    send_signature_email.enqueue(unconfirmed.pk, "confirm")

    run_worker()

    unconfirmed.refresh_from_db()
    assert smtp_server.received == []
    assert unconfirmed.email_failed_at is not None
    assert unconfirmed.email_error.startswith(
        "confirm email: SMTPDataError 451: 4.3.0 Try again later (attempt 1, trying again at"
    )
    assert "attempt 1, trying again at" in unconfirmed.email_error
    [retry] = waiting()
    assert retry.args_kwargs["args"] == [unconfirmed.pk, "confirm", 2]
    delay = retry.run_after - unconfirmed.email_failed_at
    assert abs(delay - datetime.timedelta(seconds=RETRY_DELAYS[0])) < datetime.timedelta(seconds=5)
    assert queued() == []  # not before its time

    make_due(retry)
    run_worker()

    unconfirmed.refresh_from_db()
    assert smtp_server.recipients() == [unconfirmed.email]
    assert (unconfirmed.email_failed_at, unconfirmed.email_error) == (None, "")
    assert waiting() == []


def test_retries_back_off_and_give_up_after_the_last_attempt(smtp_server, unconfirmed):
    smtp_server.refuse = lambda n: True
    send_signature_email.enqueue(unconfirmed.pk, "confirm")
    delays = []

    run_worker()
    while retries := waiting():
        [retry] = retries
        unconfirmed.refresh_from_db()
        delays.append(round((retry.run_after - unconfirmed.email_failed_at).total_seconds()))
        make_due(retry)
        run_worker()

    unconfirmed.refresh_from_db()
    assert delays == [60, 300, 1800, 7200]
    assert smtp_server.attempts == 5
    assert unconfirmed.email_error.endswith("(attempt 5, not tried again)")
    assert unconfirmed.email_failed_at is not None


def test_a_silent_mail_server_fails_the_send_within_the_timeout_and_it_is_retried(
    settings, unconfirmed
):
    silent = SilentServer()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": silent.port, "timeout": 0.3},
        }
    }
    send_signature_email.enqueue(unconfirmed.pk, "confirm")
    started = time.monotonic()

    try:
        run_worker()
    finally:
        silent.close()

    assert time.monotonic() - started < 5
    unconfirmed.refresh_from_db()
    assert "timed out" in unconfirmed.email_error
    assert len(waiting()) == 1


def test_a_signer_whose_confirmation_failed_can_ask_again_and_the_old_retry_sends_nothing(
    smtp_server, unconfirmed
):
    smtp_server.refuse = lambda n: n == 1
    send_signature_email.enqueue(unconfirmed.pk, "confirm")
    run_worker()
    [retry] = waiting()

    # Signing again with the same address: a new submission, and its own link queued.
    again = sign_letter(
        letter=unconfirmed.letter,
        details=SignerDetails(
            kind=SignatoryKind.INDIVIDUAL,
            name="Ada Unconfirmed",
            email=unconfirmed.email.upper(),
            category=Category.SURVIVOR,
        ),
        ip_address="198.51.100.7",
    )
    run_worker()
    make_due(retry)
    run_worker()

    unconfirmed.refresh_from_db()
    assert smtp_server.recipients() == [unconfirmed.email.upper()]  # the new link, once
    assert read_token(confirm_token(smtp_server), Purpose.CONFIRM) == again.pk
    assert unconfirmed.email_failed_at is None


def test_a_refused_address_never_reaches_the_task_rows(smtp_server, unconfirmed):
    smtp_server.refuse_rcpt = {unconfirmed.email}
    send_signature_email.enqueue(unconfirmed.pk, "confirm")

    run_worker()
    while retries := waiting():
        make_due(retries[0])
        run_worker()

    unconfirmed.refresh_from_db()
    assert "SMTPRecipientsRefused 550" in unconfirmed.email_error
    rows = DBTaskResult.objects.values_list(
        "args_kwargs", "return_value", "traceback", "exception_class_path"
    )
    assert len(rows) == 5
    assert all(unconfirmed.email not in str(row) for row in rows)


def test_staff_find_signatures_whose_email_failed_in_the_admin(admin_client, smtp_server):
    letter = make_letter(accepts_public_signatures=True)
    failing = signer(letter, "Bea Failing", confirm=False)
    fine = signer(letter, "Cy Fine", confirm=False)
    smtp_server.refuse = lambda n: n == 1
    send_signature_email.enqueue(failing.pk, "confirm")
    send_signature_email.enqueue(fine.pk, "confirm")
    run_worker()

    changelist = reverse("admin:signatories_signature_changelist")
    listed = admin_client.get(changelist, {"email_failed_at__isnull": "False"})
    change = admin_client.get(reverse("admin:signatories_signature_change", args=[failing.pk]))

    assert [s.pk for s in listed.context["cl"].result_list] == [failing.pk]
    assert (
        "confirm email: SMTPDataError 451: 4.3.0 Try again later (attempt 1, trying again at"
        in (change.content.decode())
    )

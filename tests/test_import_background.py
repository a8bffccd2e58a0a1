"""Big files are checked and imported by the task worker, not in the web request: the
record says how far it got, the admin page refreshes itself until the preview (drawn from
the record) or the result is there, and a worker killed mid-run ends as a failed import
that says so. Small files keep the preview made in the request."""

import contextlib
import csv
import dataclasses
import datetime
import logging
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from signatories.importers import PROGRESS_EVERY, ImportReport, import_signatures
from signatories.importers.background import goes_to_worker, import_file, preview_file
from signatories.importers.stored import ROWS_KEPT, lengths, restore, shown_rows, store
from signatories.models import Signatory, Signature, SignatureImport
from signatories.stale_tasks import resume_stale_tasks
from tests.factories import make_letter, make_signatory, make_signature
from tests.test_follow_up_resume import shared_database, start_worker

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent / "files"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
Status = SignatureImport.Status


@pytest.fixture(autouse=True)
def low_threshold(settings):
    """Files of more than 20 rows go to the worker."""
    settings.IMPORT_BACKGROUND_ROWS = 20


@pytest.fixture
def database_tasks(settings):
    """Tasks stored in the database and run by ``db_worker``, as in production."""
    settings.TASKS = DATABASE_TASKS


def write_csv(path: Path, rows: int, *, bad_every: int = 0, duplicate_of: int = 0) -> Path:
    """``rows`` signatories as a partner's CSV: organisations and individuals, no
    ``display`` column (a warning); with ``bad_every``, every so many a country that does
    not exist and an invalid email; with ``duplicate_of``, the last row repeats that one's email."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "kind", "category", "country", "email"])
        for n in range(rows):
            person = n % 3 != 0
            bad = bad_every and n % bad_every == bad_every - 1
            country = "Atlantis" if bad else "GB"
            email = f"row-{duplicate_of if duplicate_of and n == rows - 1 else n}@example.org"
            if bad:  # and an error no mapping mends: the file must be corrected
                email = f"row-{n}-at-example.org"
            writer.writerow(
                [
                    f"Background Signer {n:06d}",
                    "individual" if person else "organisation",
                    "survivor" if person else "charity",
                    country,
                    email,
                ]
            )
    return path


def upload(client, letter, path: Path, **fields):
    return client.post(
        reverse("admin:letters_letter_import", args=[letter.pk]),
        {"file": SimpleUploadedFile(path.name, path.read_bytes()), **fields},
    )


def confirm(client, letter, record: SignatureImport):
    return client.post(
        reverse("admin:letters_letter_import", args=[letter.pk]), {"confirm": record.pk}
    )


def status_page(client, record: SignatureImport):
    url = reverse("admin:letters_letter_import_status", args=[record.letter_id, record.pk])
    return client.get(url).content.decode()


# ``db_worker`` closes a connection it finds in a transaction (``close_old_connections``):
# the tests that run it commit as they go.
RUNS_THE_WORKER = pytest.mark.django_db(transaction=True)


def run_worker():
    """``db_worker`` until no task is ready, as production runs it."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def preview_section(html: str) -> str:
    """The preview as the page shows it, with the record's number and the form's CSRF
    token left out."""
    section = html.split('<div id="content-main">')[1].split("<h2>Upload another file</h2>")[0]
    return re.sub(r'/import/\d+/|value="\d+"|name="csrfmiddlewaretoken" value="\w+"', "N", section)


def test_a_big_file_is_queued_and_not_read_in_the_request(
    admin_client, letter, tmp_path, database_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, letter, write_csv(tmp_path / "big.csv", 60))

    record = SignatureImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse(
        "admin:letters_letter_import_status", args=[letter.pk, record.pk]
    )
    assert (record.status, record.background, record.rows, record.stage) == (
        Status.QUEUED,
        True,
        0,
        "",
    )
    [queued] = DBTaskResult.objects.filter(task_path=preview_file.module_path)
    assert queued.status == TaskResultStatus.READY
    assert queued.args_kwargs == {"args": [record.pk], "kwargs": {}}  # no file, no email
    page = status_page(admin_client, record)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Waiting for the task worker" in page
    assert "Preview import" not in page  # no form that the refresh would wipe
    assert not Signatory.objects.exists()


def test_a_small_file_is_previewed_in_the_request(admin_client, letter, tmp_path):
    response = upload(admin_client, letter, write_csv(tmp_path / "small.csv", 20))

    record = SignatureImport.objects.get()
    assert response.status_code == 200
    assert "Preview of small.csv" in response.content.decode()
    assert "Confirm import" in response.content.decode()
    assert (record.status, record.background, record.report) == (Status.PREVIEWED, False, {})


@pytest.mark.parametrize(
    "name, rows, options",
    [
        ("clean.csv", 40, {}),
        ("errors.csv", 40, {"bad_every": 7, "duplicate_of": 3}),
        ("over-the-rows-shown.csv", ROWS_KEPT + 150, {"bad_every": 900, "duplicate_of": 5}),
    ],
)
def test_the_worker_shows_the_preview_the_request_would_have_shown(
    admin_client,
    letter,
    tmp_path,
    settings,
    django_capture_on_commit_callbacks,
    name,
    rows,
    options,
):
    path = write_csv(tmp_path / name, rows, **options)
    make_signature(
        letter, make_signatory(name="Background Signer 000000", email="row-0@example.org")
    )
    settings.IMPORT_BACKGROUND_ROWS = 100_000
    in_request = upload(admin_client, letter, path).content.decode()
    settings.IMPORT_BACKGROUND_ROWS = 20

    with django_capture_on_commit_callbacks(execute=True):  # the task runs at once
        upload(admin_client, letter, path)

    synchronous, background = SignatureImport.objects.order_by("pk")
    assert (synchronous.background, background.background) == (False, True)
    for field in ("status", "rows", "created", "matched", "skipped", "errors"):
        assert getattr(background, field) == getattr(synchronous, field), field
    assert preview_section(status_page(admin_client, background)) == preview_section(in_request)
    assert "Preview of " + name in in_request


def test_the_whole_preview_downloads_from_the_record_as_the_request_makes_it(
    admin_client, letter, tmp_path, settings, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "big.csv", 60, duplicate_of=2)
    settings.IMPORT_BACKGROUND_ROWS = 100_000
    upload(admin_client, letter, path)
    settings.IMPORT_BACKGROUND_ROWS = 20
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, path)
    synchronous, background = SignatureImport.objects.order_by("pk")

    def download(record):
        url = reverse("admin:letters_letter_import_preview", args=[letter.pk, record.pk])
        with CaptureQueriesContext(connection) as captured:
            body = b"".join(admin_client.get(url).streaming_content)
        return body, [q["sql"] for q in captured.captured_queries]

    (made_now, _), (kept, queries) = download(synchronous), download(background)

    assert kept == made_now
    assert len(kept.decode("utf-8-sig").splitlines()) == 61
    assert not [sql for sql in queries if Signatory._meta.db_table in sql]  # not run again


def test_a_finished_import_cannot_keep_its_file(letter):
    record = SignatureImport.objects.create(
        letter=letter, file_name="a.csv", file_size=5, content=b"a,b\n", status=Status.PREVIEWED
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        SignatureImport.objects.filter(pk=record.pk).update(status=Status.IMPORTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignatureImport.objects.filter(pk=record.pk).update(
            status=Status.FAILED, content=b"", preview_csv="line,name"
        )
    SignatureImport.objects.filter(pk=record.pk).update(status=Status.FAILED, content=b"")


@RUNS_THE_WORKER
def test_confirming_a_big_file_writes_every_row_in_the_worker(
    admin_client, letter, tmp_path, database_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, write_csv(tmp_path / "big.csv", 120), publish="on")
    run_worker()
    record = SignatureImport.objects.get()
    assert record.status == Status.PREVIEWED
    assert "Confirm import" in status_page(admin_client, record)

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(admin_client, letter, record)

    assert response.url.endswith(f"/import/{record.pk}/")
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED
    assert not Signature.objects.exists()
    assert "Importing big.csv" in status_page(admin_client, record)

    run_worker()

    record.refresh_from_db()
    assert (record.status, record.created, record.rows) == (Status.IMPORTED, 120, 120)
    assert Signature.objects.filter(letter=letter, status="published").count() == 120
    # Imported: the file and the preview's rows, which hold emails, are gone.
    assert (bytes(record.content), record.report, record.preview_csv) == (b"", {}, "")
    page = status_page(admin_client, record)
    assert "Imported big.csv: 120 new signatories, 0 existing ones signed, 0 skipped." in page
    assert "refresh" not in page


@RUNS_THE_WORKER
def test_confirming_a_big_file_twice_imports_it_once(
    admin_client, letter, tmp_path, database_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, write_csv(tmp_path / "big.csv", 30))
    run_worker()
    record = SignatureImport.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        confirm(admin_client, letter, record)
        again = confirm(admin_client, letter, record)
    run_worker()

    messages = [str(m) for m in again.wsgi_request._messages]
    assert any("already confirmed" in m for m in messages)
    assert DBTaskResult.objects.filter(task_path=import_file.module_path).count() == 1
    assert Signature.objects.filter(letter=letter).count() == 30


def test_a_file_refused_by_the_worker_keeps_its_errors_and_drops_the_file(
    admin_client, letter, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, write_csv(tmp_path / "bad.csv", 30, bad_every=10))

    record = SignatureImport.objects.get()
    page = status_page(admin_client, record)
    assert (record.status, bytes(record.content)) == (Status.REFUSED, b"")
    assert "3 rows with errors (6 errors in all)" in page
    assert "Atlantis" in page
    assert "Confirm import" not in page
    assert "Preview import" in page  # upload the corrected file


@RUNS_THE_WORKER
@pytest.mark.slow
def test_progress_is_recorded_by_stage_and_every_few_thousand_rows(
    letter, tmp_path, database_tasks, django_capture_on_commit_callbacks, admin_client
):
    rows = 2 * PROGRESS_EVERY + 10
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, write_csv(tmp_path / "big.csv", rows))

    with CaptureQueriesContext(connection) as captured:
        run_worker()

    table = SignatureImport._meta.db_table
    progress = [
        re.search(r"\"stage\" = '(\w*)', \"rows_done\" = (\d+), \"rows\" = (\d+)", q["sql"])
        for q in captured.captured_queries
        if q["sql"].startswith(f'UPDATE "{table}"')
    ]
    marks = [match.groups() for match in progress if match]
    assert marks == [
        ("reading", "0", "0"),
        ("checking", "0", str(rows)),
        ("checking", str(PROGRESS_EVERY), str(rows)),
        ("checking", str(2 * PROGRESS_EVERY), str(rows)),
        ("matching", "0", str(rows)),
    ]
    assert SignatureImport.objects.get().status == Status.PREVIEWED


@RUNS_THE_WORKER
@pytest.mark.slow
def test_a_worker_killed_mid_check_shows_its_progress_then_ends_as_failed(
    admin_client, tmp_path, database_tasks, django_capture_on_commit_callbacks
):
    letter = make_letter()
    rows = 60_000
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, write_csv(tmp_path / "huge.csv", rows))
    record = SignatureImport.objects.get()

    with shared_database(tmp_path) as url:
        worker = start_worker(url, smtp_port=1)
        try:
            wait_for_checking(url, record.pk)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=60)

    record.refresh_from_db()
    assert (record.status, record.stage) == (Status.PREVIEWING, "checking")
    assert PROGRESS_EVERY <= record.rows_done < record.rows == rows
    page = status_page(admin_client, record)
    assert f"Checking the rows: {record.rows_done:,} of {rows:,}" in page
    assert f'<progress max="{rows}" value="{record.rows_done}">' in page
    assert '<meta http-equiv="refresh" content="2">' in page
    log = admin_client.get(reverse("admin:signatories_signatureimport_changelist"))
    assert "Being checked by the task worker" in log.content.decode()
    assert f"Checking the rows: {record.rows_done:,} of {rows:,}" in log.content.decode()

    report = resume_stale_tasks(older_than=datetime.timedelta(0))

    assert (report.failed, report.requeued, report.imports_failed) == (1, 0, 1)
    record.refresh_from_db()
    assert record.status == Status.FAILED
    assert bytes(record.content) == b""
    page = status_page(admin_client, record)
    assert "The task worker stopped while checking the file" in page
    assert "upload the file again" in page
    assert "refresh" not in page
    assert "Preview import" in page
    assert not Signatory.objects.exists()


def wait_for_checking(url: str, import_id: int) -> None:
    """Until the worker (another process) says it has checked some rows."""
    query = "SELECT rows_done FROM signatories_signatureimport WHERE id = %s AND stage = 'checking'"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = read_shared(url, query, import_id)
        if done and done >= PROGRESS_EVERY:
            return
        time.sleep(0.02)
    raise AssertionError("The worker never got to checking the rows.")


def read_shared(url: str, query: str, import_id: int):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(query, [import_id])
            row = cursor.fetchone()
        return row[0] if row else None
    try:
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.1)) as db:
            row = db.execute(query.replace("%s", "?"), [import_id]).fetchone()
    except sqlite3.OperationalError:  # the worker is writing
        return None
    return row[0] if row else None


def test_a_worker_is_given_up_only_when_silent_for_longer_than_the_limit(
    admin_client, letter, tmp_path
):
    upload(admin_client, letter, write_csv(tmp_path / "big.csv", 30))
    record = SignatureImport.objects.get()
    # As a worker leaves it: checking the rows, last heard from 5 minutes ago.
    five_minutes_ago = record.created_at - datetime.timedelta(minutes=5)
    SignatureImport.objects.filter(pk=record.pk).update(
        status=Status.PREVIEWING, stage="checking", progress_at=five_minutes_ago
    )

    call_command("resume_stale_tasks", "--minutes", "15", stdout=open(os.devnull, "w"))  # noqa: SIM115
    record.refresh_from_db()
    assert record.status == Status.PREVIEWING

    report = resume_stale_tasks(older_than=datetime.timedelta(minutes=4))
    record.refresh_from_db()
    assert report.imports_failed == 1
    assert record.status == Status.FAILED
    assert "no news from it for 4 minutes" in record.failure


@RUNS_THE_WORKER
def test_an_error_in_the_worker_fails_the_import_and_keeps_the_file_out_of_the_task_row(
    admin_client,
    letter,
    tmp_path,
    settings,
    database_tasks,
    django_capture_on_commit_callbacks,
    caplog,
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, write_csv(tmp_path / "big.csv", 30))
    settings.IMPORT_MAX_CELLS = None  # a broken setting: reading the file raises TypeError

    with caplog.at_level(logging.ERROR, logger="signatories.importers.background"):
        run_worker()

    record = SignatureImport.objects.get()
    assert record.status == Status.FAILED
    assert "(an error: TypeError)" in record.failure
    assert bytes(record.content) == b""
    [task] = DBTaskResult.objects.filter(task_path=preview_file.module_path)
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert "Import %s stopped with an error" in caplog.records[0].msg
    assert "(an error: TypeError)" in status_page(admin_client, record)


def test_nobody_sees_another_persons_import_in_progress(client, admin_client, letter, tmp_path):
    upload(admin_client, letter, write_csv(tmp_path / "big.csv", 30))
    record = SignatureImport.objects.get()
    client.force_login(User.objects.create_superuser("other-admin"))

    url = reverse("admin:letters_letter_import_status", args=[letter.pk, record.pk])
    assert client.get(url).status_code == 404
    editor = User.objects.create_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))  # may not import at all
    client.force_login(editor)
    assert client.get(url).status_code == 403


def test_which_files_go_to_the_worker(settings):
    settings.IMPORT_BACKGROUND_ROWS = 100
    header = b"name,kind\r\n"

    assert not goes_to_worker(header + b"Org,organisation\r\n" * 100)
    assert goes_to_worker(header + b"Org,organisation\r\n" * 101)
    assert goes_to_worker(header + b"Org,organisation\r" * 101)  # old Mac line ends
    assert not goes_to_worker("name\n".encode("utf-16") + "Org\n".encode("utf-16-le") * 100)
    assert goes_to_worker("name\n".encode("utf-16") + "Org\n".encode("utf-16-le") * 101)
    # A workbook by its size: 5.6 kB is about 220 rows.
    workbook = (FILES / "signatories.xlsx").read_bytes()
    settings.IMPORT_BACKGROUND_ROWS = 200
    assert goes_to_worker(workbook)
    settings.IMPORT_BACKGROUND_ROWS = 300
    assert not goes_to_worker(workbook)


def test_a_stored_report_reads_back_as_the_report_it_was(letter, tmp_path):
    path = write_csv(tmp_path / "errors.csv", 40, bad_every=7, duplicate_of=3)
    make_signature(
        letter, make_signatory(name="Background Signer 000000", email="row-0@example.org")
    )
    report = import_signatures(
        letter=letter, data=path.read_bytes(), filename=path.name, dry_run=True
    )

    stored = restore(store(report))

    # Every field of every row, every property and every length: walked, not listed, so
    # that one added later is checked too.
    assert stored.rows == shown_rows(report)
    for field in dataclasses.fields(ImportReport):
        if field.name != "rows":
            assert getattr(stored, field.name) == getattr(report, field.name), field.name
    for name, value in store(report)["properties"].items():
        assert getattr(stored, name) == getattr(report, name) == value, name
    assert lengths(stored) == lengths(report)
    assert (lengths(report)["rows"], lengths(report)["errors"]) == (40, 10)  # two per bad row
    assert report.warnings  # no "display" column
    assert report.already_signed == 1 and report.duplicates == 1


def test_a_stored_report_keeps_no_more_than_the_rows_shown(letter, tmp_path):
    path = write_csv(tmp_path / "big.csv", ROWS_KEPT + 500, bad_every=1000)
    report = import_signatures(
        letter=letter, data=path.read_bytes(), filename=path.name, dry_run=True
    )

    stored = store(report)

    assert len(stored["rows"]) == ROWS_KEPT
    assert [row["line"] for row in stored["rows"][:5]] == [1001, 2001, 3001, 4001, 5001]
    assert (stored["lengths"]["rows"], stored["lengths"]["errors"]) == (ROWS_KEPT + 500, 10)

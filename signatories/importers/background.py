"""Big files checked and imported by the task worker, not in the web request.

Checking 100,000 rows takes tens of seconds and writing them a minute: too long for a
web request. A file of more than ``IMPORT_BACKGROUND_ROWS`` rows is therefore kept on a
``SignatureImport`` marked queued (``queue_preview``), and ``preview_file`` is queued once
that record is committed. The worker checks it as ``preview_import`` would, saying how
far it got on the record, and keeps the report there (``stored``); the admin page shows
the progress, refreshing itself, then the preview drawn from the record. Confirming marks
the record confirmed (``queue_confirmation``: a second confirmation is refused, as
``confirm_import`` refuses it) and queues ``import_file``, which writes.

Which files go to the worker is decided before reading them, from their bytes
(``estimated_rows``): reading is itself a good part of the time (1.5 s for 100,000 CSV
rows, 16 s for as many in an .xlsx), so counting the rows by reading would keep the
request waiting for what the worker is there to do.

A worker that dies mid-run (killed, out of memory) leaves its record previewing or
importing with its last progress growing old: ``fail_stale_imports``, which
``resume_stale_tasks`` runs from cron, marks it failed. It is not run again, unlike the
email tasks: a file that exhausted one worker's memory would exhaust the next. Nothing is
ever half-written: the rows are written in one transaction, and the record says imported
in that same transaction (``import_signatures``'s ``on_written``).
"""

import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from letters.models import Letter
from signatories import resilience
from signatories.importers import (
    ALREADY_CONFIRMED,
    FileRejected,
    ImportReport,
    Progress,
    import_signatures,
    record_options,
    set_import_outcome,
    set_preview_outcome,
    upload_record,
)
from signatories.importers.reading import OLE2_MAGIC, ZIP_MAGIC
from signatories.importers.stored import preview_csv, store
from signatories.models import DateOrder, ImportStage, SignatureImport

logger = logging.getLogger(__name__)

Status = SignatureImport.Status

# A workbook's rows cannot be counted without unpacking it; its size tells instead. An
# .xlsx of the import's columns, distinct names and emails in every row, holds 28 bytes
# per row, compressed (an .xls, uncompressed, more): taking fewer counts more rows, so a
# workbook near the limit goes to the worker, which is never wrong, only slower to show.
WORKBOOK_BYTES_PER_ROW = 25


def estimated_rows(data: bytes) -> int:
    """About how many signatories ``data`` holds, without reading it: a text file's line
    breaks but the header's (a blank line, or a quoted cell over several lines, counts
    more), a workbook's size over ``WORKBOOK_BYTES_PER_ROW``. Counting the line breaks of
    10 MB takes 10 ms."""
    if data.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        return len(data) // WORKBOOK_BYTES_PER_ROW
    return max(data.count(b"\n"), data.count(b"\r"), 1) - 1


def goes_to_worker(data: bytes) -> bool:
    """Whether the file is checked and imported by the task worker."""
    return estimated_rows(data) > settings.IMPORT_BACKGROUND_ROWS


def queue_preview(
    *,
    letter: Letter,
    data: bytes,
    filename: str,
    user,
    publish: bool,
    date_order: str = DateOrder.AUTO,
    mapping: dict[str, dict[str, str]] | None = None,
    same_as: dict[int, int] | None = None,
) -> SignatureImport:
    """Keep the file on a queued record, and have the worker check it once committed."""
    record = upload_record(
        letter=letter,
        data=data,
        filename=filename,
        user=user,
        publish=publish,
        date_order=date_order,
        mapping=mapping,
        same_as=same_as,
        status=Status.QUEUED,
        background=True,
    )
    record.save()
    transaction.on_commit(partial(_enqueue, preview_file, record.pk))
    return record


@transaction.atomic
def queue_confirmation(*, record: SignatureImport) -> SignatureImport:
    """Mark a previewed file confirmed, and have the worker import it once committed.
    Refuses one already confirmed (a double click, a replay)."""
    record = _locked(record.pk, Status.PREVIEWED)
    if record is None:
        raise FileRejected(ALREADY_CONFIRMED)
    record.status = Status.CONFIRMED
    record.stage, record.rows_done, record.progress_at = "", 0, None
    record.save()
    transaction.on_commit(partial(_enqueue, import_file, record.pk))
    return record


def _enqueue(task, import_id: int) -> None:
    if not resilience.enqueue(task, import_id):
        SignatureImport.objects.filter(pk=import_id, status__in=SignatureImport.WAITING).update(
            status=Status.FAILED,
            content=b"",
            preview_csv="",
            report={},
            failure="The task queue could not be reached, so the file was not sent to the "
            "task worker. Nothing was written: upload the file again.",
        )


class GivenUp(Exception):
    """The record was marked failed (or deleted) while the worker was on it: stop."""


@task()
def preview_file(import_id: int) -> str:
    """Check a queued file (a dry run, as ``preview_import``), and keep what it found on
    its record. Returns the record's status at the end."""
    record = _claim(import_id, waiting=Status.QUEUED, working=Status.PREVIEWING)
    if record is None:
        return "not queued"
    try:
        report = _run(record, dry_run=True)
    except GivenUp:
        return Status.FAILED
    except Exception as error:
        return _crashed(import_id, error)
    with transaction.atomic():
        record = _locked(import_id, Status.PREVIEWING)
        if record is None:
            return Status.FAILED
        set_preview_outcome(record, report)
        record.report = store(report)
        # The CSV download of the whole preview, made now: made on request, it would
        # take the request as long as the preview took the worker.
        record.preview_csv = preview_csv(report) if report.ok else ""
        record.stage = ""
        record.save()
    return record.status


@task()
def import_file(import_id: int) -> str:
    """Import a confirmed file, as ``confirm_import``. Returns the record's status at the
    end."""
    record = _claim(import_id, waiting=Status.CONFIRMED, working=Status.IMPORTING)
    if record is None:
        return "not confirmed"
    try:
        report = _run(record, dry_run=False, on_written=partial(_record_import, import_id))
    except GivenUp:
        return Status.FAILED
    except Exception as error:
        return _crashed(import_id, error)
    if not report.written:  # refused: nothing was written, and the record says why
        with transaction.atomic():
            _record_import(import_id, report)
    return Status.IMPORTED if report.written else Status.REFUSED


def _claim(import_id: int, *, waiting: str, working: str) -> SignatureImport | None:
    """The record, now marked ``working``; None when it was not ``waiting`` (another run
    of the task took it, or it was deleted)."""
    claimed = SignatureImport.objects.filter(pk=import_id, status=waiting).update(
        status=working, stage=ImportStage.READING, rows_done=0, progress_at=timezone.now()
    )
    if not claimed:
        return None
    return SignatureImport.objects.select_related("letter").defer("report").get(pk=import_id)


def _run(record: SignatureImport, *, dry_run: bool, on_written=None) -> ImportReport:
    return import_signatures(
        letter=record.letter,
        data=bytes(record.content),
        filename=record.file_name,
        dry_run=dry_run,
        publish=record.publish,
        **record_options(record),
        progress=_progress_recorder(record.pk),
        on_written=on_written,
    )


def _progress_recorder(import_id: int) -> Progress:
    def record_progress(stage: str, done: int, total: int) -> None:
        updated = SignatureImport.objects.filter(
            pk=import_id, status__in=SignatureImport.WORKING
        ).update(stage=stage, rows_done=done, rows=total, progress_at=timezone.now())
        if not updated:
            raise GivenUp

    return record_progress


def _locked(import_id: int, status: str) -> SignatureImport | None:
    """The record, locked until the transaction ends, if it is still ``status``."""
    return (
        SignatureImport.objects.select_for_update()
        .defer("content", "report")
        .filter(pk=import_id, status=status)
        .first()
    )


def _record_import(import_id: int, report: ImportReport) -> None:
    """What the import did, on its record, in the transaction that wrote the rows when
    it wrote them. A record given up meanwhile undoes the write (``GivenUp``)."""
    record = _locked(import_id, Status.IMPORTING)
    if record is None:
        raise GivenUp
    set_import_outcome(record, report)
    # Once imported, the rows shown in the preview are not needed, and hold private data.
    record.report = {} if report.written else store(report)
    record.stage = ""
    record.save()


def _crashed(import_id: int, error: Exception) -> str:
    # The traceback goes to the log, not to the task's row: an error's text may quote a
    # row of the file, with its email.
    logger.exception("Import %s stopped with an error", import_id)
    _give_up(SignatureImport.objects.filter(pk=import_id), f"an error: {type(error).__name__}")
    return Status.FAILED


def _give_up(records, why: str) -> int:
    """Mark those of ``records`` the worker is on failed, saying ``why``; the file is
    dropped. Returns how many."""
    failed = 0
    for status, doing in ((Status.PREVIEWING, "checking"), (Status.IMPORTING, "importing")):
        failed += records.filter(status=status).update(
            status=Status.FAILED,
            stage="",
            content=b"",
            preview_csv="",
            report={},
            failure=(
                f"The task worker stopped while {doing} the file ({why}). Nothing was "
                "written: upload the file again, or split it into smaller files."
            )[:300],
        )
    return failed


def fail_stale_imports(*, older_than: datetime.timedelta) -> int:
    """Mark failed the imports whose worker has said nothing for longer than
    ``older_than`` (it was killed, or ran out of memory). Returns how many."""
    cutoff = timezone.now() - older_than
    stale = SignatureImport.objects.filter(progress_at__lt=cutoff)
    minutes = older_than.total_seconds() / 60
    why = f"no news from it for {minutes:g} minutes: it was stopped, or ran out of memory"
    return _give_up(stale, why)

"""Bulk import of signatories into a letter from a CSV, XLSX, ODS or XLS file, as partners
send them.

``import_signatures`` reads the whole file, checks every row, matches rows against the
signatories already recorded, and writes only when every row is valid: all or nothing,
in one transaction, with bulk queries whose number does not grow with the file. A dry run
does the same work and writes nothing, so the admin can show a preview. Existing
signatories are matched, never modified: staff edits win over a partner's spreadsheet.

A file may have 100,000 rows, so the work per row is kept small: cells without accents or
control characters skip normalising, repeated values (kinds, countries, email domains)
are checked once, and no model instance is made per row. On PostgreSQL each lookup is one
query whatever the file's size (the values go as one array, not one parameter each) and
new rows are written with ``COPY``; elsewhere (SQLite, for trying the app) lookups are
chunked ``IN`` lists and inserts ``bulk_create``.

The stages, one module each: ``reading`` (a file into rows of text cells), ``cleaning``
(the header, rows that are not signatories, one cleaner per column), ``matching``
(against the database and within the file) and ``writing`` (bulk, in one transaction);
``report`` holds what they found.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from django.db import IntegrityError, transaction
from django.utils import timezone

from letters.models import Letter
from signatories.exports import csv_lines
from signatories.importers.cleaning import (
    COLUMNS,
    Rules,
    day_first,
    parse_row,
    read_header,
    signatory_records,
    without_hidden_names,
)
from signatories.importers.matching import resolve
from signatories.importers.reading import MAX_FILE_BYTES, MAX_ROWS, read_records
from signatories.importers.report import (
    FileRejected,
    ImportReport,
    ImportRow,
    NearMatch,
    Outcome,
    RowError,
)
from signatories.importers.similar import choose_same_as, near_matches
from signatories.importers.writing import write
from signatories.models import DateOrder, ImportStage, SignatoryKind, SignatureImport

__all__ = [
    "ALREADY_CONFIRMED",
    "COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "PROGRESS_EVERY",
    "FileRejected",
    "ImportReport",
    "ImportRow",
    "NearMatch",
    "Outcome",
    "Progress",
    "RowError",
    "confirm_import",
    "import_signatures",
    "preview_import",
    "read_records",
    "record_options",
    "set_aside",
    "upload_record",
    "record_import",
    "set_import_outcome",
    "set_preview_outcome",
    "template_csv",
]


# ``progress(stage, done, total)``: an ``ImportStage``, and rows done of the total when the
# stage counts them (else 0 and 0).
type Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 5000  # rows checked between two calls of ``progress``


def template_csv() -> bytes:
    """A UTF-8 CSV (with BOM, so Excel reads it as UTF-8) with every column and one
    example row to overwrite."""
    example = [
        "Example Organisation",
        "organisation",
        "charity",
        "GB",
        "",
        "",
        "https://example.org",
        "contact@example.org",
        "We support this letter.",
        "full",
        "2024-01-31",
        "unverified",
        "",
    ]
    return "".join(csv_lines(COLUMNS, [example])).encode("utf-8")


def import_signatures(
    *,
    letter: Letter,
    data: bytes,
    filename: str,
    dry_run: bool,
    publish: bool = False,
    date_order: str = DateOrder.AUTO,
    mapping: dict[str, dict[str, str]] | None = None,
    same_as: dict[int, int] | None = None,
    progress: Progress | None = None,
    on_written: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import the signatories in ``data`` (CSV, XLSX, ODS or XLS bytes) as signatures on ``letter``.

    Signatures are created with source "import", published when ``publish`` else pending
    review. Nothing is written when ``dry_run`` or when any row or the file is invalid.
    ``date_order`` says how to read dates such as 05/06/2023 (``DateOrder``); ``mapping``
    maps values of the file that are not known to known ones (``cleaning.parse_mapping``);
    ``same_as`` (``{line: signatory id}``) takes new rows as one of their possible
    duplicates, as staff chose in the preview (``similar``).

    For the task worker: ``progress`` is told as each stage begins, and every
    ``PROGRESS_EVERY`` rows checked; ``on_written(report)`` is called inside the
    transaction that wrote the rows, so that what it records commits with them or not at
    all (and an exception from it undoes the write).
    """
    with _collector_paused():
        return _import(
            letter=letter,
            data=data,
            filename=filename,
            dry_run=dry_run,
            publish=publish,
            date_order=date_order,
            mapping=mapping,
            same_as=same_as or {},
            progress=progress or _no_progress,
            on_written=on_written,
        )


def _no_progress(*args) -> None:
    pass


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration: an import makes a few
    objects per row that all live until it ends, and the collector would scan them again
    and again as they accumulate, for nothing (a third of the time of reading and
    checking 100,000 rows). Reference counting still frees what dies on the way."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    *,
    letter: Letter,
    data: bytes,
    filename: str,
    dry_run: bool,
    publish: bool,
    date_order: str,
    mapping: dict[str, dict[str, str]] | None,
    same_as: dict[int, int],
    progress: Progress,
    on_written: Callable[[ImportReport], None] | None,
) -> ImportReport:
    report = ImportReport(filename=filename, dry_run=dry_run, publish=publish)
    try:
        columns = _read_rows(
            data, report, date_order=date_order, mapping=mapping or {}, progress=progress
        )
    except FileRejected as rejected:
        report.file_errors.append(str(rejected))
        report.rows = []
        return report

    _warn_without_display(columns, report)
    progress(ImportStage.MATCHING, 0, len(report.rows))
    resolve(letter, report)
    # A preview lists possible duplicates; an import checks only the rows chosen "same as".
    near_matches(letter, report, lines=None if dry_run else set(same_as))
    choose_same_as(report, same_as)
    if report.ok and not dry_run:
        progress(ImportStage.WRITING, 0, len(report.rows))
        _write(letter, report, publish=publish, on_written=on_written)
    return report


def _warn_without_display(columns: dict[int, str], report: ImportReport) -> None:
    if "display" in columns.values():
        return
    people = sum(1 for row in report.rows if row.parsed.get("kind") == SignatoryKind.INDIVIDUAL)
    if people:
        report.warnings.append(
            f"There is no “display” column: {people} individuals will be shown by their "
            "full name once published."
        )


def _write(
    letter: Letter,
    report: ImportReport,
    *,
    publish: bool,
    on_written: Callable[[ImportReport], None] | None,
) -> None:
    try:
        # One transaction for the rows and what ``on_written`` records; without it,
        # ``write``'s own, and no savepoint more.
        with transaction.atomic() if on_written else nullcontext():
            write(letter, report.rows, publish=publish)
            report.written = True
            if on_written:
                on_written(report)
    except IntegrityError:
        report.written = False
        report.file_errors.append(
            "The database refused the import, probably because the same signatories were "
            "being saved at the same moment. Nothing was written; please try again."
        )


def _read_rows(
    data: bytes,
    report: ImportReport,
    *,
    date_order: str,
    mapping: dict[str, dict[str, str]],
    progress: Progress,
) -> dict[int, str]:
    """Read and clean every row into ``report``; the columns the header names."""
    progress(ImportStage.READING, 0, 0)
    sheet = read_records(data)
    report.source_format, report.text_lines = sheet.source_format, sheet.text_lines
    header = sheet.records[0][1]
    columns = read_header(header, report)
    signatories = signatory_records(sheet.records[1:], columns, report)
    signatories = without_hidden_names(signatories, columns, report)
    rules = Rules(
        day_first=day_first(signatories, columns, date_order, report),
        mapping=mapping,
        text_lines=sheet.text_lines,
    )
    report.rows = []
    for start in range(0, len(signatories), PROGRESS_EVERY):
        progress(ImportStage.CHECKING, start, len(signatories))
        report.rows += [
            parse_row(line, cells, columns, len(header), rules)
            for line, cells in signatories[start : start + PROGRESS_EVERY]
        ]
    report.unknown_values = rules.unknown
    if not report.rows:
        raise FileRejected("The file has a header row but no signatories below it.")
    return columns


# Recording imports (one entry per import, for the audit trail)


def _store_counts(record: SignatureImport, report: ImportReport) -> None:
    record.rows = len(report.rows)
    record.created = report.created
    record.matched = report.matched
    record.skipped = report.skipped
    record.errors = len(report.errors) + len(report.file_errors)


def record_options(record: SignatureImport) -> dict:
    """How the file on ``record`` is read each time: the date order, and the values and
    possible duplicates staff chose in the preview."""
    return {
        "date_order": record.date_order,
        "mapping": record.mapping,
        "same_as": {int(line): pk for line, pk in record.same_as.items()},
    }


def set_preview_outcome(record: SignatureImport, report: ImportReport) -> None:
    """What a preview found, on its record (not saved): previewed, the file kept for the
    confirmation, or for checking again when every error is a value staff can map; else
    refused, the file dropped (it must be corrected)."""
    _store_counts(record, report)
    mappable = sum(sum(counts.values()) for counts in report.unknown_values.values())
    kept = report.ok or (not report.file_errors and mappable == len(report.errors))
    record.status = SignatureImport.Status.PREVIEWED if kept else SignatureImport.Status.REFUSED
    if not kept:
        record.content = b""


def set_import_outcome(record: SignatureImport, report: ImportReport) -> None:
    """What a confirmed import did, on its record (not saved); the file is dropped."""
    _store_counts(record, report)
    record.status = (
        SignatureImport.Status.IMPORTED if report.written else SignatureImport.Status.REFUSED
    )
    record.imported_at = timezone.now() if report.written else None
    record.content = b""
    record.preview_csv = ""


ALREADY_CONFIRMED = "This import was already confirmed or refused; upload the file again."


def upload_record(
    *,
    letter: Letter,
    data: bytes,
    filename: str,
    user,
    publish: bool,
    date_order: str,
    mapping: dict[str, dict[str, str]] | None,
    same_as: dict[int, int] | None,
    **fields,
) -> SignatureImport:
    """An unsaved record of an uploaded file, with how it is to be read (``fields``: its
    status and the like, where the caller sets them)."""
    return SignatureImport(
        letter=letter,
        user=user,
        file_name=filename[:255],
        file_size=len(data),
        publish=publish,
        date_order=date_order,
        mapping=mapping or {},
        same_as={str(line): pk for line, pk in (same_as or {}).items()},
        content=data,
        **fields,
    )


def preview_import(
    *,
    letter: Letter,
    data: bytes,
    filename: str,
    user,
    publish: bool,
    date_order: str = DateOrder.AUTO,
    mapping: dict[str, dict[str, str]] | None = None,
    same_as: dict[int, int] | None = None,
) -> tuple[ImportReport, SignatureImport]:
    """A dry run whose file is kept, so that staff can confirm exactly what they saw."""
    record = upload_record(
        letter=letter,
        data=data,
        filename=filename,
        user=user,
        publish=publish,
        date_order=date_order,
        mapping=mapping,
        same_as=same_as,
    )
    report = import_signatures(
        letter=letter,
        data=data,
        filename=filename,
        dry_run=True,
        publish=publish,
        **record_options(record),
    )
    set_preview_outcome(record, report)
    record.save()
    return report, record


@transaction.atomic
def confirm_import(*, record: SignatureImport) -> ImportReport:
    """Import a previewed file. Refuses one already imported (a double click, a replay)."""
    record = SignatureImport.objects.select_for_update().get(pk=record.pk)
    if record.status != SignatureImport.Status.PREVIEWED:
        raise FileRejected(ALREADY_CONFIRMED)
    report = import_signatures(
        letter=record.letter,
        data=bytes(record.content),
        filename=record.file_name,
        dry_run=False,
        publish=record.publish,
        **record_options(record),
    )
    set_import_outcome(record, report)
    record.save()
    return report


@transaction.atomic
def set_aside(*, record: SignatureImport) -> bytes:
    """A previewed file's bytes, its record set aside (refused, the file dropped) because
    staff are checking the file again with their choices: a new preview takes its place."""
    record = SignatureImport.objects.select_for_update().get(pk=record.pk)
    if record.status != SignatureImport.Status.PREVIEWED:
        raise FileRejected(ALREADY_CONFIRMED)
    data = bytes(record.content)
    record.status, record.content, record.preview_csv = SignatureImport.Status.REFUSED, b"", ""
    record.save(update_fields=["status", "content", "preview_csv"])
    return data


def record_import(
    *, letter: Letter, report: ImportReport, file_size: int, user=None
) -> SignatureImport:
    """Log an import run outside the admin (the management command)."""
    record = SignatureImport(
        letter=letter,
        user=user,
        file_name=report.filename[:255],
        file_size=file_size,
        publish=report.publish,
        status=SignatureImport.Status.IMPORTED
        if report.written
        else SignatureImport.Status.REFUSED,
        imported_at=timezone.now() if report.written else None,
    )
    _store_counts(record, report)
    record.save()
    return record

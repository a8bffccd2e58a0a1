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
"""

import csv
import gc
import io
import re
import string
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache, lru_cache
from itertools import zip_longest
from pathlib import Path
from typing import Any

import django_countries
from defusedxml import ElementTree as DefusedElementTree
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, F, Lookup, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.text import slugify
from django_countries import countries

from letters.models import Letter
from signatories.exports import FORMULA_PREFIXES, csv_lines
from signatories.models import (
    INDIVIDUAL_CATEGORIES,
    ORGANISATION_CATEGORIES,
    Category,
    DateOrder,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureImport,
    list_sort_key,
    normalise_name,
)
from signatories.tallies import schedule_refresh

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
# Strings per ``IN`` list where lookups are chunked (not PostgreSQL).
LOOKUP_CHUNK = 10_000
# ``slug LIKE 'base-%'`` terms per query: SQLite parses a chain of ORs as a tree no
# deeper than 1,000.
SLUG_PREFIX_CHUNK = 200
# Rows per INSERT where ``bulk_create`` writes (not PostgreSQL); Django lowers it to what
# SQLite's limit on query parameters allows.
INSERT_BATCH = 1000

COLUMNS = [
    "name",
    "kind",
    "category",
    "country",
    "role",
    "affiliation",
    "website",
    "email",
    "statement",
    "display",
    "signed_at",
]
# Our own CSV export calls the date ``signed_on``; accepting it keeps export → import
# lossless.
COLUMN_ALIASES = {"signed_on": "signed_at", "e_mail": "email"}

TEXT_LIMITS = {
    "name": Signatory._meta.get_field("name").max_length,
    "role": Signatory._meta.get_field("role").max_length,
    "affiliation": Signatory._meta.get_field("affiliation").max_length,
    "website": Signatory._meta.get_field("website").max_length,
    "email": Signatory._meta.get_field("email").max_length,
}

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or an encrypted workbook
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
BINARY_MESSAGE = (
    "The file is not a spreadsheet that can be read: upload a CSV (text) file or an Excel "
    "workbook (.xlsx)."
)

# C0 and C1 control characters other than tab, line feed and carriage return: never
# part of a real cell, common in binary files.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date as people in most of Europe and the US write it: 14.09.2023, 25/09/2023, 9/14/2023.
LOCAL_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
HTTP_URL = re.compile(r"https?://", re.IGNORECASE)
# Any scheme ("ftp:", "javascript:", "mailto:"): a website without one is taken as https.
URL_SCHEME = re.compile(r"[a-z][a-z0-9+-]*:", re.IGNORECASE)


class _EmailValidator(EmailValidator):
    """Django's email validator, with each domain's verdict remembered: the addresses in a
    file share a few domains, and the domain is the costly half to check."""

    # The compiled pattern itself, not Django's lazy proxy to it (a lookup on every use).
    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)

    def __init__(self):
        super().__init__()
        self.validate_domain_part = lru_cache(maxsize=4096)(super().validate_domain_part)


validate_email = _EmailValidator()
validate_website = URLValidator(schemes=["http", "https"])


class Outcome(models.TextChoices):
    NEW = "new", "New signatory"
    MATCH = "match", "Existing signatory, new signature"
    ALREADY_SIGNED = "already_signed", "Already signed this letter: skipped"
    DUPLICATE = "duplicate", "Same person earlier in the file: skipped"
    ERROR = "error", "Error"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"Line {self.line}, column “{self.column}”: {self.reason}"


@dataclass(slots=True)
class ImportRow:
    """One data row of the file. ``values`` holds the cells as read (trimmed, with the
    export's formula guard removed); ``parsed`` the cleaned values the import writes."""

    line: int
    values: dict[str, str]
    parsed: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    outcome: str = Outcome.NEW
    duplicate_of: int | None = None
    signatory_id: int | None = None
    # The matched signatory's kind and name as stored (its place in the signature list).
    signatory_kind_name: tuple[str, str] | None = None


@dataclass
class ImportReport:
    """What an import found and did. ``ok``: no file or row errors. ``written``: the
    import was carried out (not a dry run, nothing invalid), even if every row was
    skipped. Counts cover what was, or on a dry run would be, created and matched."""

    filename: str
    dry_run: bool
    publish: bool = False
    source_format: str = ""
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def errors(self) -> list[RowError]:
        """Every row error, in file order."""
        return [error for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(row.errors for row in self.rows)

    def _count(self, *outcomes: str) -> int:
        return sum(1 for row in self.rows if row.outcome in outcomes)

    @property
    def created(self) -> int:
        return self._count(Outcome.NEW)

    @property
    def matched(self) -> int:
        return self._count(Outcome.MATCH)

    @property
    def already_signed(self) -> int:
        return self._count(Outcome.ALREADY_SIGNED)

    @property
    def duplicates(self) -> int:
        return self._count(Outcome.DUPLICATE)

    @property
    def skipped(self) -> int:
        return self._count(Outcome.ALREADY_SIGNED, Outcome.DUPLICATE)

    @property
    def error_rows(self) -> int:
        return self._count(Outcome.ERROR)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "matched": self.matched,
            "skipped": self.skipped,
            "errors": self.error_rows,
        }


class FileRejected(Exception):
    """The file as a whole cannot be imported; the message says why, for a person."""


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
) -> ImportReport:
    """Import the signatories in ``data`` (CSV, XLSX, ODS or XLS bytes) as signatures on ``letter``.

    Signatures are created with source "import", published when ``publish`` else pending
    review. Nothing is written when ``dry_run`` or when any row or the file is invalid.
    ``date_order`` says how to read dates such as 05/06/2023 (``DateOrder``).
    """
    with _collector_paused():
        return _import(
            letter=letter,
            data=data,
            filename=filename,
            dry_run=dry_run,
            publish=publish,
            date_order=date_order,
        )


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
    *, letter: Letter, data: bytes, filename: str, dry_run: bool, publish: bool, date_order: str
) -> ImportReport:
    report = ImportReport(filename=filename, dry_run=dry_run, publish=publish)
    try:
        report.source_format, records = read_records(data)
        header = records[0][1]
        columns = _read_header(header, report)
        signatories = _without_totals(records[1:], columns, report)
        day_first = _day_first(signatories, columns, date_order, report)
        report.rows = [
            _parse_row(line, cells, columns, len(header), day_first=day_first)
            for line, cells in signatories
        ]
        if not report.rows:
            raise FileRejected("The file has a header row but no signatories below it.")
    except FileRejected as rejected:
        report.file_errors.append(str(rejected))
        report.rows = []
        return report

    if "display" not in columns.values():
        people = sum(1 for row in report.rows if row.parsed.get("kind") == SignatoryKind.INDIVIDUAL)
        if people:
            report.warnings.append(
                f"There is no “display” column: {people} individuals will be shown by their "
                "full name once published."
            )

    _resolve(letter, report.rows)
    if report.ok and not dry_run:
        try:
            _write(letter, report.rows, publish=publish)
        except IntegrityError:
            report.file_errors.append(
                "The database refused the import, probably because the same signatories were "
                "being saved at the same moment. Nothing was written; please try again."
            )
        else:
            report.written = True
    return report


# Reading the file


def read_records(data: bytes) -> tuple[str, list[tuple[int, list[str]]]]:
    """The non-blank rows of a CSV file or a workbook's first sheet as ``(line, cells)``,
    line numbers counted as a spreadsheet shows them (blank rows included), and a
    description of the format. The first record is the header."""
    if not data or not data.strip():
        raise FileRejected("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected(
            f"The file is too large ({len(data) / 1_048_576:.1f} MB); the limit is "
            f"{MAX_FILE_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    if data.startswith(ZIP_MAGIC) and _is_opendocument(data):
        sheet, rows = _calamine_rows(data)
        source_format = f"ODS (first sheet, “{sheet}”)"
        controls = True
    elif data.startswith(ZIP_MAGIC):
        sheet, rows = _xlsx_rows(data)
        source_format = f"XLSX (first sheet, “{sheet}”)"
        controls = True
    elif data.startswith(OLE2_MAGIC):
        sheet, rows = _calamine_rows(data)
        source_format = f"XLS (first sheet, “{sheet}”)"
        controls = True
    else:
        text, encoding = _decode(data)
        delimiter = _sniff_delimiter(text)
        rows = _csv_rows(text, delimiter)
        names = {",": "comma", ";": "semicolon", "\t": "tab"}
        source_format = f"CSV ({encoding}, {names[delimiter]}-separated)"
        # Most files have none at all; then no cell needs searching for them.
        controls = CONTROL_CHARACTERS.search(text) is not None

    # What a sheet costs to read is its cells, empty ones included (a row is at least
    # one): counted as they come, so a sheet that goes on and on stops at the limit.
    max_cells, max_columns = settings.IMPORT_MAX_CELLS, settings.IMPORT_MAX_COLUMNS
    cells_read = 0
    records = []
    for line, cells in rows:
        cells_read += max(len(cells), 1)
        if cells_read > max_cells:
            raise FileRejected(_too_many_cells(max_cells))
        cleaned = [_clean_cell(cell, controls) for cell in cells]
        width = len(cleaned)
        while width and not cleaned[width - 1]:
            width -= 1
        if width > max_columns:
            raise FileRejected(
                f"Line {line} has a value in column {width:,}; at most {max_columns:,} "
                "columns are read. Delete what is beyond the signatories' columns, or save "
                "them alone as CSV."
            )
        if not any(cleaned):
            continue
        if len(records) > MAX_ROWS:
            raise FileRejected(
                f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
            )
        records.append((line, cleaned))
    if not records:
        raise FileRejected("The file is empty.")
    return source_format, records


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-8 (with or without BOM) when the bytes
    are valid UTF-8, else Windows-1252 (what Excel writes on Windows), else Latin-1."""
    text, encoding = _try_decode(data)
    text = text.removeprefix("\ufeff").rstrip("\x1a")  # old DOS end-of-file marker
    sample = text[:65536]
    if "\x00" in sample or len(CONTROL_CHARACTERS.findall(sample)) > len(sample) / 100:
        raise FileRejected(BINARY_MESSAGE)
    return text, encoding


def _try_decode(data: bytes) -> tuple[str, str]:
    if data.startswith(UTF16_BOMS):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise FileRejected(BINARY_MESSAGE) from None
    if b"\x00" in data:
        raise FileRejected(BINARY_MESSAGE)
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab, whichever the header line uses most (outside quotes)."""
    header = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda char: counts[char])  # ties go to the comma
    return best if counts[best] else ","


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # One record is one spreadsheet row, even when a quoted cell spans several lines.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            yield line, cells
    except csv.Error as error:
        raise FileRejected(
            f"Line {line + 1} cannot be read as CSV ({error}). Check its quotes."
        ) from None


def _too_many_cells(max_cells: int) -> str:
    return (
        f"The sheet has more than {max_cells:,} cells (empty cells count where the sheet "
        "records them, e.g. formatted ones). Copy the signatories alone into a new "
        "workbook or a CSV file, or split it into smaller files."
    )


NOT_A_WORKBOOK = (
    "The file looks like a ZIP archive but is not an Excel workbook (.xlsx) that can "
    "be read. Save it again as .xlsx or CSV."
)


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than ``IMPORT_XLSX_MAX_UNPACKED_BYTES``
    before openpyxl reads any of them (it reads the whole shared-strings part at once).
    The sizes are those the ZIP directory declares, and they hold: ``zipfile``, which
    openpyxl reads through, stops each part at its declared size (and fails its CRC check
    if the data went on)."""
    limit = settings.IMPORT_XLSX_MAX_UNPACKED_BYTES
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise FileRejected(NOT_A_WORKBOOK) from e
    if unpacked > limit:
        raise FileRejected(
            f"The workbook unpacks to {unpacked / 1_048_576:.1f} MB, over the limit of "
            f"{limit / 1_048_576:.0f} MB: it holds far more than a list of signatories. "
            "Copy the signatories alone into a new workbook or a CSV file."
        )


def _xlsx_rows(data: bytes) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    from openpyxl import load_workbook  # only XLSX uploads pay for importing openpyxl

    _check_unpacked_size(data)
    # openpyxl raises many kinds of exception on a damaged or foreign file; for a person
    # uploading it they all mean the same thing.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        declared_cells = (sheet.max_row or 0) * (sheet.max_column or 0)
    except Exception as e:
        raise FileRejected(NOT_A_WORKBOOK) from e
    if declared_cells > settings.IMPORT_MAX_CELLS:
        workbook.close()
        raise FileRejected(_too_many_cells(settings.IMPORT_MAX_CELLS))

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            # Some programs write a wrong sheet size; read whatever is there.
            sheet.reset_dimensions()
            for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield line, [_xlsx_text(value) for value in values]
        except Exception as e:
            raise FileRejected(
                "The Excel workbook is damaged and cannot be read. Save it again as .xlsx or CSV."
            ) from e
        finally:
            workbook.close()

    return sheet.title, rows()


ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
NOT_A_SPREADSHEET = (
    "The workbook cannot be read: it is damaged, protected by a password, or not a "
    "spreadsheet. Save it again (.ods, .xlsx or CSV) without a password."
)


def _is_opendocument(data: bytes) -> bool:
    """An OpenDocument file names its type in a first, uncompressed ``mimetype`` part."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read("mimetype").strip() == ODS_MIMETYPE
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, EOFError):
        return False


def _calamine_rows(data: bytes) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    """The first sheet of an OpenDocument (.ods, LibreOffice's own format) or legacy Excel
    (.xls) workbook, read by python-calamine. A merged cell's value fills its whole range
    (a country merged over the rows of several signatories belongs to each of them)."""
    from python_calamine import CalamineWorkbook  # only these uploads pay for it

    if data.startswith(ZIP_MAGIC):
        _check_unpacked_size(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        if sheet.height * sheet.width > settings.IMPORT_MAX_CELLS:
            raise FileRejected(_too_many_cells(settings.IMPORT_MAX_CELLS))
        values = sheet.to_python(skip_empty_area=False)
        # calamine sees .xls merges, not OpenDocument's: those are read from the file.
        merged = sheet.merged_cell_ranges or (
            _ods_merged_ranges(data) if data.startswith(ZIP_MAGIC) else []
        )
    except FileRejected:
        raise
    except Exception as e:  # calamine's errors, a password, a foreign file: all the same here
        raise FileRejected(NOT_A_SPREADSHEET) from e
    for (top, left), (bottom, right) in merged:
        if top < len(values) and left < len(values[top]):
            value = values[top][left]
            for row in range(top, min(bottom, len(values) - 1) + 1):
                cells = values[row]
                for column in range(left, min(right, len(cells) - 1) + 1):
                    cells[column] = value
    rows = ((line, [_xlsx_text(value) for value in cells]) for line, cells in enumerate(values, 1))
    return sheet.name, rows


ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _ods_merged_ranges(data: bytes) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The merged ranges of an OpenDocument workbook's first sheet, ``((top, left),
    (bottom, right))`` counted from 0, as calamine gives them for .xls: a cell that spans
    rows or columns (``table:number-rows-spanned``…), counting repeated rows and cells.
    The parts were size-checked before (``_check_unpacked_size``); defusedxml refuses
    entity expansion and external entities."""
    ranges = []
    row = next_row = column = tables = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as content:
        for event, element in DefusedElementTree.iterparse(content, events=("start", "end")):
            tag, attribute = element.tag, element.attrib.get
            if tag == f"{ODS_TABLE}table" and event == "start":
                tables += 1
                if tables > 1:
                    break
            elif tag == f"{ODS_TABLE}table-row":
                if event == "start":
                    row, column = next_row, 0
                else:
                    next_row = row + int(attribute(f"{ODS_TABLE}number-rows-repeated", 1))
                    element.clear()
            elif event == "start" and tag in (
                f"{ODS_TABLE}table-cell",
                f"{ODS_TABLE}covered-table-cell",
            ):
                rows = int(attribute(f"{ODS_TABLE}number-rows-spanned", 1))
                columns = int(attribute(f"{ODS_TABLE}number-columns-spanned", 1))
                if tag == f"{ODS_TABLE}table-cell" and (rows > 1 or columns > 1):
                    ranges.append(((row, column), (row + rows - 1, column + columns - 1)))
                column += int(attribute(f"{ODS_TABLE}number-columns-repeated", 1))
    return ranges


def _xlsx_text(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _clean_cell(value: str, controls: bool = True) -> str:
    """NFC-normalised, trimmed, without control characters (``controls=False``: there
    are none) or our export's formula guard: ``'=SUM(…)`` comes back as ``=SUM(…)``."""
    if not value.isascii():  # ASCII text is NFC already
        value = unicodedata.normalize("NFC", value)
    if controls:
        value = CONTROL_CHARACTERS.sub("", value)
    value = value.strip()
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_PREFIXES:
        value = value[1:].strip()
    return value


# Header and rows


def _column_key(header: str) -> str:
    key = re.sub(r"[\s\-]+", "_", header.replace("\ufeff", "").strip().casefold())
    return COLUMN_ALIASES.get(key, key)


def _read_header(cells: list[str], report: ImportReport) -> dict[int, str]:
    """``{cell index: column}`` for the known columns; unknown ones become a warning."""
    columns: dict[int, str] = {}
    for index, cell in enumerate(cells):
        key = _column_key(cell)
        if not key:
            continue
        if key not in COLUMNS:
            report.unknown_columns.append(cell)
        elif key in columns.values():
            raise FileRejected(f"The column “{key}” appears more than once in the header.")
        else:
            columns[index] = key
    if "name" not in columns.values():
        raise FileRejected(
            "The header row (the first non-blank row) has no “name” column. Expected columns: "
            + ", ".join(COLUMNS)
            + "."
        )
    if report.unknown_columns:
        report.warnings.append(
            "Unknown columns, ignored: " + ", ".join(report.unknown_columns) + "."
        )
    return columns


@lru_cache(maxsize=4096)
def _choice_key(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


KINDS = {
    **{_choice_key(kind.value): kind for kind in SignatoryKind},
    **{_choice_key(kind.label): kind for kind in SignatoryKind},
    "organization": SignatoryKind.ORGANISATION,
    "org": SignatoryKind.ORGANISATION,
    "person": SignatoryKind.INDIVIDUAL,
}
CATEGORIES = {
    **{_choice_key(category.value): category for category in Category},
    **{_choice_key(category.label): category for category in Category},
}
CATEGORIES_BY_KIND = {
    SignatoryKind.INDIVIDUAL: INDIVIDUAL_CATEGORIES,
    SignatoryKind.ORGANISATION: ORGANISATION_CATEGORIES,
}
DISPLAYS = {
    **{_choice_key(display.value): display for display in Display},
    **{_choice_key(display.label): display for display in Display},
    "first": Display.FIRST_NAME,
    "anon": Display.ANONYMOUS,
}

# Names people write that are not ISO's English names; ISO's own (current and former)
# names and codes come from django-countries.
COUNTRY_ALIASES = {
    "GB": [
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ],
    "US": ["USA", "U.S.A.", "U.S.", "United States", "America"],
    "AE": ["UAE", "U.A.E."],
    "CD": ["DRC", "DR Congo", "Congo-Kinshasa"],
    "CG": ["Republic of the Congo", "Congo-Brazzaville"],
    "CI": ["Ivory Coast"],
    "CV": ["Cape Verde"],
    "IE": ["Republic of Ireland", "Eire"],
    "KR": ["Republic of Korea"],
    "MM": ["Burma"],
    "NL": ["Holland"],
    "TL": ["East Timor"],
    "VA": ["Vatican", "Holy See"],
    "MO": ["Macau"],
}


def _country_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = " ".join(text.replace(".", " ").replace(",", " ").split())
    return text.removeprefix("the ")


def _catalogue_languages() -> list[str]:
    """The languages django-countries has country names in (its own translations, kept
    with the package): German, French, Spanish, Danish, Dutch, Greek, Thai… all but
    English, which is read first."""
    locale = Path(django_countries.__file__).parent / "locale"
    found = {
        translation.to_language(folder.name.partition("@")[0])
        for folder in locale.iterdir()
        if (folder / "LC_MESSAGES" / "django.mo").exists()
    }
    return sorted(found - {"en"})


@cache
def _country_lookup() -> dict[str, str]:
    """Every name a country may be written with, folded (``_country_key``) → its code:
    ISO's English names (current and former), the aliases above, alpha-3 and alpha-2
    codes, then its name in each language django-countries translates it into. A name
    that means two countries in two languages is left out rather than guessed."""
    lookup: dict[str, str] = {}
    with translation.override("en"):
        for code, name in countries:
            lookup[_country_key(name)] = code
            for old_name in countries.shadowed_names.get(code, []):
                lookup.setdefault(_country_key(str(old_name)), code)
    for code, aliases in COUNTRY_ALIASES.items():
        for alias in aliases:
            lookup[_country_key(alias)] = code
    for code, (alpha3, _numeric) in countries.alt_codes.items():
        if code in countries:
            lookup[alpha3.casefold()] = code
    for code in countries.countries:
        lookup[code.casefold()] = code
    translated: dict[str, set[str]] = {}
    for language in _catalogue_languages():
        with translation.override(language):
            for code, name in countries:
                translated.setdefault(_country_key(str(name)), set()).add(code)
    for key, codes in translated.items():
        if len(codes) == 1 and key not in lookup:
            lookup[key] = codes.pop()
    return lookup


@lru_cache(maxsize=4096)
def _country_code(text: str) -> str | None:
    return _country_lookup().get(_country_key(text))


def _index_of(column: str, columns: dict[int, str]) -> int | None:
    """The position of ``column`` in the file (``_read_header``'s map), or None."""
    return next((index for index, name in columns.items() if name == column), None)


TOTALS_NAME = re.compile(r"(grand\s+)?(sub)?totals?\b", re.IGNORECASE)
# A spreadsheet function as a sheet saved with formulas shows it (=COUNTA(A2:A104)); a
# name that merely starts with "=" (our export guards those) is a name.
FORMULA = re.compile(r"=\s*[A-Z][A-Z0-9.]*\(", re.IGNORECASE)
WHOLE_NUMBER = re.compile(r"\d{1,3}([.,\s]?\d{3})*")  # 104, 1,234, 1 234; not a date


def _without_totals(
    records: list[tuple[int, list[str]]], columns: dict[int, str], report
) -> list[tuple[int, list[str]]]:
    """The records less a spreadsheet's totals or formula rows, each skipped with a
    warning naming its line: a name that is a spreadsheet formula (``=COUNTA(A2:A104)``),
    or a name such as "Total signatories" with a whole number in another cell. Such a row
    is never a signatory."""
    index = _index_of("name", columns)
    kept = []
    for line, cells in records:
        name = cells[index] if index is not None and index < len(cells) else ""
        others = [cell for i, cell in enumerate(cells) if i != index and cell]
        if FORMULA.match(name):
            report.warnings.append(f"Line {line} is a formula (“{name[:40]}”), not imported.")
        elif TOTALS_NAME.match(name) and any(WHOLE_NUMBER.fullmatch(cell) for cell in others):
            report.warnings.append(
                f"Line {line} looks like a totals row (“{name[:40]}”), not imported."
            )
        else:
            kept.append((line, cells))
    return kept


def _day_first(
    records: list[tuple[int, list[str]]], columns: dict[int, str], order: str, report
) -> bool:
    """Whether dates such as 05/06/2023 are read day first: as chosen, or as the file's
    own dates show (a first number over 12 is a day; a second over 12, a month is first).
    A file that shows both, or neither while it has such dates and no order was chosen,
    is refused: a date read the wrong way would be a silent error on every row. The rule
    used is reported among the warnings."""
    index = _index_of("signed_at", columns)
    dates = [
        (line, match)
        for line, cells in records
        if index is not None
        and index < len(cells)
        and (match := LOCAL_DATE.fullmatch(cells[index]))
    ]
    if not dates:
        return False
    if order != DateOrder.AUTO:
        day_first = order == DateOrder.DAY_FIRST
        report.warnings.append(
            f"Dates such as “{dates[0][1][0]}” were read {'day' if day_first else 'month'} "
            "first, as chosen."
        )
        return day_first
    days = next(((line, m[0]) for line, m in dates if int(m[1]) > 12), None)
    months = next(((line, m[0]) for line, m in dates if int(m[2]) > 12), None)
    if days and months:
        raise FileRejected(
            f"The dates are written two ways: line {days[0]} has “{days[1]}” (day first) and "
            f"line {months[0]} has “{months[1]}” (month first). Write them one way."
        )
    if not (days or months):
        line, match = dates[0]
        raise FileRejected(
            f"Dates such as “{match[0]}” (line {line}) can be read day first or month first, "
            "and no date in the file tells which. Choose the order: day first or month "
            "first (--day-first or --month-first with the command)."
        )
    line, written = days or months
    report.warnings.append(
        f"Dates were read {'day' if days else 'month'} first, as line {line} shows (“{written}”)."
    )
    return days is not None


def _parse_row(
    line: int,
    cells: list[str],
    columns: dict[int, str],
    header_width: int,
    *,
    day_first: bool = False,
) -> ImportRow:
    width = len(cells)
    values = {column: cells[index] if index < width else "" for index, column in columns.items()}
    errors: list[RowError] = []
    # Cells beyond the header usually mean an unquoted delimiter inside a cell, which
    # has shifted every value after it into the wrong column.
    if width > header_width and (extra := [cell for cell in cells[header_width:] if cell]):
        errors.append(
            RowError(
                line,
                "(beyond the header)",
                f"{len(extra)} more cell(s) than the header has columns, starting with "
                f"“{extra[0][:40]}”. Check the delimiter, or quote cells that contain it.",
            )
        )

    get = values.get

    def error(column: str, reason: str) -> None:
        errors.append(RowError(line, column, reason))

    def text(column: str) -> str:
        value = get(column, "")
        if len(value) > TEXT_LIMITS[column]:
            error(column, f"too long: {len(value)} characters, at most {TEXT_LIMITS[column]}.")
            return ""
        return value

    parsed: dict[str, Any] = {}
    name = normalise_name(get("name", ""))
    if not name:
        error("name", "missing name.")
    elif len(name) > TEXT_LIMITS["name"]:
        error("name", f"too long: {len(name)} characters, at most {TEXT_LIMITS['name']}.")
    else:
        parsed["name"] = name

    kind = SignatoryKind.INDIVIDUAL
    if raw := get("kind"):
        kind = KINDS.get(_choice_key(raw))
        if kind is None:
            error("kind", f"unknown kind “{raw}”: use individual or organisation.")
    parsed["kind"] = kind

    category = Category.OTHER
    if raw := get("category"):
        category = CATEGORIES.get(_choice_key(raw))
        if category is None:
            error("category", f"unknown category “{raw}”.")
        elif kind and category not in CATEGORIES_BY_KIND[kind]:
            allowed = ", ".join(choice.value for choice in CATEGORIES_BY_KIND[kind])
            error(
                "category",
                f"“{raw}” is not a category for {kind.label.lower()}s; use one of: {allowed}.",
            )
    parsed["category"] = category

    country = ""
    if raw := get("country"):
        country = _country_code(raw)
        if country is None:
            error(
                "country",
                f"unknown country “{raw}”: use a two- or three-letter ISO code (GB, GBR) or the "
                "country's name in English or in one of over 40 other languages "
                "(Deutschland, España, Danmark, Frankreich…).",
            )
    parsed["country"] = country

    parsed["role"] = text("role")
    parsed["affiliation"] = text("affiliation")
    parsed["statement"] = get("statement", "")

    website = text("website")
    if website and not HTTP_URL.match(website) and not URL_SCHEME.match(website):
        website = f"https://{website}"  # www.example.org, as people write it
    if website and not HTTP_URL.match(website):
        error("website", f"“{website[:60]}” must start with http:// or https://.")
        website = ""
    elif website:
        try:
            validate_website(website)
        except ValidationError:
            error("website", f"invalid web address “{website[:60]}”.")
            website = ""
    parsed["website"] = website

    email = text("email").lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            error("email", f"invalid email address “{email[:60]}”.")
            email = ""
    parsed["email"] = email

    display = Display.FULL
    if raw := get("display"):
        display = DISPLAYS.get(_choice_key(raw))
        if display is None:
            error(
                "display", f"unknown display “{raw}”: use full, first_name, initials or anonymous."
            )
        elif kind == SignatoryKind.ORGANISATION and display != Display.FULL:
            error("display", "organisations sign by their full name: use full.")
    parsed["display"] = display

    signed_on = None
    if raw := get("signed_at"):
        try:
            if ISO_DATE.fullmatch(raw):
                signed_on = date.fromisoformat(raw)
            elif match := LOCAL_DATE.fullmatch(raw):
                first, second, year = (int(part) for part in match.groups())
                day, month = (first, second) if day_first else (second, first)
                signed_on = date(year, month, day)
            else:
                raise ValueError
        except ValueError:
            error(
                "signed_at",
                f"invalid date “{raw}”: use YYYY-MM-DD (2024-01-31) or day, month and year "
                "(31.01.2024, 31/01/2024).",
            )
    parsed["signed_on"] = signed_on

    return ImportRow(line, values, parsed, errors, Outcome.ERROR if errors else Outcome.NEW)


# Matching against the database and within the file


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# SQLite's lower() folds ASCII letters only.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lookup_chunk() -> int:
    """Strings per ``IN`` list: large, for few table scans, within the database's limit
    on query parameters (a query may carry two lists)."""
    limit = connection.features.max_query_params
    return min(LOOKUP_CHUNK, (limit - 10) // 2) if limit else LOOKUP_CHUNK


class EqualsAny(Lookup):
    """``lhs = ANY(values)``, on PostgreSQL: however many values, one parameter and one
    query, where ``__in`` takes a parameter per value (Django and psycopg handle each in
    Python: some seconds for 100,000) and a query per chunk (a table scan each). The
    values go as one newline-separated string, split by the server: ten times quicker to
    send than an array. Not registered: used as ``filter(EqualsAny(F("slug"), slugs))``."""

    lookup_name = "equals_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        joined = "\n".join(values)
        if "" in values or joined.count("\n") != len(values) - 1:
            # A value that is empty or has a line break would be lost in the split.
            return f"{lhs_sql} = ANY(%s::text[])", (*lhs_params, values)
        return f"{lhs_sql} = ANY(string_to_array(%s, chr(10)))", (*lhs_params, joined)


def _candidates(letter: Letter, emails: set[str], names: set[str]) -> Iterator[Any]:
    """The signatories whose email (lower case) is one of ``emails`` or whose name (lower
    case) is one of ``names``, as named rows with whether each signed ``letter``.

    Neither column has an index (a table scan either way), so one query looks for both:
    on PostgreSQL one query in all, elsewhere one per chunk of each."""
    if not emails and not names:
        return
    signatories = (
        Signatory.objects.order_by()
        .annotate(signed=Exists(Signature.objects.filter(letter=letter, signatory=OuterRef("pk"))))
        .values_list("pk", "name", "email", "country", "kind", "signed", named=True)
    )
    if connection.vendor == "postgresql":
        yield from signatories.filter(
            EqualsAny(Lower("email"), tuple(emails)) | EqualsAny(Lower("name"), tuple(names))
        )
        return
    signatories = signatories.alias(email_key=Lower("email"), name_key=Lower("name"))
    size = _lookup_chunk()
    for email_chunk, name_chunk in zip_longest(
        _chunks(sorted(emails), size), _chunks(sorted(names), size), fillvalue=[]
    ):
        yield from signatories.filter(Q(email_key__in=email_chunk) | Q(name_key__in=name_chunk))


def _resolve(letter: Letter, rows: list[ImportRow]) -> None:
    """Set each valid row's outcome: new, match, already signed or duplicate.

    A row is the same signatory as an existing one with its email (any case), or with its
    name (any case) and country. Candidates come in bulk queries (``_candidates``); the
    final comparison is Python's ``casefold``, which is exact where SQL's ``lower`` is not.
    """
    valid = [row for row in rows if not row.errors]
    emails = {row.parsed["email"] for row in valid if row.parsed["email"]}
    name_variants = set()
    wanted_names = set()
    for row in valid:
        name = row.parsed["name"]
        name_variants.add(name.lower())
        if not name.isascii():  # ASCII names lower the same either way
            name_variants.add(name.translate(ASCII_LOWER))
        wanted_names.add((name.casefold(), row.parsed["country"]))

    by_email: dict[str, dict[int, Any]] = {}
    by_name: dict[tuple[str, str], dict[int, Any]] = {}
    for match in _candidates(letter, emails, name_variants):
        if match.email.lower() in emails:
            by_email.setdefault(match.email.lower(), {})[match.pk] = match
        if (name_key := (match.name.casefold(), match.country)) in wanted_names:
            by_name.setdefault(name_key, {})[match.pk] = match

    def best(candidates: dict[int, Any]):
        # The one that already signed this letter, if any; else the oldest.
        return min(candidates.values(), key=lambda match: (not match.signed, match.pk))

    seen_emails: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    seen_signatories: dict[int, int] = {}
    for row in valid:
        email, display = row.parsed["email"], row.parsed["display"]
        name_key = (row.parsed["name"].casefold(), row.parsed["country"])
        earlier = (seen_emails.get(email) if email else None) or seen_names.get(name_key)
        existing = None
        if email and email in by_email:
            existing = best(by_email[email])
        elif name_key in by_name:
            existing = best(by_name[name_key])
        if existing and earlier is None:
            earlier = seen_signatories.get(existing.pk)

        if earlier is not None:
            row.outcome, row.duplicate_of = Outcome.DUPLICATE, earlier
        elif existing is None:
            row.outcome = Outcome.NEW
        elif existing.kind == SignatoryKind.ORGANISATION and display != Display.FULL:
            row.errors.append(
                RowError(
                    row.line,
                    "display",
                    f"matches the organisation “{existing.name}”, and organisations sign by "
                    "their full name: use full.",
                )
            )
            row.outcome = Outcome.ERROR
            continue
        else:
            row.signatory_id = existing.pk
            row.signatory_kind_name = (existing.kind, existing.name)
            row.outcome = Outcome.ALREADY_SIGNED if existing.signed else Outcome.MATCH

        if email:
            seen_emails.setdefault(email, row.line)
        seen_names.setdefault(name_key, row.line)
        if existing:
            seen_signatories.setdefault(existing.pk, row.line)


# Writing


def unique_slugs(names: list[str]) -> list[str]:
    """Free slugs for ``names``, in order: ``barnardos``, ``barnardos-2``… avoiding the
    slugs in the database and each other, found with a few bulk queries: one query checks
    every proposed slug, and only bases already taken fetch their ``base-N`` family."""
    bases = [(slugify(name) or "signatory")[:200] for name in names]
    taken: set[str] = set()
    checked: set[str] = set()
    expanded: set[str] = set()
    while True:
        slugs = _allocate(bases, taken)
        unchecked = set(slugs) - checked
        found = _taken_slugs(unchecked)
        checked.update(unchecked)
        if not found:
            return slugs
        taken |= found
        clashing = {base for base, slug in zip(bases, slugs, strict=True) if slug in found}
        for chunk in _chunks(sorted(clashing - expanded), SLUG_PREFIX_CHUNK):
            prefixes = Q.create(
                [("slug__startswith", f"{base}-") for base in chunk], connector=Q.OR
            )
            family = set(Signatory.objects.filter(prefixes).values_list("slug", flat=True))
            taken |= family
            checked |= family
        expanded |= clashing


def _taken_slugs(slugs: set[str]) -> set[str]:
    """Those of ``slugs`` that signatories already have."""
    if not slugs:
        return set()
    existing = Signatory.objects.order_by().values_list("slug", flat=True)
    if connection.vendor == "postgresql":
        return set(existing.filter(EqualsAny(F("slug"), tuple(slugs))))
    found = set()
    for chunk in _chunks(sorted(slugs), _lookup_chunk()):
        found.update(existing.filter(slug__in=chunk))
    return found


def _allocate(bases: list[str], taken: set[str]) -> list[str]:
    used: set[str] = set()
    last_suffix: dict[str, int] = {}
    slugs = []
    for base in bases:
        slug = base
        if slug in taken or slug in used:
            n = last_suffix.get(base, 1)
            while slug in taken or slug in used:
                n += 1
                slug = f"{base}-{n}"
            last_suffix[base] = n
        used.add(slug)
        slugs.append(slug)
    return slugs


SIGNATORY_FIELDS = (
    "name",
    "kind",
    "category",
    "country",
    "role",
    "affiliation",
    "website",
    "email",
)
SIGNATURE_FIELDS = (
    "letter_id",
    "signatory_id",
    "display",
    "statement",
    "signed_on",
    "status",
    "source",
    "list_rank",
    "sort_name",
)


@transaction.atomic
def _write(letter: Letter, rows: list[ImportRow], *, publish: bool) -> None:
    new_rows = [row for row in rows if row.outcome == Outcome.NEW]
    slugs = unique_slugs([row.parsed["name"] for row in new_rows])
    ids = _insert(
        Signatory,
        ("slug", *SIGNATORY_FIELDS),
        [
            (slug, *[row.parsed[key] for key in SIGNATORY_FIELDS])
            for row, slug in zip(new_rows, slugs, strict=True)
        ],
        returning_ids=True,
    )
    for row, pk in zip(new_rows, ids, strict=True):
        row.signatory_id = pk
        row.signatory_kind_name = (row.parsed["kind"], row.parsed["name"])

    status = Signature.Status.PUBLISHED if publish else Signature.Status.PENDING
    signatures = []
    for row in rows:
        if row.outcome not in (Outcome.NEW, Outcome.MATCH):
            continue
        parsed = row.parsed
        # A matched signatory sorts by its name as stored, not as the file spells it.
        kind, name = row.signatory_kind_name
        rank, sort_name = list_sort_key(kind=kind, display=parsed["display"], name=name)
        signatures.append(
            (
                letter.pk,
                row.signatory_id,
                parsed["display"],
                parsed["statement"],
                parsed["signed_on"],
                status,
                Signature.Source.IMPORT,
                rank,
                sort_name,
            )
        )
    _insert(Signature, SIGNATURE_FIELDS, signatures)
    schedule_refresh([letter.pk])


def _insert(
    model: type[models.Model],
    fields: tuple[str, ...],
    rows: list[tuple],
    *,
    returning_ids: bool = False,
) -> list[int]:
    """Create a ``model`` row for each tuple of values of ``fields`` (attribute names),
    the other columns at their defaults and timestamps now, as ``bulk_create`` would,
    and no history; the new ids, in order, if asked.

    On PostgreSQL with ``COPY`` (several times quicker than ``INSERT``), the ids taken
    from the table's sequence first, in one query; elsewhere with ``bulk_create``."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(
            [model(**dict(zip(fields, values, strict=True))) for values in rows],
            batch_size=INSERT_BATCH,
        )
        return [instance.pk for instance in created]

    opts = model._meta
    now = timezone.now()
    others = [
        field
        for field in opts.concrete_fields
        if not field.primary_key and field.attname not in fields
    ]
    defaults = tuple(
        now
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        else field.get_db_prep_save(field.get_default(), connection)
        for field in others
    )
    columns = [opts.get_field(name).column for name in fields] + [f.column for f in others]
    quote = connection.ops.quote_name
    ids = []
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if returning_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(opts.db_table), opts.pk.column, len(rows)],
            )
            ids = sorted(pk for (pk,) in cursor.fetchall())
            columns.insert(0, opts.pk.column)
        sql = (
            f"COPY {quote(opts.db_table)} ({', '.join(quote(column) for column in columns)}) "
            "FROM STDIN"
        )
        with cursor.copy(sql) as copy:
            if returning_ids:
                for pk, values in zip(ids, rows, strict=True):
                    copy.write_row((pk, *values, *defaults))
            else:
                for values in rows:
                    copy.write_row(values + defaults)
    return ids


# Recording imports (one entry per import, for the audit trail)


def _store_counts(record: SignatureImport, report: ImportReport) -> None:
    record.rows = len(report.rows)
    record.created = report.created
    record.matched = report.matched
    record.skipped = report.skipped
    record.errors = len(report.errors) + len(report.file_errors)


def preview_import(
    *,
    letter: Letter,
    data: bytes,
    filename: str,
    user,
    publish: bool,
    date_order: str = DateOrder.AUTO,
) -> tuple[ImportReport, SignatureImport]:
    """A dry run whose file is kept, so that staff can confirm exactly what they saw."""
    report = import_signatures(
        letter=letter,
        data=data,
        filename=filename,
        dry_run=True,
        publish=publish,
        date_order=date_order,
    )
    record = SignatureImport(
        letter=letter,
        user=user,
        file_name=filename[:255],
        file_size=len(data),
        publish=publish,
        date_order=date_order,
        status=SignatureImport.Status.PREVIEWED if report.ok else SignatureImport.Status.REFUSED,
        content=data if report.ok else b"",
    )
    _store_counts(record, report)
    record.save()
    return report, record


@transaction.atomic
def confirm_import(*, record: SignatureImport) -> ImportReport:
    """Import a previewed file. Refuses one already imported (a double click, a replay)."""
    record = SignatureImport.objects.select_for_update().get(pk=record.pk)
    if record.status != SignatureImport.Status.PREVIEWED:
        raise FileRejected("This import was already confirmed or refused; upload the file again.")
    report = import_signatures(
        letter=record.letter,
        data=bytes(record.content),
        filename=record.file_name,
        dry_run=False,
        publish=record.publish,
        date_order=record.date_order,
    )
    _store_counts(record, report)
    record.status = (
        SignatureImport.Status.IMPORTED if report.written else SignatureImport.Status.REFUSED
    )
    record.imported_at = timezone.now() if report.written else None
    record.content = b""
    record.save()
    return report


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

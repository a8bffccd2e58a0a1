"""Reading a file into rows of text cells: CSV in any of the encodings and delimiters
spreadsheets save, and the first sheet of an .xlsx, .ods or .xls workbook, with line
numbers as a spreadsheet or text editor shows them. Every limit on size is checked
here, before any row is cleaned."""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from defusedxml import ElementTree as DefusedElementTree
from django.conf import settings

from signatories.exports import FORMULA_PREFIXES
from signatories.importers.report import FileRejected

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000

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


@dataclass
class Sheet:
    """A file read: its format described for people, its non-blank rows as ``(line,
    cells)`` (the first is the header), and for a CSV whose quoted cells span lines, the
    line a text editor shows for each row where it differs from the row's number."""

    source_format: str
    records: list[tuple[int, list[str]]]
    text_lines: dict[int, int] = field(default_factory=dict)


def read_records(data: bytes) -> Sheet:
    """The non-blank rows of a CSV file or a workbook's first sheet, numbered as a
    spreadsheet numbers them (blank rows included)."""
    if not data or not data.strip():
        raise FileRejected("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected(
            f"The file is too large ({len(data) / 1_048_576:.1f} MB); the limit is "
            f"{MAX_FILE_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    sheet = Sheet("", [])
    sheet.source_format, rows, controls = _open(data, sheet.text_lines)
    sheet.records = _non_blank(rows, controls)
    return sheet


def _open(data: bytes, text_lines: dict[int, int]) -> tuple[str, Iterator, bool]:
    """The format, the rows as read, and whether cells may hold control characters."""
    if data.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        kind = "XLS" if data.startswith(OLE2_MAGIC) else "ODS" if _is_opendocument(data) else "XLSX"
        name, rows = _workbook_rows(data, kind)
        return f"{kind} (first sheet, “{name}”)", rows, True
    text, encoding = _decode(data)
    delimiter = _sniff_delimiter(text)
    names = {",": "comma", ";": "semicolon", "\t": "tab"}
    source_format = f"CSV ({encoding}, {names[delimiter]}-separated)"
    # Most files have no control characters at all; then no cell needs searching.
    controls = CONTROL_CHARACTERS.search(text) is not None
    return source_format, _csv_rows(text, delimiter, text_lines), controls


def _non_blank(rows: Iterator[tuple[int, list[str]]], controls: bool) -> list:
    """The rows with a value, cleaned, within the limits on cells, columns and rows.

    What a sheet costs to read is its cells, empty ones included (a row is at least one):
    counted as they come, so a sheet that goes on and on stops at the limit."""
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
        if not width:
            continue
        if len(records) > MAX_ROWS:
            raise FileRejected(
                f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
            )
        records.append((line, cleaned))
    if not records:
        raise FileRejected("The file is empty.")
    return records


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


def _csv_rows(
    text: str, delimiter: str, text_lines: dict[int, int]
) -> Iterator[tuple[int, list[str]]]:
    """One record is one spreadsheet row, even when a quoted cell spans several lines;
    ``text_lines`` gets the line a text editor shows for each row where they differ."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line, starts_at = 0, 1
    try:
        for line, cells in enumerate(reader, start=1):
            if starts_at != line:
                text_lines[line] = starts_at
            yield line, cells
            starts_at = reader.line_num + 1
    except csv.Error as error:
        raise FileRejected(
            f"Line {starts_at} cannot be read as CSV ({error}). Check its quotes."
        ) from None


def _too_many_cells(max_cells: int) -> str:
    return (
        f"The sheet has more than {max_cells:,} cells (empty cells count where the sheet "
        "records them, e.g. formatted ones). Copy the signatories alone into a new "
        "workbook or a CSV file, or split it into smaller files."
    )


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than ``IMPORT_XLSX_MAX_UNPACKED_BYTES``
    before any of them is read. The sizes are those the ZIP directory declares, and they
    hold: a reader stops each part at its declared size (and fails its CRC check if the
    data went on)."""
    limit = settings.IMPORT_XLSX_MAX_UNPACKED_BYTES
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise FileRejected(NOT_A_SPREADSHEET) from e
    if unpacked > limit:
        raise FileRejected(
            f"The workbook unpacks to {unpacked / 1_048_576:.1f} MB, over the limit of "
            f"{limit / 1_048_576:.0f} MB: it holds far more than a list of signatories. "
            "Copy the signatories alone into a new workbook or a CSV file."
        )


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


def _workbook_rows(data: bytes, kind: str) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    """The first sheet of an Excel (.xlsx), OpenDocument (.ods, LibreOffice's own format)
    or legacy Excel (.xls) workbook, read by python-calamine, row by row. A merged cell's
    value fills its whole range (a country merged over the rows of several signatories
    belongs to each of them)."""
    from python_calamine import CalamineWorkbook  # only workbook uploads pay for it

    if kind != "XLS":
        _check_unpacked_size(data)
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        # The cells the sheet's used range spans, its empty ones included.
        if sheet.height * (sheet.start[1] + sheet.width) > settings.IMPORT_MAX_CELLS:
            raise FileRejected(_too_many_cells(settings.IMPORT_MAX_CELLS))
        # calamine sees the merges of .xlsx and .xls; OpenDocument's are read from the file.
        merged = _ods_merged_ranges(data) if kind == "ODS" else sheet.merged_cell_ranges
        rows = sheet.iter_rows()
    except FileRejected:
        raise
    except Exception as e:  # calamine's errors, a password, a foreign file: all the same here
        raise FileRejected(NOT_A_SPREADSHEET) from e
    return sheet.name, _sheet_rows(rows, sheet.start[1], merged or [])


def _sheet_rows(
    rows: Iterator[list], offset: int, merged: list[tuple[tuple[int, int], tuple[int, int]]]
) -> Iterator[tuple[int, list[str]]]:
    """calamine's rows as text, numbered from 1, each from column A (calamine starts them
    at the sheet's first used column), with merged ranges filled from their top left cell."""
    starting: dict[int, list[tuple[int, int, int]]] = {}
    for (top, left), (bottom, right) in merged:
        starting.setdefault(top, []).append((left, right, bottom))
    open_ranges: list[tuple[int, int, int, object]] = []
    try:
        for index, values in enumerate(rows):
            cells = [""] * offset + values if offset else values
            for left, right, bottom in starting.get(index, ()):
                if left < len(cells):
                    open_ranges.append((left, right, bottom, cells[left]))
            open_ranges = [merge for merge in open_ranges if merge[2] >= index]
            for left, right, _bottom, value in open_ranges:
                cells[left : right + 1] = [value] * len(cells[left : right + 1])
            yield index + 1, [_cell_text(value) for value in cells]
    except Exception as e:
        raise FileRejected(NOT_A_SPREADSHEET) from e


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


def _cell_text(value) -> str:
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

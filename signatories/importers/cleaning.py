"""From a file's text cells to the values an import writes: the header's columns, the
rows that are not signatories (a spreadsheet's totals or formula rows), the order of
day and month in dates, and one small cleaner per column (``CLEANERS``), each turning a
cell into a value or an error a person can act on."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone

from config.machine_readable import english
from signatories.importers.countries import country_code
from signatories.importers.report import (
    FileRejected,
    ImportReport,
    ImportRow,
    Outcome,
    RowError,
    line_label,
)
from signatories.models import (
    CATEGORIES_OF_KIND,
    Category,
    DateOrder,
    Display,
    Signatory,
    SignatoryKind,
    Verification,
    category_fits_kind,
    identity_values,
    normalise_name,
)

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
    "verification",
    "verified_at",
]
# Our own exports call the date ``signed_on`` and the country ``country_code`` (beside its
# name, which is then not read); accepting them keeps export → import lossless.
COLUMN_ALIASES = {"signed_on": "signed_at", "e_mail": "email", "country_code": "country"}
# The public CSV's name as shown ("Full name", "Initials"…): a row whose name is hidden
# in it cannot be imported from it (``hidden_in_public_file``).
SHOWN_AS = "name_shown_as"
# Columns of the site's own exports that say what an import decides afresh (status,
# source, who and when) or what the rows are (ids, addresses): not read, no warning.
EXPORT_ONLY_COLUMNS = {
    "signature_id",
    "letter",
    "signatory_id",
    "public_name",
    "signatory_notes",
    "signature_notes",
    "featured",
    "status",
    "source",
    "verified_by",
    "rejection_reason",
    "created_at",
    "updated_at",
    "profile_url",
}

TEXT_LIMITS = {
    name: Signatory._meta.get_field(name).max_length
    for name in ("name", "role", "affiliation", "website", "email")
}

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


# The header


def _header_key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.replace("\ufeff", "").strip().casefold())


def _not_read(key: str, header_keys: set[str]) -> bool:
    """A column not read: no header, one of our exports' own (``EXPORT_ONLY_COLUMNS``),
    or a country's name beside its code."""
    country_named = key == "country" and "country_code" in header_keys
    return not key or key in EXPORT_ONLY_COLUMNS or country_named


def read_header(cells: list[str], report: ImportReport) -> dict[int, str]:
    """``{cell index: column}`` for the known columns; unknown ones become a warning. A
    ``country_code`` column is read rather than a ``country`` name beside it."""
    header_keys = [_header_key(cell) for cell in cells]
    present = set(header_keys)
    columns: dict[int, str] = {}
    for index, (cell, key) in enumerate(zip(cells, header_keys, strict=True)):
        if _not_read(key, present):
            continue
        key = COLUMN_ALIASES.get(key, key)
        if key not in COLUMNS and key != SHOWN_AS:
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


def index_of(column: str, columns: dict[int, str]) -> int | None:
    """The position of ``column`` in the file (``read_header``'s map), or None."""
    return next((index for index, name in columns.items() if name == column), None)


# Rows that are not signatories

TOTALS_NAME = re.compile(r"(grand\s+)?(sub)?totals?\b", re.IGNORECASE)
# A spreadsheet function as a sheet saved with formulas shows it (=COUNTA(A2:A104)); a
# name that merely starts with "=" (our export guards those) is a name.
FORMULA = re.compile(r"=\s*[A-Z][A-Z0-9.]*\(", re.IGNORECASE)
WHOLE_NUMBER = re.compile(r"\d{1,3}([.,\s]?\d{3})*")  # 104, 1,234, 1 234; not a date
# What a note under a list starts with, or a sentence: a footer, not a name.
FOOTER = re.compile(
    r"(\*|†|notes?\b|sources?\b|compiled\b|prepared\b|(last\s+)?updated\b|as\s+(of|at)\b"
    r"|correct\s+as\b|generated\b|exported\b|please\b|contact\b|see\b|list\s+of\b)"
    r"|.*:\s|(\S+\s+){7,}\S*\.$",
    re.IGNORECASE,
)


def signatory_records(
    records: list[tuple[int, list[str]]], columns: dict[int, str], report: ImportReport
) -> list[tuple[int, list[str]]]:
    """The records less those that are not signatories, each skipped with a warning
    naming its line (``_not_a_signatory``)."""
    index = index_of("name", columns)
    kept = []
    previous_line, in_footer = records[0][0] - 1 if records else 0, False
    for line, cells in records:
        after_blank = line > previous_line + 1 or in_footer
        previous_line = line
        reason = _not_a_signatory(cells, index, after_blank=after_blank)
        in_footer = reason is not None and reason.startswith("is a note")
        if reason:
            report.warnings.append(f"{line_label(line, report.text_lines)} {reason}")
        else:
            kept.append((line, cells))
    return kept


def _not_a_signatory(cells: list[str], index: int | None, *, after_blank: bool) -> str | None:
    """Why a row is not a signatory, or None: a name that is a spreadsheet formula
    (``=COUNTA(A2:A104)``); a name such as "Total signatories" with a whole number in
    another cell; or, below a blank row, a lone note such as "Source: …", "* pending" or
    a sentence, with nothing in any other cell."""
    name = cells[index] if index is not None and index < len(cells) else ""
    others = [cell for i, cell in enumerate(cells) if i != index and cell]
    if FORMULA.match(name):
        return f"is a formula (“{name[:40]}”), not imported."
    if TOTALS_NAME.match(name) and any(WHOLE_NUMBER.fullmatch(cell) for cell in others):
        return f"looks like a totals row (“{name[:40]}”), not imported."
    text = name or (others[0] if len(others) == 1 else "")
    lone = bool(text) and len(others) <= (0 if name else 1)
    if after_blank and lone and FOOTER.match(text):
        return f"is a note below the list (“{text[:40]}”), not imported."
    return None


def without_hidden_names(
    records: list[tuple[int, list[str]]], columns: dict[int, str], report: ImportReport
) -> list[tuple[int, list[str]]]:
    """The records less those of the public CSV (``name_shown_as``) whose name is shown
    as a first name, initials or "Anonymous": the file holds what the public sees, not
    the name, and importing it would make "Bob" a signatory named in full. One warning
    lists them."""
    index = index_of(SHOWN_AS, columns)
    if index is None:
        return records
    kept, hidden = [], []
    for line, cells in records:
        shown = DISPLAYS.get(choice_key(cells[index] if index < len(cells) else ""))
        if shown in (Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS):
            hidden.append(line)
        else:
            kept.append((line, cells))
    if hidden:
        lines = ", ".join(str(line) for line in hidden[:10]) + ("…" if len(hidden) > 10 else "")
        rows = f"{len(hidden)} rows (lines" if len(hidden) > 1 else "1 row (line"
        report.warnings.append(
            f"{rows} {lines}) show a name its signer chose to hide: a hidden name cannot be "
            "imported from the public file; use the staff export (manage.py "
            "export_signatures). Not imported."
        )
    return kept


# The order of day and month


def day_first(
    records: list[tuple[int, list[str]]], columns: dict[int, str], order: str, report
) -> bool:
    """Whether dates such as 05/06/2023 are read day first: as chosen, or as the file's
    own dates show (``_order_shown``). The rule used is reported among the warnings."""
    index = index_of("signed_at", columns)
    dates = [
        (line, match)
        for line, cells in records
        if index is not None
        and index < len(cells)
        and (match := LOCAL_DATE.fullmatch(cells[index]))
    ]
    if not dates:
        return False
    if order == DateOrder.AUTO:
        chosen, line, written = _order_shown(dates)
        report.warnings.append(
            f"Dates were read {'day' if chosen else 'month'} first, as line {line} shows "
            f"(“{written}”)."
        )
        return chosen
    chosen = order == DateOrder.DAY_FIRST
    report.warnings.append(
        f"Dates such as “{dates[0][1][0]}” were read {'day' if chosen else 'month'} "
        "first, as chosen."
    )
    return chosen


def _order_shown(dates: list[tuple[int, re.Match]]) -> tuple[bool, int, str]:
    """``(day first, line, date)``: the order the dates show (a first number over 12 is a
    day; a second over 12, a month is first) and the first date that shows it. A file
    that shows both, or neither, is refused: a date read the wrong way would be a silent
    error on every row."""
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
    return days is not None, *(days or months)


# One cleaner per column


@lru_cache(maxsize=4096)
def choice_key(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


KINDS = {
    **{choice_key(kind.value): kind for kind in SignatoryKind},
    **{choice_key(english(kind.label)): kind for kind in SignatoryKind},
    "organization": SignatoryKind.ORGANISATION,
    "org": SignatoryKind.ORGANISATION,
    "person": SignatoryKind.INDIVIDUAL,
}
CATEGORIES = {
    **{choice_key(category.value): category for category in Category},
    **{choice_key(english(category.label)): category for category in Category},
}
DISPLAYS = {
    **{choice_key(display.value): display for display in Display},
    **{choice_key(english(display.label)): display for display in Display},
    "first": Display.FIRST_NAME,
    "anon": Display.ANONYMOUS,
}


# The columns whose values are chosen from a list; a value the list does not have may be
# mapped to one it has (``Rules.mapping``).
MAPPABLE = ("kind", "category", "display", "country", "verification")


VERIFICATIONS = {
    **{choice_key(state.value): state for state in Verification},
    **{choice_key(english(state.label)): state for state in Verification},
}


@dataclass
class Rules:
    """What holds for every row of a file: the order of day and month in its dates, the
    values staff mapped (``{column: {choice_key(value as written): known value}}``), and,
    as rows are cleaned, each unknown value of a mappable column with its row count."""

    day_first: bool = False
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)
    unknown: dict[str, dict[str, int]] = field(default_factory=dict)
    spellings: dict[tuple[str, str], str] = field(default_factory=dict)
    text_lines: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Cleaning:
    """One row as its cells are cleaned: the values so far (a cleaner may look at the
    columns cleaned before it, as category looks at kind) and the errors."""

    line: int
    rules: Rules
    parsed: dict[str, Any]
    errors: list[RowError]

    def error(self, column: str, reason: str) -> None:
        self.errors.append(
            RowError(self.line, column, reason, self.rules.text_lines.get(self.line))
        )

    def mapped(self, column: str, raw: str) -> str:
        """The known value staff mapped ``raw`` to, else ``raw``."""
        return self.rules.mapping.get(column, {}).get(choice_key(raw), raw)

    def unknown(self, column: str, raw: str, reason: str) -> None:
        """An unknown value: an error on the row, and counted once per spelling that one
        mapping covers (``choice_key``), under the first spelling seen."""
        spelling = self.rules.spellings.setdefault((column, choice_key(raw)), raw)
        counts = self.rules.unknown.setdefault(column, {})
        counts[spelling] = counts.get(spelling, 0) + 1
        self.error(
            column.partition("@")[0], f"{reason} Map it to a known value, or correct the file."
        )


def _within_limit(column: str, value: str, row: Cleaning) -> str:
    if len(value) > TEXT_LIMITS[column]:
        row.error(column, f"too long: {len(value)} characters, at most {TEXT_LIMITS[column]}.")
        return ""
    return value


def clean_name(raw: str, row: Cleaning) -> str:
    name = normalise_name(raw)
    if not name:
        row.error("name", "missing name.")
    return _within_limit("name", name, row)


def clean_kind(raw: str, row: Cleaning) -> str | None:
    if not raw:
        return SignatoryKind.INDIVIDUAL
    kind = KINDS.get(choice_key(row.mapped("kind", raw)))
    if kind is None:
        row.unknown("kind", raw, f"unknown kind “{raw}”: use individual or organisation.")
    return kind


def clean_category(raw: str, row: Cleaning) -> str | None:
    if not raw:
        return Category.OTHER
    kind = row.parsed["kind"]
    # A value may be mapped for one kind ("advocacy" read as advocate for people and as
    # advocacy group for organisations), or for both.
    for_kind = f"category@{kind}" if kind else "category"
    mapped = row.mapped(for_kind, raw)
    category = CATEGORIES.get(choice_key(mapped if mapped != raw else row.mapped("category", raw)))
    if category is None:
        row.unknown(for_kind, raw, f"unknown category “{raw}”.")
    elif kind and not category_fits_kind(kind, category):
        allowed = ", ".join(choice.value for choice in CATEGORIES_OF_KIND[kind])
        row.error(
            "category",
            f"“{raw}” is not a category for {english(kind.label).lower()}s; use one of: {allowed}.",
        )
    return category


def clean_country(raw: str, row: Cleaning) -> str | None:
    if not raw:
        return ""
    country = country_code(row.mapped("country", raw))
    if country is None:
        row.unknown(
            "country",
            raw,
            f"unknown country “{raw}”: use a two- or three-letter ISO code (GB, GBR) or the "
            "country's name in English or in one of over 40 other languages "
            "(Deutschland, España, Danmark, Frankreich…).",
        )
    return country


def clean_website(raw: str, row: Cleaning) -> str:
    website = _within_limit("website", raw, row)
    if website and not HTTP_URL.match(website) and not URL_SCHEME.match(website):
        website = f"https://{website}"  # www.example.org, as people write it
    if not website:
        return ""
    if not HTTP_URL.match(website):
        row.error("website", f"“{website[:60]}” must start with http:// or https://.")
        return ""
    try:
        validate_website(website)
    except ValidationError:
        row.error("website", f"invalid web address “{website[:60]}”.")
        return ""
    return website


def clean_email(raw: str, row: Cleaning) -> str:
    email = _within_limit("email", raw, row).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            row.error("email", f"invalid email address “{email[:60]}”.")
            return ""
    return email


def clean_display(raw: str, row: Cleaning) -> str | None:
    if not raw:
        return Display.FULL
    display = DISPLAYS.get(choice_key(row.mapped("display", raw)))
    if display is None:
        row.unknown(
            "display",
            raw,
            f"unknown display “{raw}”: use full, first_name, initials or anonymous.",
        )
    elif row.parsed["kind"] == SignatoryKind.ORGANISATION and display != Display.FULL:
        row.error("display", "organisations sign by their full name: use full.")
    return display


def clean_date(raw: str, row: Cleaning) -> date | None:
    if not raw:
        return None
    try:
        if ISO_DATE.fullmatch(raw):
            return date.fromisoformat(raw)
        if match := LOCAL_DATE.fullmatch(raw):
            first, second, year = (int(part) for part in match.groups())
            day, month = (first, second) if row.rules.day_first else (second, first)
            return date(year, month, day)
    except ValueError:
        pass
    row.error(
        "signed_at",
        f"invalid date “{raw}”: use YYYY-MM-DD (2024-01-31) or day, month and year "
        "(31.01.2024, 31/01/2024).",
    )
    return None


def clean_shown_as(raw: str, row: Cleaning) -> str | None:
    """The public CSV's name as shown: the display, where the file has no ``display``
    column. Rows showing a hidden name were set aside (``without_hidden_names``)."""
    if not raw:
        return row.parsed["display"]
    return clean_display(raw, row)


def clean_verification(raw: str, row: Cleaning) -> str | None:
    if not raw:
        return Verification.UNVERIFIED
    state = VERIFICATIONS.get(choice_key(row.mapped("verification", raw)))
    if state is None:
        known = ", ".join(Verification.values)
        row.unknown("verification", raw, f"unknown verification “{raw}”: use {known}.")
    return state


def clean_verified_at(raw: str, row: Cleaning) -> datetime | None:
    """When it was verified: an ISO date or date and time (our export's), else None."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        row.error("verified_at", f"invalid date and time “{raw[:40]}”: use YYYY-MM-DD HH:MM.")
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _text(column: str) -> Callable[[str, Cleaning], str]:
    def clean(raw: str, row: Cleaning) -> str:
        return _within_limit(column, raw, row)

    return clean


def _as_written(raw: str, row: Cleaning) -> str:
    return raw


# Column → (the key its value is stored under, its cleaner), in the order they run.
CLEANERS: dict[str, tuple[str, Callable[[str, Cleaning], Any]]] = {
    "name": ("name", clean_name),
    "kind": ("kind", clean_kind),
    "category": ("category", clean_category),
    "country": ("country", clean_country),
    "role": ("role", _text("role")),
    "affiliation": ("affiliation", _text("affiliation")),
    "statement": ("statement", _as_written),
    "website": ("website", clean_website),
    "email": ("email", clean_email),
    "display": ("display", clean_display),
    SHOWN_AS: ("display", clean_shown_as),
    "signed_at": ("signed_on", clean_date),
    "verification": ("verification", clean_verification),
    "verified_at": ("verified_at", clean_verified_at),
}


def parse_row(
    line: int,
    cells: list[str],
    columns: dict[int, str],
    header_width: int,
    rules: Rules,
) -> ImportRow:
    """One data row, cleaned column by column (``CLEANERS``)."""
    width = len(cells)
    values = {column: cells[index] if index < width else "" for index, column in columns.items()}
    row = Cleaning(line, rules, {}, [])
    # Cells beyond the header usually mean an unquoted delimiter inside a cell, which
    # has shifted every value after it into the wrong column.
    if width > header_width and (extra := [cell for cell in cells[header_width:] if cell]):
        row.error(
            "(beyond the header)",
            f"{len(extra)} more cell(s) than the header has columns, starting with "
            f"“{extra[0][:40]}”. Check the delimiter, or quote cells that contain it.",
        )
    get = values.get
    parsed = row.parsed
    for column, (key, clean) in CLEANERS.items():
        parsed[key] = clean(get(column, ""), row)
    if not row.errors:
        parsed["name_key"], parsed["website_domain"] = identity_values(
            name=parsed["name"], kind=parsed["kind"], website=parsed["website"]
        )
    outcome = Outcome.ERROR if row.errors else Outcome.NEW
    return ImportRow(line, values, row.parsed, row.errors, outcome)


# Mapping unknown values


def _categories_of(kind: str) -> dict[str, str]:
    return {key: value for key, value in CATEGORIES.items() if category_fits_kind(kind, value)}


# The values each mappable column (or a kind's categories) knows, by ``choice_key``.
KNOWN = {
    "kind": KINDS,
    "category": CATEGORIES,
    "display": DISPLAYS,
    "verification": VERIFICATIONS,
    **{f"category@{kind}": _categories_of(kind) for kind in SignatoryKind},
}


def known_value(column: str, text: str) -> str:
    """The value of ``column`` that ``text`` names: a code or a label, any case (a
    country's code or a name ``country_code`` knows). ValueError says which are known."""
    if column == "country":
        if code := country_code(text):
            return code
        raise ValueError(f"“{text}” is not a country: use an ISO code such as GB or a name.")
    table = KNOWN.get(column)
    if table is None:
        raise ValueError(
            f"“{column}” cannot be mapped: only {', '.join(MAPPABLE)} can (a category for "
            "one kind as category@individual or category@organisation)."
        )
    if (value := table.get(choice_key(text))) is None:
        known = ", ".join(sorted({str(value) for value in table.values()}))
        raise ValueError(f"“{text}” is not a {column.replace('@', ' for ')}: use one of {known}.")
    return str(value)


def parse_mapping(entries: list[str]) -> dict[str, dict[str, str]]:
    """``["category:advocacy=advocacy_group", …]`` (the command's ``--map``) as a mapping
    for ``Rules``. ValueError names the entry that cannot be used, and why."""
    mapping: dict[str, dict[str, str]] = {}
    for entry in entries:
        column, colon, rest = entry.partition(":")
        value, equals, known = rest.rpartition("=")
        column = column.strip().casefold()
        if not (colon and equals and value.strip() and known.strip()):
            raise ValueError(f"“{entry}”: write COLUMN:VALUE=KNOWN, e.g. category:advocacy=ngo.")
        mapping.setdefault(column, {})[choice_key(value)] = known_value(column, known.strip())
    return mapping

"""What an import found and did: each row's outcome and errors, the file's warnings."""

from dataclasses import dataclass, field
from typing import Any

from django.db import models


class Outcome(models.TextChoices):
    NEW = "new", "New signatory"
    MATCH = "match", "Existing signatory, new signature"
    ALREADY_SIGNED = "already_signed", "Already signed this letter: skipped"
    DUPLICATE = "duplicate", "Same person earlier in the file: skipped"
    ERROR = "error", "Error"


def line_label(line: int, text_lines: dict[int, int]) -> str:
    """“Line 7”, as a spreadsheet numbers the row; for a CSV row below a quoted cell that
    spans lines, also the line a text editor shows: “Line 7 (line 9 in a text editor)”."""
    if (text_line := text_lines.get(line)) is None:
        return f"Line {line}"
    return f"Line {line} (line {text_line} in a text editor)"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str
    # The line a text editor shows, where it differs from ``line`` (``line_label``).
    text_line: int | None = None

    def __str__(self) -> str:
        where = line_label(self.line, {self.line: self.text_line} if self.text_line else {})
        return f"{where}, column “{self.column}”: {self.reason}"


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
    # For a new signatory: recorded ones with a similar name, most similar first, for
    # staff to choose "same as …" (``similar.near_matches``).
    near_matches: list["NearMatch"] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NearMatch:
    """A recorded signatory whose name is like a new row's."""

    signatory_id: int
    name: str
    country: str
    kind: str
    signed: bool  # already signed this letter
    similarity: float  # 0 to 1


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
    text_lines: dict[int, int] = field(default_factory=dict)
    # Each value of a column chosen from a list (kind, category, display, country) that is
    # not known, with how many rows use it: for staff to map to known values.
    unknown_values: dict[str, dict[str, int]] = field(default_factory=dict)
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

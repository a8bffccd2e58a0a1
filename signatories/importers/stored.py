"""An import's report kept on its ``SignatureImport`` (``report``, JSON), so that the admin
can show a preview the task worker made, later, as the request would have shown it.

What is kept is bounded whatever the file's size: every field of ``ImportReport`` but its
rows; the value of each of its properties that is not a list (the counts, ``ok``); the
length of every list (how many rows, how many errors); and the rows the preview page
shows: those with errors first, then the others in file order, ``ROWS_KEPT`` in all.

Fields and properties are found by walking the dataclasses (``dataclasses.fields``, the
class's properties, the fields' type hints), so that ones added to ``ImportReport``,
``ImportRow`` or ``RowError`` later are kept and read back without a change here. Values
are stored as JSON has them: a date comes back as its ISO text, a tuple or a set as the
type hint of its field says when it says, else as a list.
"""

import dataclasses
import datetime
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from signatories.exports import csv_lines
from signatories.importers.report import ImportReport, ImportRow, Outcome

ROWS_KEPT = 5000  # rows kept, and shown on the preview page


def shown_rows(report: ImportReport) -> list[ImportRow]:
    """The rows a preview shows: those with errors first, then the others, in file
    order, up to ``ROWS_KEPT``."""
    ordered = sorted(report.rows, key=lambda row: (not row.errors, row.line))
    return ordered[:ROWS_KEPT]


PREVIEW_CSV_COLUMNS = ["line", "name", "country", "outcome", "reason"]


def preview_csv_rows(report: ImportReport) -> Iterator[list]:
    """Every row of a preview with its outcome and reasons: the preview's CSV download."""
    for row in report.rows:
        yield [
            row.line,
            row.values.get("name", ""),
            row.values.get("country", ""),
            Outcome(row.outcome).label if not row.errors else "Error",
            "; ".join(f"{e.column}: {e.reason}" for e in row.errors),
        ]


def preview_csv(report: ImportReport) -> str:
    """The preview's CSV download, whole, to keep (``SignatureImport.preview_csv``)."""
    return "".join(csv_lines(PREVIEW_CSV_COLUMNS, preview_csv_rows(report)))


def store(report: ImportReport) -> dict[str, Any]:
    """``report`` as JSON data, bounded (see the module's docstring)."""
    fields = {
        field.name: _plain(getattr(report, field.name))
        for field in dataclasses.fields(ImportReport)
        if field.name != "rows"
    }
    properties, lengths = {}, {"rows": len(report.rows)}
    for name in _property_names(ImportReport):
        value = getattr(report, name)
        if isinstance(value, list):
            lengths[name] = len(value)
        else:
            properties[name] = _plain(value)
    return {
        "fields": fields,
        "properties": properties,
        "lengths": lengths,
        "rows": [_plain(row) for row in shown_rows(report)],
    }


def restore(data: dict[str, Any]) -> "StoredReport":
    """The report ``store`` kept, as a ``StoredReport``."""
    report = _build(StoredReport, data["fields"])
    report.rows = [_build(ImportRow, row) for row in data["rows"]]
    report.stored_properties = data["properties"]
    report.lengths = data["lengths"]
    return report


def lengths(report: ImportReport) -> dict[str, int]:
    """How many rows (``"rows"``) and how many items each list-valued property (such as
    ``"errors"``) has in the whole report, a stored one too."""
    if isinstance(report, StoredReport):
        return report.lengths
    counted = {"rows": len(report.rows)}
    for name in _property_names(ImportReport):
        value = getattr(report, name)
        if isinstance(value, list):
            counted[name] = len(value)
    return counted


@dataclasses.dataclass
class StoredReport(ImportReport):
    """An ``ImportReport`` read back from its record: ``rows`` holds only the rows kept,
    and each property that is not a list answers as it did for the whole report; the
    lists (such as ``errors``) cover the rows kept, and ``lengths`` says how long they
    were."""

    stored_properties: dict[str, Any] = dataclasses.field(default_factory=dict)
    lengths: dict[str, int] = dataclasses.field(default_factory=dict)


@cache
def _property_names(cls: type) -> tuple[str, ...]:
    return tuple(
        name
        for klass in reversed(cls.__mro__)
        for name, value in vars(klass).items()
        if isinstance(value, property)
    )


def _stored_property(name: str) -> property:
    def answer(self: StoredReport):
        if name in self.stored_properties:
            return self.stored_properties[name]
        return getattr(ImportReport, name).fget(self)  # not stored: a list, or new

    return property(answer, doc=f"``{name}`` of the whole report, as stored.")


for _name in _property_names(ImportReport):
    setattr(StoredReport, _name, _stored_property(_name))


def _plain(value: Any) -> Any:
    """``value`` as JSON data: dataclasses as objects of their fields, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(item) for item in value), key=str)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _build(hint: Any, value: Any) -> Any:
    """``value`` (JSON data) as ``hint`` (a type hint) describes it: dataclasses, and
    the lists, tuples, sets and dicts of them, rebuilt; anything else as it is."""
    if value is None:
        return None
    if dataclasses.is_dataclass(hint):
        return _instance(hint, value)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        return _build(options[0], value) if len(options) == 1 else value
    if origin in (list, set, frozenset) and args:
        return origin(_build(args[0], item) for item in value)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], item) for item in value)
        return tuple(_build(arg, item) for arg, item in zip(args, value, strict=False))
    if origin is dict and len(args) == 2:
        # JSON keys are text; numbers (a row's line) come back as numbers.
        number = args[0] if args[0] in (int, float) else None
        return {
            number(key) if number else key: _build(args[1], item) for key, item in value.items()
        }
    return value


def _instance(cls: type, data: dict[str, Any]) -> Any:
    """A ``cls`` dataclass from its stored fields. A field stored before it existed
    takes its default; a stored field that no longer exists is left out."""
    hints = _hints(cls)
    stored = [field for field in dataclasses.fields(cls) if field.name in data]
    instance = cls(
        **{
            field.name: _build(hints[field.name], data[field.name])
            for field in stored
            if field.init
        }
    )
    for field in stored:
        if not field.init:
            object.__setattr__(instance, field.name, _build(hints[field.name], data[field.name]))
    return instance


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)

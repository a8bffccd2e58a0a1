"""Staff's choices in the admin's preview, as the page offers them and as a form posts
them back: a known value for each value of the file the site does not know
(``map:<column>:<value>``), and for a new row with possible duplicates, "new" or "same as"
one of them (``same_as:<line>``)."""

from dataclasses import dataclass

from django.http import QueryDict
from django_countries import countries

from config.machine_readable import english
from signatories.importers.cleaning import choice_key, known_value
from signatories.importers.report import ImportReport, ImportRow
from signatories.models import (
    CATEGORIES_OF_KIND,
    Category,
    Display,
    SignatoryKind,
    Verification,
    public_name_of,
)

MAP_PREFIX = "map:"
SAME_AS_PREFIX = "same_as:"
CHOICES = {
    "kind": SignatoryKind.choices,
    "category": Category.choices,
    "display": Display.choices,
    "verification": Verification.choices,
    **{
        f"category@{kind}": [(c.value, c.label) for c in Category if c in categories]
        for kind, categories in CATEGORIES_OF_KIND.items()
    },
}
# How the page names a column whose values are mapped.
COLUMN_LABELS = {
    f"category@{kind.value}": f"category ({english(kind.label).lower()}s)" for kind in SignatoryKind
}


@dataclass(frozen=True)
class UnknownValue:
    """A value of the file the site does not know, for the mapping form."""

    column: str
    label: str
    value: str
    rows: int
    field: str  # the form field's name
    chosen: str
    choices: list[tuple[str, str]]


def unknown_values(report: ImportReport, mapping: dict[str, dict[str, str]]) -> list:
    """Each unknown value with its rows, its form field and the known values offered."""
    return [
        UnknownValue(
            column,
            COLUMN_LABELS.get(column, column),
            value,
            rows,
            f"{MAP_PREFIX}{column}:{value}",
            mapping.get(column, {}).get(choice_key(value), ""),
            _choices(column),
        )
        for column, counts in report.unknown_values.items()
        for value, rows in counts.items()
    ]


def _choices(column: str) -> list[tuple[str, str]]:
    if column == "country":
        return [(code, f"{name} ({code})") for code, name in countries]
    return list(CHOICES.get(column, []))


def shown_as(row: ImportRow) -> str:
    """The row's name as the public will see it: the privacy choice, checked before the
    import is confirmed."""
    name, display = row.parsed.get("name", ""), row.parsed.get("display")
    if not name or not display:
        return ""
    return public_name_of(name, display) or "Anonymous"


def posted_choices(
    data: QueryDict, mapping: dict[str, dict[str, str]]
) -> tuple[dict[str, dict[str, str]], dict[int, int], list[str]]:
    """``(mapping, same_as, problems)`` from the preview's form: the mapping so far with
    the posted values (an empty choice unmaps one), each "same as" chosen, and a message
    for each posted value that cannot be used (left out)."""
    mapping = {column: dict(values) for column, values in mapping.items()}
    same_as: dict[int, int] = {}
    problems: list[str] = []
    for name, posted in data.items():
        if name.startswith(MAP_PREFIX):
            column, _, value = name.removeprefix(MAP_PREFIX).partition(":")
            _map(mapping, column, value, posted.strip(), problems)
        elif name.startswith(SAME_AS_PREFIX) and posted:
            line = name.removeprefix(SAME_AS_PREFIX)
            if line.isdigit() and posted.isdigit():
                same_as[int(line)] = int(posted)
            else:
                problems.append(f"“{posted[:40]}” is not a signatory to take line {line[:10]} as.")
    return {column: values for column, values in mapping.items() if values}, same_as, problems


def _map(mapping, column: str, value: str, known: str, problems: list[str]) -> None:
    values = mapping.setdefault(column, {})
    if not known:
        values.pop(choice_key(value), None)
        return
    try:
        values[choice_key(value)] = known_value(column, known)
    except ValueError as error:
        problems.append(str(error))

"""Matching a file's rows against the signatories already recorded, and against each
other: which rows are new signatories, which are existing ones signing again, which
already signed this letter, and which repeat an earlier row of the file."""

import operator
import re
from collections.abc import Iterable, Iterator
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower

from letters.models import Letter
from signatories.bulk import EqualsAny, chunks, lookup_chunk
from signatories.identity import name_key
from signatories.importers.report import ImportReport, ImportRow, Outcome, RowError
from signatories.models import Display, Signatory, SignatoryKind, Signature

# The columns an identity is looked up in, by the name of the identity.
LOOKUP_COLUMNS = {
    "email": Lower("email"),
    "name_key": F("name_key"),
    "website_domain": F("website_domain"),
}
# The column each kind of identity is found by: a person and an organisation by the
# same key column, looked up once for both.
IDENTITY_COLUMNS = {
    "email": "email",
    "organisation": "name_key",
    "person": "name_key",
    "domain": "website_domain",
}


# Names that say nothing about who someone is.
ANONYMOUS_NAMES = frozenset({"anonymous", "anon", "name withheld", "withheld", "not given"})
INITIAL = re.compile(r"\w\.?|(\w\.){2,3}")


def _names_a_person(key: str) -> bool:
    """Whether a person's name (``name_key``) may identify them: more than one word, not
    initials alone (“j. s.”, “j.s.”) and not a word such as “anonymous”."""
    words = key.split()
    if len(words) < 2 or key in ANONYMOUS_NAMES:
        return False
    return not all(INITIAL.fullmatch(word) for word in words)


def row_identities(parsed: dict[str, Any]) -> tuple[list[tuple], list[tuple]]:
    """``(looked up, held)``: what a valid row is matched on, strongest first, and what
    later rows may match it on.

    An organisation: its email, its name (``name_key``) whatever the country, its
    website's domain. A person: their email when there is one; without one, their full
    name and country (a row whose kind is not given may name an organisation, so its
    name is looked up among organisations too). Never a first name, initials or an
    anonymous name alone, which may be anyone."""
    email, key = parsed["email"], parsed["name_key"]
    emails = [("email", email)] if email else []
    if parsed["kind"] == SignatoryKind.ORGANISATION:
        domains = [("domain", parsed["website_domain"])] if parsed["website_domain"] else []
        held = [*emails, ("organisation", key), *domains]
        return held, held
    if not _names_a_person(key):
        return emails, emails
    person = ("person", key, parsed["country"])
    organisation = ("organisation", name_key(parsed["name"], organisation=True))
    return emails or [person, organisation], [*emails, person]


def _recorded_identities(match: Any) -> list[tuple[str, ...]]:
    """The identities of a recorded signatory (a row of ``_candidates``)."""
    identities: list[tuple[str, ...]] = [("email", match.email.lower())] if match.email else []
    if match.kind == SignatoryKind.ORGANISATION:
        identities.append(("organisation", match.name_key))
        if match.website_domain:
            identities.append(("domain", match.website_domain))
    else:
        identities.append(("person", match.name_key, match.country))
    return identities


def _candidates(letter: Letter, wanted: dict[str, set[str]]) -> Iterator[Any]:
    """The signatories with one of the ``wanted`` values of each lookup column (email in
    lower case, ``name_key``, ``website_domain``: each indexed), as named rows with
    whether each signed ``letter``: on PostgreSQL in one query, elsewhere one per chunk
    of each column's values."""
    signatories = (
        Signatory.objects.order_by()
        .annotate(signed=Exists(Signature.objects.filter(letter=letter, signatory=OuterRef("pk"))))
        .values_list(
            "pk",
            "name",
            "email",
            "country",
            "kind",
            "name_key",
            "website_domain",
            "signed",
            named=True,
        )
    )
    wanted = {column: values for column, values in wanted.items() if values}
    if not wanted:
        return
    if connection.vendor == "postgresql":
        conditions = [EqualsAny(LOOKUP_COLUMNS[c], tuple(v)) for c, v in wanted.items()]
        yield from signatories.filter(reduce(operator.or_, conditions))
        return
    aliased = signatories.alias(**{f"_{column}": LOOKUP_COLUMNS[column] for column in wanted})
    size = lookup_chunk()
    for column, values in wanted.items():
        for chunk in chunks(sorted(values), size):
            yield from aliased.filter(**{f"_{column}__in": chunk})


def _recorded(letter: Letter, identities: Iterable[list[tuple[str, ...]]]) -> dict[tuple, Any]:
    """Each wanted identity → the recorded signatory that has it: the one that already
    signed this letter, if any, else the oldest."""
    requested = {identity for row in identities for identity in row}
    wanted: dict[str, set[str]] = {column: set() for column in LOOKUP_COLUMNS}
    for identity in requested:
        wanted[IDENTITY_COLUMNS[identity[0]]].add(identity[1])
    found: dict[tuple, Any] = {}
    for match in _candidates(letter, wanted):
        for identity in _recorded_identities(match):
            if identity in requested:
                best = found.get(identity)
                if best is None or (not match.signed, match.pk) < (not best.signed, best.pk):
                    found[identity] = match
    return found


def resolve(letter: Letter, report: ImportReport) -> None:
    """Set each valid row's outcome: new, match (an existing signatory signs), already
    signed, or duplicate (of an earlier row, or of the signatory an earlier row matched).
    Identities (``row_identities``) come from bulk queries on indexed columns; an
    organisation matched in another country is a warning, for staff to check."""
    valid = [row for row in report.rows if not row.errors]
    identities = {row.line: row_identities(row.parsed) for row in valid}
    recorded = _recorded(letter, (looked_up for looked_up, _ in identities.values()))
    seen: dict[tuple, int] = {}
    for row in valid:
        looked_up, held = identities[row.line]
        _resolve_row(row, looked_up, held, recorded, seen, report)


def _resolve_row(
    row: ImportRow,
    identities: list[tuple],
    held: list[tuple],
    recorded: dict[tuple, Any],
    seen: dict[tuple, int],
    report: ImportReport,
) -> None:
    matched_on = next((i for i in identities if i in recorded), None)
    existing = recorded[matched_on] if matched_on else None
    earlier = next((seen[i] for i in identities if i in seen), None)
    if existing is not None:
        _warn_if_unalike(row, existing, matched_on, report)
        if earlier is None:
            earlier = seen.get(("signatory", existing.pk))
    if earlier is not None:
        row.outcome, row.duplicate_of = Outcome.DUPLICATE, earlier
    elif existing is None:
        row.outcome = Outcome.NEW
    elif existing.kind == SignatoryKind.ORGANISATION and row.parsed["display"] != Display.FULL:
        row.errors.append(
            RowError(
                row.line,
                "display",
                f"matches the organisation “{existing.name}”, and organisations sign by "
                "their full name: use full.",
            )
        )
        row.outcome = Outcome.ERROR
        return
    else:
        row.signatory_id = existing.pk
        row.signatory_kind_name = (existing.kind, existing.name)
        row.outcome = Outcome.ALREADY_SIGNED if existing.signed else Outcome.MATCH
    for identity in held:
        seen.setdefault(identity, row.line)
    if existing is not None:
        seen.setdefault(("signatory", existing.pk), row.line)


def _warn_if_unalike(
    row: ImportRow, existing: Any, matched_on: tuple, report: ImportReport
) -> None:
    """A warning, for staff to check before confirming, where a row is taken as an
    organisation recorded in another country or under another name (same website)."""
    country, name = row.parsed["country"], row.parsed["name"]
    if matched_on[0] == "domain" and row.parsed["name_key"] != existing.name_key:
        report.warnings.append(
            f"Line {row.line}: “{name}” is taken as “{existing.name}”, whose website is on "
            f"the same domain ({matched_on[1]}). If they are not the same organisation, "
            "give this row another website or none."
        )
        return
    # A country missing on either side is no conflict.
    elsewhere = country and existing.country not in ("", country)
    if elsewhere and existing.kind == SignatoryKind.ORGANISATION:
        report.warnings.append(
            f"Line {row.line}: “{name}” ({country}) is taken as the organisation "
            f"“{existing.name}” recorded in {existing.country}. Check they are the same; "
            "if not, rename one of them."
        )

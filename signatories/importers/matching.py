"""Matching a file's rows against the signatories already recorded, and against each
other: which rows are new signatories, which are existing ones signing again, which
already signed this letter, and which repeat an earlier row of the file."""

import string
from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from letters.models import Letter
from signatories.bulk import EqualsAny, chunks, lookup_chunk
from signatories.importers.report import ImportRow, Outcome, RowError
from signatories.models import Display, Signatory, SignatoryKind, Signature

# SQLite's lower() folds ASCII letters only.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


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
    size = lookup_chunk()
    for email_chunk, name_chunk in zip_longest(
        chunks(sorted(emails), size), chunks(sorted(names), size), fillvalue=[]
    ):
        yield from signatories.filter(Q(email_key__in=email_chunk) | Q(name_key__in=name_chunk))


def resolve(letter: Letter, rows: list[ImportRow]) -> None:
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

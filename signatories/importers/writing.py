"""Writing an import: new signatories with free slugs, then one signature per row, in
bulk (``signatories.bulk.insert_rows``), and the letter's counts refreshed after."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from letters.models import Letter
from signatories.bulk import EqualsAny, chunks, insert_rows, lookup_chunk
from signatories.importers.report import ImportRow, Outcome
from signatories.models import Signatory, Signature, Verification, list_sort_key
from signatories.slugs import slug_base
from signatories.tallies import schedule_refresh

# ``slug LIKE 'base-%'`` terms per query: SQLite parses a chain of ORs as a tree no
# deeper than 1,000.
SLUG_PREFIX_CHUNK = 200


def unique_slugs(names: list[str]) -> list[str]:
    """Free slugs for ``names``, in order: ``barnardos``, ``barnardos-2``… avoiding the
    slugs in the database and each other, found with a few bulk queries: one query checks
    every proposed slug, and only bases already taken fetch their ``base-N`` family."""
    bases = [slug_base(name) for name in names]
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
        for chunk in chunks(sorted(clashing - expanded), SLUG_PREFIX_CHUNK):
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
    for chunk in chunks(sorted(slugs), lookup_chunk()):
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
    "name_key",
    "website_domain",
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
    "verification",
    "verified_at",
)


@transaction.atomic
def write(letter: Letter, rows: list[ImportRow], *, publish: bool) -> None:
    """The new signatories, then a signature for each new or matched row, then the
    letter's counts: all in the caller's transaction."""
    _write_signatories([row for row in rows if row.outcome == Outcome.NEW])
    status = Signature.Status.PUBLISHED if publish else Signature.Status.PENDING
    signing = [row for row in rows if row.outcome in (Outcome.NEW, Outcome.MATCH)]
    now = timezone.now()
    insert_rows(
        Signature,
        SIGNATURE_FIELDS,
        [_signature_values(letter, row, status, now) for row in signing],
    )
    schedule_refresh([letter.pk])


def _write_signatories(new_rows: list[ImportRow]) -> None:
    slugs = unique_slugs([row.parsed["name"] for row in new_rows])
    ids = insert_rows(
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


def _signature_values(letter: Letter, row: ImportRow, status: str, now: datetime) -> tuple:
    """The values of ``SIGNATURE_FIELDS`` for a row. A matched signatory sorts by its
    name as stored, not as the file spells it."""
    parsed = row.parsed
    kind, name = row.signatory_kind_name
    rank, sort_name = list_sort_key(kind=kind, display=parsed["display"], name=name)
    return (
        letter.pk,
        row.signatory_id,
        parsed["display"],
        parsed["statement"],
        parsed["signed_on"],
        status,
        Signature.Source.IMPORT,
        rank,
        sort_name,
        parsed["verification"],
        _verified_at(parsed, now),
    )


def _verified_at(parsed: dict, now: datetime) -> datetime | None:
    """When a signature the file marks verified was verified: as the file says (our staff
    export's ``verified_at``), else now, as the import records it. None if unverified."""
    if parsed["verification"] == Verification.UNVERIFIED:
        return None
    return parsed["verified_at"] or now

"""Writing an import: new signatories with free slugs, then one signature per row, in
bulk (``signatories.bulk.insert_rows``), and the letter's counts refreshed after."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from letters.models import Letter
from signatories.bulk import insert_rows
from signatories.importers.report import ImportRow, Outcome
from signatories.models import Signatory, Signature, Verification, list_sort_key
from signatories.slugs import unique_slugs
from signatories.tallies import schedule_refresh

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
    slugs = unique_slugs([row.parsed["name"] for row in new_rows], among=Signatory.objects.all())
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

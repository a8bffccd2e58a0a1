"""Small factories for test rows: plain functions over the ORM, one row each."""

import datetime
import itertools

from letters.models import Addressee, Letter, Recipient
from signatories.models import (
    Category,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    list_sort_key,
)
from signatories.tallies import schedule_refresh

_seq = itertools.count(1)


def make_letter(**fields) -> Letter:
    n = next(_seq)
    values = {
        "title": f"Test letter {n}",
        "slug": f"test-letter-{n}",
        "summary": f"Summary of test letter {n}.",
        "body": "The **body** of the letter.",
        "status": Letter.Status.OPEN,
    }
    values.update(fields)
    if values["status"] == Letter.Status.CLOSED:
        values.setdefault("closed_on", datetime.date(2024, 1, 1))
    return Letter.objects.create(**values)


def make_recipient(**fields) -> Recipient:
    n = next(_seq)
    values = {"name": f"Recipient {n}", "slug": f"recipient-{n}"}
    values.update(fields)
    return Recipient.objects.create(**values)


def make_addressee(letter: Letter, recipient: Recipient | None = None, **fields) -> Addressee:
    return Addressee.objects.create(
        letter=letter, recipient=recipient or make_recipient(), **fields
    )


def make_signatory(**fields) -> Signatory:
    n = next(_seq)
    kind = fields.get("kind", SignatoryKind.ORGANISATION)
    values = {
        "name": f"Signatory {n}",
        "slug": f"signatory-{n}",
        "kind": kind,
        "category": Category.CHARITY if kind == SignatoryKind.ORGANISATION else Category.SURVIVOR,
        "country": "GB",
    }
    values.update(fields)
    return Signatory.objects.create(**values)


def make_person(name: str, **fields) -> Signatory:
    return make_signatory(name=name, kind=SignatoryKind.INDIVIDUAL, **fields)


def make_signature(letter: Letter, signatory: Signatory | None = None, **fields) -> Signature:
    values = {"display": Display.FULL, "status": Signature.Status.PUBLISHED}
    values.update(fields)
    if values["status"] == Signature.Status.REJECTED:
        values.setdefault("rejection_reason", "Rejected in a test.")
    signature = Signature.objects.create(
        letter=letter, signatory=signatory or make_signatory(), **values
    )
    # As every write path of the app does: the letter's counts follow.
    schedule_refresh([letter.pk])
    return signature


def make_many_signatures(letter: Letter, count: int, *, countries=("GB", "US", "FR", "DE")) -> None:
    """``count`` published signatures in bulk, mixing kinds, displays and countries."""
    start = next(_seq) * 100_000
    signatories = Signatory.objects.bulk_create(
        [
            Signatory(
                name=f"Bulk Person {start + i} Surname{start + i}"
                if i % 2
                else f"Bulk Organisation {start + i}",
                slug=f"bulk-{start + i}",
                kind=SignatoryKind.INDIVIDUAL if i % 2 else SignatoryKind.ORGANISATION,
                category=Category.SURVIVOR if i % 2 else Category.NGO,
                country=countries[i % len(countries)],
            )
            for i in range(count)
        ]
    )
    displays = [Display.FULL, Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS]
    signatures = []
    for i, signatory in enumerate(signatories):
        display = displays[i % 4] if signatory.kind == SignatoryKind.INDIVIDUAL else Display.FULL
        rank, sort_name = list_sort_key(kind=signatory.kind, display=display, name=signatory.name)
        signatures.append(
            Signature(
                letter=letter,
                signatory=signatory,
                display=display,
                status=Signature.Status.PUBLISHED,
                featured=i % 10 == 0,
                statement=f"Statement {i}" if i % 10 == 0 else "",
                list_rank=rank,
                sort_name=sort_name,
            )
        )
    Signature.objects.bulk_create(signatures)
    schedule_refresh([letter.pk])

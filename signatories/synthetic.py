"""Obviously synthetic signatories and signatures, in bulk, for benchmarks and development.

``generate_signatures`` adds ``count`` published signatures to a letter, each by a new
signatory named "Synthetic Signatory 0000123" (numbered on from the highest such name
already recorded, so slugs never clash), spread over kinds, categories, countries,
displays and verifications, some with a statement. Each signature carries its list sort
key exactly as ``list_sort_key`` computes it, and the letter's tally is recounted at the
end. PostgreSQL writes with ``COPY`` (a million signatures in about a minute); other
databases with ``bulk_create`` in batches. Neither writes change-history rows: the
history is for what staff and signers did, and this is neither.
"""

import datetime
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models.functions import Length
from django.utils import timezone

from letters.models import Letter
from signatories.bulk import insert_rows
from signatories.models import (
    INDIVIDUAL_CATEGORIES,
    ORGANISATION_CATEGORIES,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    Source,
    Verification,
    identity_values,
    list_sort_key,
)
from signatories.slugs import slug_base
from signatories.tallies import refresh_tally

NAME_PREFIX = "Synthetic Signatory"
# The slug of each is made from its name like any other (``slug_base``), and unique by its
# number: no query needed to find it free, at any count.
SLUG_PREFIX = f"{slug_base(NAME_PREFIX)}-"
NUMBER_WIDTH = 7
# Rows generated, written and forgotten at a time: memory stays flat at any count.
CHUNK = 20_000

# Weighted so that filtered pages (a country, a kind) have plenty of rows and a long tail.
COUNTRY_WEIGHTS = {
    "GB": 24, "US": 18, "FR": 8, "DE": 8, "CA": 5, "AU": 5, "IE": 3, "NL": 3, "ES": 3,
    "IT": 3, "IN": 3, "BR": 3, "BE": 2, "SE": 2, "ZA": 2, "NG": 2, "PH": 2, "TH": 2,
    "GR": 1, "": 2,
}  # fmt: skip
# survivor, family, expert, advocate, other, prefer not to say
INDIVIDUAL_CATEGORY_WEIGHTS = [5, 2, 2, 2, 1, 1]
INDIVIDUAL_DISPLAYS = [Display.FULL, Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS]
INDIVIDUAL_DISPLAY_WEIGHTS = [40, 25, 15, 20]
ORGANISATION_SHARE = 0.2
STATEMENT_SHARE = 0.05
FEATURED_SHARE_OF_STATEMENTS = 0.05
FIRST_SIGNED_ON = datetime.date(2023, 9, 1)


@dataclass(frozen=True)
class Generated:
    letter: Letter
    count: int
    first_number: int
    seconds: float
    method: str  # "COPY" or "bulk_create"

    @property
    def last_number(self) -> int:
        return self.first_number + self.count - 1


@dataclass(frozen=True)
class SyntheticRow:
    """One synthetic signatory and its signature on the letter."""

    number: int
    kind: str
    category: str
    country: str
    display: str
    verification: str
    statement: str
    featured: bool
    signed_on: datetime.date

    @property
    def name(self) -> str:
        return f"{NAME_PREFIX} {self.number:0{NUMBER_WIDTH}d}"

    @property
    def slug(self) -> str:
        return slug_base(self.name)

    @property
    def email(self) -> str:
        return f"{self.slug}@example.invalid"

    @property
    def website(self) -> str:
        return (
            f"https://{self.slug}.example.invalid"
            if self.kind == SignatoryKind.ORGANISATION
            else ""
        )

    def sort_key(self) -> tuple[int, str]:
        return list_sort_key(kind=self.kind, display=self.display, name=self.name)


def synthetic_rows(first_number: int, count: int) -> Iterable[list[SyntheticRow]]:
    """``count`` rows numbered from ``first_number``, in lists of at most ``CHUNK``. The
    same numbers always give the same rows (the generator is seeded with them)."""
    rng = random.Random(first_number)  # noqa: S311 - reproducible made-up data, no secret
    countries, country_weights = list(COUNTRY_WEIGHTS), list(COUNTRY_WEIGHTS.values())
    for start in range(first_number, first_number + count, CHUNK):
        size = min(CHUNK, first_number + count - start)
        chosen_countries = rng.choices(countries, country_weights, k=size)
        person_categories = rng.choices(INDIVIDUAL_CATEGORIES, INDIVIDUAL_CATEGORY_WEIGHTS, k=size)
        displays = rng.choices(INDIVIDUAL_DISPLAYS, INDIVIDUAL_DISPLAY_WEIGHTS, k=size)
        rows = []
        for i in range(size):
            number = start + i
            organisation = rng.random() < ORGANISATION_SHARE
            verified = rng.random()
            statement = rng.random() < STATEMENT_SHARE
            if organisation:
                kind, category = SignatoryKind.ORGANISATION, rng.choice(ORGANISATION_CATEGORIES)
                display = Display.FULL  # organisations always sign by name
                verification = (
                    Verification.ORGANISATION_CONFIRMED
                    if verified < 0.3
                    else Verification.STAFF_VETTED
                    if verified < 0.5
                    else Verification.UNVERIFIED
                )
            else:
                kind, category, display = (
                    SignatoryKind.INDIVIDUAL,
                    person_categories[i],
                    displays[i],
                )
                verification = (
                    Verification.STAFF_VETTED if verified < 0.2 else Verification.UNVERIFIED
                )
            rows.append(
                SyntheticRow(
                    number=number,
                    kind=str(kind),
                    category=str(category),
                    country=chosen_countries[i],
                    display=str(display),
                    verification=str(verification),
                    statement=f"Synthetic statement {number}, made up for a benchmark."
                    if statement
                    else "",
                    featured=statement and rng.random() < FEATURED_SHARE_OF_STATEMENTS,
                    signed_on=FIRST_SIGNED_ON + datetime.timedelta(days=number % 400),
                )
            )
        yield rows


def next_number() -> int:
    """One more than the highest synthetic signatory's number already recorded."""
    last = (
        Signatory.objects.filter(
            slug__startswith=SLUG_PREFIX, slug__regex=rf"^{re.escape(SLUG_PREFIX)}[0-9]+$"
        )
        .annotate(length=Length("slug"))
        .order_by("-length", "-slug")
        .values_list("slug", flat=True)
        .first()
    )
    return int(last.removeprefix(SLUG_PREFIX)) + 1 if last else 1


def generate_signatures(*, letter: Letter, count: int) -> Generated:
    """Add ``count`` published synthetic signatures, by as many new synthetic signatories,
    to ``letter``, in one transaction, then recount the letter's tally."""
    if count <= 0:
        raise ValueError("count must be positive")
    started = time.perf_counter()
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic():
        first = next_number()
        now = timezone.now()
        for rows in synthetic_rows(first, count):
            _write_chunk(letter, rows, now)
        refresh_tally(letter.pk)
    if postgresql:
        # Fresh statistics, so the planner knows the list index is worth using.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signatories_signatory")
            cursor.execute("ANALYZE signatories_signature")
    return Generated(
        letter=letter,
        count=count,
        first_number=first,
        seconds=time.perf_counter() - started,
        method="COPY" if postgresql else "bulk_create",
    )


def _signatory_values(row: SyntheticRow) -> dict:
    return {
        "name": row.name,
        "slug": row.slug,
        "kind": row.kind,
        "category": row.category,
        "country": row.country,
        "website": row.website,
        "email": row.email,
        **dict(
            zip(
                ("name_key", "website_domain"),
                identity_values(name=row.name, kind=row.kind, website=row.website),
                strict=True,
            )
        ),
    }


def _signature_values(row: SyntheticRow, now: datetime.datetime) -> dict:
    list_rank, sort_name = row.sort_key()
    return {
        "display": row.display,
        "statement": row.statement,
        "featured": row.featured,
        "status": str(SignatureStatus.PUBLISHED),
        "source": str(Source.IMPORT),
        "verification": row.verification,
        "verified_at": None if row.verification == Verification.UNVERIFIED else now,
        "signed_on": row.signed_on,
        "list_rank": int(list_rank),
        "sort_name": sort_name,
    }


SIGNATORY_FIELDS = [
    "name",
    "slug",
    "kind",
    "category",
    "country",
    "website",
    "email",
    "name_key",
    "website_domain",
]
SIGNATURE_FIELDS = [
    "letter_id",
    "signatory_id",
    "display",
    "statement",
    "featured",
    "status",
    "source",
    "verification",
    "verified_at",
    "signed_on",
    "list_rank",
    "sort_name",
]


def _write_chunk(letter: Letter, rows: list[SyntheticRow], now: datetime.datetime) -> None:
    ids = insert_rows(
        Signatory,
        SIGNATORY_FIELDS,
        [tuple(_signatory_values(row).values()) for row in rows],
        returning_ids=True,
    )
    insert_rows(
        Signature,
        SIGNATURE_FIELDS,
        [
            (letter.pk, pk, *_signature_values(row, now).values())
            for pk, row in zip(ids, rows, strict=True)
        ],
    )

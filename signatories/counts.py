"""How signatures are counted: one row shape, one GROUP BY, one way to sum.

Every count the public sees — a letter's figures and bars, a filtered list's size, the
country list and a country's page, the API, the map — is a sum over ``CountRow``s: how
many published signatures share a kind, category, country and verification. A letter's
rows are counted by ``count_rows`` (one aggregate query) and stored in its tally
(``signatories.tallies``), so pages read them instead of counting; ``sums`` and
``matching`` add them up. Counting each figure in its own shape, as this project once did
in six places, let them disagree.

Stored shape (``LetterTally.breakdown``, a JSON list): one ``[kind, category, country,
verification, count]`` list per row, sorted; ``country`` is ``""`` when none is stated. A
``CountRow`` is a tuple, so it serialises to exactly that list, and ``stored_rows`` reads
it back. Changing the shape means a data migration of every tally.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from signatories.models import SignatoryKind, Signature, SignatureQuerySet

# What a row is grouped by, in the order of ``CountRow``'s fields.
GROUPED_BY = ("signatory__kind", "signatory__category", "signatory__country", "verification")


class CountRow(NamedTuple):
    kind: str
    category: str
    country: str  # alpha-2, "" for none stated
    verification: str
    count: int


def count_rows(signatures: SignatureQuerySet) -> list[CountRow]:
    """The signatures counted per kind, category, country and verification, sorted: one
    aggregate query, whatever their number. Callers choose which signatures count
    (a letter's published ones, for its tally)."""
    grouped = signatures.values_list(*GROUPED_BY).annotate(count=Count("pk")).order_by()
    return sorted(CountRow(*row) for row in grouped)


def stored_rows(stored: Iterable) -> list[CountRow]:
    """Rows as a tally stores them (the JSON lists above)."""
    return [CountRow(*row) for row in stored]


def tally_rows(tally) -> list[CountRow]:
    """A letter's ``LetterTally`` as rows; none if it has no tally (nobody signed)."""
    return stored_rows(tally.breakdown) if tally is not None else []


def matching(rows: Iterable[CountRow], **wanted: str) -> int:
    """How many of the rows' signatures have every given value (``kind``, ``category``,
    ``country``, ``verification``; an empty value matches all): the size of a filtered
    list, with no query."""
    wanted = {name: value for name, value in wanted.items() if value}
    return sum(
        row.count
        for row in rows
        if all(getattr(row, name) == value for name, value in wanted.items())
    )


@dataclass(frozen=True)
class Sums:
    """Rows added up every way a page shows them."""

    total: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_category: Counter = field(default_factory=Counter)  # (kind, category) → count
    by_country: Counter = field(default_factory=Counter)  # "" for none stated
    by_verification: Counter = field(default_factory=Counter)

    @property
    def organisations(self) -> int:
        return self.by_kind[SignatoryKind.ORGANISATION]

    @property
    def individuals(self) -> int:
        return self.total - self.organisations

    @property
    def countries(self) -> int:
        """Countries with at least one signature ("" is no country)."""
        return sum(1 for code, count in self.by_country.items() if code and count)


def sums(rows: Iterable[CountRow]) -> Sums:
    """The totals of ``rows``, by kind, category, country and verification."""
    result = Sums()
    for row in rows:
        result.by_kind[row.kind] += row.count
        result.by_category[(row.kind, row.category)] += row.count
        result.by_country[row.country] += row.count
        result.by_verification[row.verification] += row.count
    return Sums(
        total=sum(result.by_kind.values()),
        by_kind=result.by_kind,
        by_category=result.by_category,
        by_country=result.by_country,
        by_verification=result.by_verification,
    )


def count_signatures(by: str, **filters) -> Coalesce:
    """Annotation counting the signatures whose ``by`` (``"letter"`` or ``"signatory"``)
    is the row annotated: a correlated subquery, one index lookup per row shown, rather
    than a join and GROUP BY over every signature, which a million-row letter can't
    afford. For the admin's lists, whose rows are not public and have no tally."""
    counted = (
        Signature.objects.filter(**{by: OuterRef("pk")}, **filters)
        .order_by()
        .values(by)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

"""Totals and breakdowns of public signatures, drawn as bars on public pages."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import get_language
from django_countries.fields import Country

from signatories.models import Category, SignatoryKind, SignatureQuerySet


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: float
    country: Country | None = None
    value: str = ""


@dataclass
class Totals:
    """Counts over a set of public signatures: one aggregate query, whatever its size."""

    total: int = 0
    organisations: int = 0
    individuals: int = 0
    countries: int = 0
    by_category: list[Bar] = field(default_factory=list)
    by_country: list[Bar] = field(default_factory=list)
    without_country: int = 0

    @cached_property
    def drawn_key(self) -> str:
        """A digest of everything the charts and the map draw from these totals (each
        bar's label, code and count, in order, in the active language), to key their
        cached rendering: the same key draws the same fragment."""
        drawn = (
            get_language(),
            [(bar.label, bar.value, bar.count) for bar in self.by_category],
            [(bar.label, bar.value, bar.count) for bar in self.by_country],
            self.without_country,
        )
        return hashlib.blake2b(repr(drawn).encode(), digest_size=16).hexdigest()

    @property
    def country_counts(self) -> dict[str, int]:
        """Alpha-2 code → signatures, for the map."""
        return {bar.value: bar.count for bar in self.by_country}

    @classmethod
    def of(cls, signatures: SignatureQuerySet) -> "Totals":
        """Counted now, by one aggregate query."""
        return cls.from_breakdown(
            [
                (row["signatory__kind"], row["signatory__category"], row["signatory__country"])
                + (row["count"],)
                for row in signatures.breakdown()
            ]
        )

    @classmethod
    def of_tally(cls, tally) -> "Totals":
        """From a letter's maintained tally (``signatories.tallies``): no query."""
        return cls.from_breakdown(tally.breakdown if tally is not None else [])

    @classmethod
    def from_breakdown(cls, rows) -> "Totals":
        """From rows ``(kind, category, country, …, count)``."""
        by_category: Counter = Counter()
        by_country: Counter = Counter()
        for kind, category, country, *_, count in rows:
            by_category[(kind, category)] += count
            by_country[country] += count
        totals = cls(total=sum(by_category.values()))
        category_labels = dict(Category.choices)
        kind_labels = dict(SignatoryKind.choices)
        for (kind, category), count in _largest_first(by_category):
            if kind == SignatoryKind.ORGANISATION:
                totals.organisations += count
            else:
                totals.individuals += count
            totals.by_category.append(
                Bar(
                    label=f"{category_labels.get(category, category)} "
                    f"({kind_labels.get(kind, kind).lower()})",
                    count=count,
                    percent=_percent(count, totals.total),
                    value=category,
                )
            )
        totals.without_country = by_country.pop("", 0) + by_country.pop(None, 0)
        # Largest first; ties by the country's name as shown, not its code. Each name is
        # looked up once (django-countries translates it on every access).
        countries = [(Country(code), count) for code, count in by_country.items()]
        named = sorted(
            ((country, country.name, count) for country, count in countries),
            key=lambda item: (-item[2], item[1]),
        )
        for country, name, count in named:
            totals.by_country.append(
                Bar(
                    label=name,
                    count=count,
                    percent=_percent(count, totals.total),
                    country=country,
                    value=country.code,
                )
            )
        totals.countries = len(totals.by_country)
        return totals


def _largest_first(counter: Counter) -> list[tuple]:
    """Largest count first; ties in a stable order by key."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0

"""Totals and breakdowns of public signatures, drawn as bars on public pages."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import get_language
from django_countries.fields import Country

from signatories.counts import sums
from signatories.models import Category, SignatoryKind


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: float
    country: Country | None = None
    value: str = ""


@dataclass
class Totals:
    """A page's figures and bars, from count rows (``signatories.counts``): usually a
    tally's, so drawing them runs no query whatever the number of signatures."""

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
    def from_rows(cls, rows) -> "Totals":
        """From ``counts.CountRow``s, summed by ``counts.sums``."""
        summed = sums(rows)
        totals = cls(
            total=summed.total,
            organisations=summed.organisations,
            individuals=summed.individuals,
            countries=summed.countries,
        )
        category_labels = dict(Category.choices)
        kind_labels = dict(SignatoryKind.choices)
        for (kind, category), count in _largest_first(summed.by_category):
            totals.by_category.append(
                Bar(
                    label=f"{category_labels.get(category, category)} "
                    f"({kind_labels.get(kind, kind).lower()})",
                    count=count,
                    percent=_percent(count, totals.total),
                    value=category,
                )
            )
        by_country = Counter(summed.by_country)
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
        return totals


def _largest_first(counter: Counter) -> list[tuple]:
    """Largest count first; ties in a stable order by key."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0

"""Totals and breakdowns of public signatures, drawn as bars on public pages."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import get_language, pgettext, pgettext_lazy
from django_countries.fields import Country

from signatories.counts import sums
from signatories.models import Category, SignatoryKind

# The kind after a category in a bar's label, as part of a phrase: "Charity (organisation)".
KIND_IN_LABEL = {
    SignatoryKind.ORGANISATION: pgettext_lazy(
        "kind of signatory, after a category", "organisation"
    ),
    SignatoryKind.INDIVIDUAL: pgettext_lazy("kind of signatory, after a category", "individual"),
}


def category_label(category: str, kind: str) -> str:
    """A category with the kind it is counted for, in the active language: "Other
    (individual)" and "Other (organisation)" are two bars."""
    return pgettext("a category of signatory, then its kind", "%(category)s (%(kind)s)") % {
        "category": Category(category).label if category in Category.values else category,
        "kind": KIND_IN_LABEL.get(kind, kind),
    }


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
        for (kind, category), count in _largest_first(summed.by_category):
            totals.by_category.append(
                Bar(
                    label=category_label(category, kind),
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

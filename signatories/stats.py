"""Totals and breakdowns of public signatures, drawn as bars on public pages."""

from dataclasses import dataclass, field

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
    """Counts over a set of public signatures: two aggregate queries, whatever its size."""

    total: int = 0
    organisations: int = 0
    individuals: int = 0
    countries: int = 0
    by_category: list[Bar] = field(default_factory=list)
    by_country: list[Bar] = field(default_factory=list)
    without_country: int = 0

    @classmethod
    def of(cls, signatures: SignatureQuerySet) -> "Totals":
        categories = signatures.category_breakdown()
        countries = signatures.country_breakdown()
        totals = cls()
        totals.total = sum(row["count"] for row in categories)
        for row in categories:
            if row["signatory__kind"] == SignatoryKind.ORGANISATION:
                totals.organisations += row["count"]
            else:
                totals.individuals += row["count"]
        category_labels = dict(Category.choices)
        kind_labels = dict(SignatoryKind.choices)
        totals.by_category = [
            Bar(
                label=_category_label(row, category_labels, kind_labels),
                count=row["count"],
                percent=_percent(row["count"], totals.total),
                value=row["signatory__category"],
            )
            for row in categories
        ]
        for row in countries:
            code = row["signatory__country"]
            if not code:
                totals.without_country += row["count"]
                continue
            country = Country(code)
            totals.by_country.append(
                Bar(
                    label=country.name,
                    count=row["count"],
                    percent=_percent(row["count"], totals.total),
                    country=country,
                    value=code,
                )
            )
        totals.countries = len(totals.by_country)
        return totals


def _category_label(row: dict, category_labels: dict, kind_labels: dict) -> str:
    category, kind = row["signatory__category"], row["signatory__kind"]
    return f"{category_labels.get(category, category)} ({kind_labels.get(kind, kind).lower()})"


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0

import django_filters
from django import forms
from django_countries import countries

from signatories.counts import CountRow, matching
from signatories.models import Category, SignatoryKind, Signature, Verification

# A name search is counted up to this many matches, then shown as "more than".
SEARCH_COUNT_CAP = 1000


def _unknown(what: str, fix: str) -> dict[str, str]:
    """A plain sentence for a filter value the list doesn't know: names the value and
    says how to fix it, instead of Django's "Select a valid choice…"."""
    return {"invalid_choice": f"“%(value)s” is not {what} here. {fix}, or clear the filter."}


def _either(labels) -> str:
    labels = list(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1] if len(labels) > 1 else labels[0]


class CountryCodeField(django_filters.fields.ChoiceField):
    """Accepts ``gb`` as well as ``GB``."""

    def to_python(self, value):
        return super().to_python(value).strip().upper()


class CountryCodeFilter(django_filters.ChoiceFilter):
    field_class = CountryCodeField


class SignatureFilter(django_filters.FilterSet):
    """Filters for a letter's public signatory list and its CSV (same parameters)."""

    kind = django_filters.ChoiceFilter(
        field_name="signatory__kind",
        choices=SignatoryKind.choices,
        empty_label="All kinds",
        label="Kind",
        error_messages=_unknown("a kind of signatory", f"Choose {_either(SignatoryKind.labels)}"),
    )
    category = django_filters.ChoiceFilter(
        field_name="signatory__category",
        choices=Category.choices,
        empty_label="All categories",
        label="Category",
        error_messages=_unknown("a category of signatory", "Choose a category from the list"),
    )
    country = CountryCodeFilter(
        field_name="signatory__country",
        choices=lambda: list(countries),
        empty_label="All countries",
        label="Country",
        error_messages=_unknown(
            "a country code",
            "Use a two-letter country code such as GB or FR, or choose a country from the list",
        ),
    )
    verification = django_filters.ChoiceFilter(
        choices=Verification.choices,
        empty_label="Any verification",
        label="Verification",
        error_messages=_unknown("a kind of verification", "Choose one from the list"),
    )
    q = django_filters.CharFilter(
        method="filter_name",
        label="Name",
        max_length=100,
        error_messages={
            "max_length": "A name search can be at most %(limit_value)d characters long "
            "(this one has %(show_value)d). Shorten it, or clear the filter."
        },
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search names"}),
    )

    class Meta:
        model = Signature
        fields = ["kind", "category", "country", "verification", "q"]

    def __init__(self, *args, countries_offered: list[tuple[str, str]] | None = None, **kwargs):
        """``countries_offered`` narrows the country drop-down to the countries present;
        any valid ISO code is still accepted from the URL."""
        super().__init__(*args, **kwargs)
        if countries_offered is not None:
            self.form.fields["country"].widget.choices = [("", "All countries")] + sorted(
                countries_offered, key=lambda choice: choice[1]
            )

    def filter_name(self, queryset, name, value):
        value = value.strip()
        return queryset.search_public_name(value) if value else queryset

    @property
    def is_filtering(self) -> bool:
        """Whether any filter has a value: the page then offers to clear them."""
        return any(self.form.data.get(name) for name in self.filters)

    def count(self, rows: list[CountRow]) -> tuple[int, bool]:
        """How many signatures the filters select, and whether that is only a floor.
        Kind, category, country and verification are summed from the list's count rows
        (a letter's tally: no query); a name search is counted, up to ``SEARCH_COUNT_CAP``."""
        if self.is_bound and not self.form.is_valid():
            return 0, False
        data = self.form.cleaned_data if self.is_bound else {}
        if data.get("q", "").strip():
            found = self.qs.order_by()[: SEARCH_COUNT_CAP + 1].count()
            return min(found, SEARCH_COUNT_CAP), found > SEARCH_COUNT_CAP
        wanted = {name: data.get(name) for name in ("kind", "category", "country", "verification")}
        return matching(rows, **wanted), False

    def file_name(self, slug: str, today) -> str:
        """A download's name that says what it holds: the letter, each filter and its
        value in the order of the form, and the day (``barnardos-letter-signatories-
        country-GB-2026-12-03.csv``). Values are the form's own codes; a name search is
        marked, not written; an unknown value (no rows) is named as such."""
        parts = [slug, "signatories"]
        if self.is_bound and not self.form.is_valid():  # the file is empty: say why
            return f"{'-'.join(parts)}-unknown-filter-{today.isoformat()}.csv"
        data = self.form.cleaned_data if self.is_bound else {}
        for name in self.Meta.fields:
            value = str(data.get(name) or "").strip()
            if name == "q" and value:
                # Only that it was searched: the search text is never echoed back, as no
                # public output repeats a name that may be one its signer chose to hide.
                parts.append("search")
            elif value:
                parts += [name, value]
        return f"{'-'.join(parts)}-{today.isoformat()}.csv"

    @property
    def results(self):
        """The filtered signatures, or none when a filter value is invalid: showing
        everyone when someone asked for an unknown country would mislead."""
        if self.is_bound and not self.form.is_valid():
            return self.queryset.none()
        return self.qs

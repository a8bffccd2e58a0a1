import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy
from django_countries import countries

from signatories.counts import CountRow, matching
from signatories.models import Category, SignatoryKind, Signature, Verification

# A name search is counted up to this many matches, then shown as "more than".
SEARCH_COUNT_CAP = 1000


# A plain sentence for a filter value the list doesn't know: names the value and says how
# to fix it, instead of Django's "Select a valid choice…". %(value)s is what was asked for.
UNKNOWN_KIND = _(
    "“%(value)s” is not a kind of signatory here. Choose Organisation or Individual, "
    "or clear the filter."
)
UNKNOWN_CATEGORY = _(
    "“%(value)s” is not a category of signatory here. Choose a category from the list, "
    "or clear the filter."
)
UNKNOWN_COUNTRY = _(
    "“%(value)s” is not a country code here. Use a two-letter country code such as GB or "
    "FR, or choose a country from the list, or clear the filter."
)
UNKNOWN_VERIFICATION = _(
    "“%(value)s” is not a kind of verification here. Choose one from the list, or clear the filter."
)
ALL_COUNTRIES = _("All countries")


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
        empty_label=_("All kinds"),
        label=pgettext_lazy("kind of signatory", "Kind"),
        error_messages={"invalid_choice": UNKNOWN_KIND},
    )
    category = django_filters.ChoiceFilter(
        field_name="signatory__category",
        choices=Category.choices,
        empty_label=_("All categories"),
        label=_("Category"),
        error_messages={"invalid_choice": UNKNOWN_CATEGORY},
    )
    country = CountryCodeFilter(
        field_name="signatory__country",
        choices=lambda: list(countries),
        empty_label=ALL_COUNTRIES,
        label=_("Country"),
        error_messages={"invalid_choice": UNKNOWN_COUNTRY},
    )
    verification = django_filters.ChoiceFilter(
        choices=Verification.choices,
        empty_label=_("Any verification"),
        label=_("Verification"),
        error_messages={"invalid_choice": UNKNOWN_VERIFICATION},
    )
    q = django_filters.CharFilter(
        method="filter_name",
        label=_("Name"),
        max_length=100,
        error_messages={
            "max_length": ngettext_lazy(
                "A name search can be at most %(limit_value)d character long "
                "(this one has %(show_value)d). Shorten it, or clear the filter.",
                "A name search can be at most %(limit_value)d characters long "
                "(this one has %(show_value)d). Shorten it, or clear the filter.",
                "limit_value",
            )
        },
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search names")}),
    )

    class Meta:
        model = Signature
        fields = ["kind", "category", "country", "verification", "q"]

    def __init__(self, *args, countries_offered: list[tuple[str, str]] | None = None, **kwargs):
        """``countries_offered`` narrows the country drop-down to the countries present;
        any valid ISO code is still accepted from the URL."""
        super().__init__(*args, **kwargs)
        if countries_offered is not None:
            self.form.fields["country"].widget.choices = [("", ALL_COUNTRIES)] + sorted(
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

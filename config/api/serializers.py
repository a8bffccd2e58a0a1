"""The shape of every API answer. The OpenAPI schema (``/api/v1/schema/``) is made from
these, and the tests check each answer against it.

They read model instances the views fetched with everything they need
(``select_related``/``prefetch_related``): no serializer runs a query of its own.
"""

from django.urls import reverse
from django_countries.fields import Country
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from letters.models import (
    DatePrecision,
    EventKind,
    Letter,
    RecipientKind,
    ResponseStatus,
    SourceKind,
)
from signatories.counts import sums, tally_rows
from signatories.delivered import delivered_summary
from signatories.exports import PUBLIC_COLUMNS
from signatories.models import Category, SignatoryKind, Verification
from signatories.stats import Totals
from signatories.tallies import tally_of


def absolute(context, path: str) -> str:
    return context["request"].build_absolute_uri(path)


def api_url(context, name: str, *args) -> str:
    return absolute(context, reverse(f"api:{name}", args=args))


PUBLIC_LETTER_STATUSES = [(status.value, status.label) for status in Letter.PUBLIC_STATUSES]


def choices(text_choices) -> list[tuple[str, str]]:
    return list(text_choices.choices)


class CountsSerializer(serializers.Serializer):
    """A letter's figures as recorded here, from its tally (``signatories.tallies``): they
    follow changes of its signatures within about a minute."""

    signatures = serializers.IntegerField()
    organisations = serializers.IntegerField()
    individuals = serializers.IntegerField()
    countries = serializers.IntegerField(help_text="Countries with at least one signature.")


def counts_of(letter) -> dict:
    tally = tally_of(letter)
    return {
        "signatures": tally.total if tally else 0,
        "organisations": tally.organisations if tally else 0,
        "individuals": tally.individuals if tally else 0,
        "countries": tally.countries if tally else 0,
    }


class LetterSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    summary = serializers.CharField()
    status = serializers.ChoiceField(choices=PUBLIC_LETTER_STATUSES)
    published_on = serializers.DateField(
        allow_null=True,
        help_text="When the letter was made public; only as precise as published_on_precision "
        "says (a month's date is its 1st).",
    )
    published_on_precision = serializers.ChoiceField(choices=choices(DatePrecision))
    delivered_on = serializers.DateField(allow_null=True)
    closed_on = serializers.DateField(allow_null=True)
    counts = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The letter's page.")
    api_url = serializers.SerializerMethodField()

    @extend_schema_field(CountsSerializer)
    def get_counts(self, letter) -> dict:
        return counts_of(letter)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, letter) -> str:
        return absolute(self.context, letter.get_absolute_url())

    @extend_schema_field(OpenApiTypes.URI)
    def get_api_url(self, letter) -> str:
        return api_url(self.context, "letter-detail", letter.slug)


class ReportedSerializer(serializers.Serializer):
    """Figures as the organisers reported them, kept apart from what is recorded here."""

    signatories = serializers.IntegerField(allow_null=True)
    is_minimum = serializers.BooleanField(help_text="The figure is a floor: “more than 100”.")
    countries = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(help_text="Where the reported figures come from.")


class KindCountSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=choices(SignatoryKind))
    label = serializers.CharField()
    count = serializers.IntegerField()


class CategoryCountSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=choices(Category))
    label = serializers.CharField(help_text="As the letter page shows it, with the kind.")
    count = serializers.IntegerField()


class CountryCountSerializer(serializers.Serializer):
    country_code = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    country = serializers.CharField()
    count = serializers.IntegerField()


class VerificationCountSerializer(serializers.Serializer):
    verification = serializers.ChoiceField(choices=choices(Verification))
    label = serializers.CharField()
    count = serializers.IntegerField()


class CountsDetailSerializer(CountsSerializer):
    without_country = serializers.IntegerField(
        help_text="Signatures of international bodies or people who gave no country."
    )
    by_kind = KindCountSerializer(many=True)
    by_category = CategoryCountSerializer(many=True, help_text="Largest first.")
    by_country = CountryCountSerializer(many=True, help_text="Largest first.")
    by_verification = VerificationCountSerializer(many=True)
    counted_at = serializers.DateTimeField(
        allow_null=True, help_text="When the tally was last counted; null if never signed."
    )


def counts_detail_of(letter) -> dict:
    """The letter page's figures and bars (``Totals.from_rows``), and counts by kind and by
    verification off the same tally: no query."""
    tally = tally_of(letter)
    rows = tally_rows(tally)
    summed, totals = sums(rows), Totals.from_rows(rows)
    return {
        **counts_of(letter),
        "without_country": totals.without_country,
        "by_kind": [
            {"kind": value, "label": label, "count": summed.by_kind[value]}
            for value, label in SignatoryKind.choices
        ],
        "by_category": [
            {"category": bar.value, "label": bar.label, "count": bar.count}
            for bar in totals.by_category
        ],
        "by_country": [
            {"country_code": bar.value, "country": bar.label, "count": bar.count}
            for bar in totals.by_country
        ],
        "by_verification": [
            {
                "verification": value,
                "label": label,
                "count": summed.by_verification[value],
            }
            for value, label in Verification.choices
        ],
        "counted_at": tally.refreshed_at if tally else None,
    }


class EventSerializer(serializers.Serializer):
    """One dated step of a recipient's answer, as the letter page's timeline shows it."""

    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=choices(EventKind))
    kind_label = serializers.CharField(source="get_kind_display")
    summary = serializers.CharField()
    url = serializers.CharField(help_text="A public source for it; empty if none.")


class ResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=choices(ResponseStatus), source="response_status")
    status_label = serializers.CharField(source="get_response_status_display")
    answer = serializers.SerializerMethodField(
        help_text="The answer so far as the page words it, e.g. “No answer 400 days after "
        "delivery”."
    )
    tone = serializers.SerializerMethodField(help_text="good, neutral, bad or pending.")
    date = serializers.SerializerMethodField(help_text="When it answered; null while awaiting.")
    summary = serializers.SerializerMethodField(
        help_text="Recorded with no timeline only; otherwise see events."
    )
    url = serializers.SerializerMethodField(
        help_text="Recorded with no timeline only; otherwise see events."
    )

    def get_answer(self, addressee) -> str:
        return addressee.answer.label

    def get_tone(self, addressee) -> str:
        return addressee.answer.tone

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_date(self, addressee):
        if addressee.response_status == ResponseStatus.AWAITING or not addressee.response_date:
            return None
        return addressee.response_date.isoformat()

    def get_summary(self, addressee) -> str:
        return "" if addressee.events.all() else addressee.response_summary

    def get_url(self, addressee) -> str:
        return "" if addressee.events.all() else addressee.response_url


class RecipientRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=choices(RecipientKind))
    url = serializers.SerializerMethodField(help_text="The recipient's page.")
    api_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, recipient) -> str:
        return absolute(self.context, recipient.get_absolute_url())

    @extend_schema_field(OpenApiTypes.URI)
    def get_api_url(self, recipient) -> str:
        return api_url(self.context, "recipient-detail", recipient.slug)


class AddresseeSerializer(serializers.Serializer):
    recipient = RecipientRefSerializer()
    person_name = serializers.CharField()
    person_title = serializers.CharField()
    response = ResponseSerializer(source="*")
    events = EventSerializer(many=True, source="events.all", help_text="Newest first.")


class SourceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=choices(SourceKind))
    title = serializers.CharField()
    url = serializers.URLField()
    publisher = serializers.CharField()
    published_on = serializers.DateField(allow_null=True)


class DeliveredListSerializer(serializers.Serializer):
    root = serializers.CharField(help_text="SHA-256 Merkle root (RFC 6962 style), 64 hex.")
    frozen_at = serializers.DateTimeField()
    delivered_on = serializers.DateField(allow_null=True)
    rows = serializers.IntegerField(help_text="Rows frozen, shown and redacted.")
    redacted = serializers.IntegerField(help_text="Rows since withdrawn: their leaf hash only.")
    format_version = serializers.IntegerField()
    url = serializers.URLField(help_text="The page explaining how to check it.")
    file_url = serializers.URLField(help_text="The canonical file (delivered.txt).")


class LetterDetailSerializer(LetterSerializer):
    body = serializers.CharField(help_text="The letter's text in Markdown, as stored.")
    body_is_summary = serializers.BooleanField(
        help_text="The body summarises the letter rather than reproducing its full text."
    )
    organiser = serializers.CharField()
    language = serializers.CharField()
    reported = serializers.SerializerMethodField()
    addressees = AddresseeSerializer(many=True, source="public_addressees")
    sources = SourceSerializer(many=True, source="public_sources")
    signatures_url = serializers.SerializerMethodField(help_text="The list of its signatures.")
    csv_url = serializers.SerializerMethodField(help_text="The same list as CSV.")
    delivered_list = serializers.SerializerMethodField(
        help_text="The list frozen when the letter was delivered, and its digest (a Merkle "
        "root anyone can recompute from the file): null when none was frozen."
    )

    @extend_schema_field(ReportedSerializer)
    def get_reported(self, letter) -> dict:
        return {
            "signatories": letter.reported_signatories,
            "is_minimum": letter.reported_signatories_is_minimum,
            "countries": letter.reported_countries,
            "source": letter.reported_figures_source,
        }

    @extend_schema_field(CountsDetailSerializer)
    def get_counts(self, letter) -> dict:
        return counts_detail_of(letter)

    @extend_schema_field(OpenApiTypes.URI)
    def get_signatures_url(self, letter) -> str:
        return api_url(self.context, "letter-signatures", letter.slug)

    @extend_schema_field(DeliveredListSerializer(allow_null=True))
    def get_delivered_list(self, letter) -> dict | None:
        summary = delivered_summary(letter)
        if summary is None:
            return None
        return {
            **summary,
            "url": absolute(self.context, summary["url"]),
            "file_url": absolute(self.context, summary["file_url"]),
        }

    @extend_schema_field(OpenApiTypes.URI)
    def get_csv_url(self, letter) -> str:
        return absolute(self.context, reverse("signatories:letter_csv", args=[letter.slug]))


class RecipientLetterSerializer(serializers.Serializer):
    """A public letter addressed to the recipient, and how the recipient answered it."""

    letter = LetterSerializer()
    person_name = serializers.CharField()
    person_title = serializers.CharField()
    response = ResponseSerializer(source="*")
    events = EventSerializer(many=True, source="events.all", help_text="Newest first.")


class RecipientSerializer(RecipientRefSerializer):
    website = serializers.CharField()
    country_code = serializers.CharField(source="country.code", help_text="Empty if none.")
    country = serializers.SerializerMethodField()
    description = serializers.CharField()
    letters = RecipientLetterSerializer(
        many=True, source="public_addressees", help_text="Newest first."
    )

    def get_country(self, recipient) -> str:
        return Country(recipient.country.code).name if recipient.country else ""


class CountrySerializer(serializers.Serializer):
    country_code = serializers.CharField(source="code", help_text="ISO 3166-1 alpha-2.")
    country = serializers.SerializerMethodField()
    signatures = serializers.IntegerField()
    letters = serializers.IntegerField(help_text="Public letters signed from there.")
    url = serializers.SerializerMethodField(help_text="The country's page.")

    def get_country(self, row) -> str:
        return Country(row.code).name

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, row) -> str:
        return absolute(self.context, reverse("signatories:country_detail", args=[row.code]))


class WithoutCountrySerializer(serializers.Serializer):
    signatures = serializers.IntegerField()
    letters = serializers.IntegerField()


class CountryListSerializer(serializers.Serializer):
    countries = CountrySerializer(many=True, help_text="Largest first.")
    without_country = WithoutCountrySerializer(
        help_text="Signatures of international bodies or people who gave no country."
    )


_COLUMN_HELP = {
    "name": "The name exactly as the signatory chose to show it (full, first name, initials), "
    "or empty for an anonymous signature.",
    "role": "Only for signatories shown by full name.",
    "affiliation": "Only for signatories shown by full name.",
    "website": "Only for signatories shown by full name.",
    "profile_url": "The signatory's page; only for signatories shown by full name.",
}

# The CSV's public columns, every one a string, in its order: one list makes both.
SignatureRowSerializer = type(
    "SignatureRowSerializer",
    (serializers.Serializer,),
    {
        column: serializers.CharField(allow_blank=True, help_text=_COLUMN_HELP.get(column, ""))
        for column in PUBLIC_COLUMNS
    },
)


class SignaturePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Signatures the filters select, from the letter's tally (a name search is "
        "counted up to 1,000)."
    )
    count_is_minimum = serializers.BooleanField(help_text="A name search found more than count.")
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    results = SignatureRowSerializer(many=True)


class IndexSerializer(serializers.Serializer):
    letters = serializers.URLField()
    recipients = serializers.URLField()
    countries = serializers.URLField()
    schema = serializers.URLField()
    docs = serializers.URLField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class BadParameterSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by the name of the query parameter they are about.",
    )

"""The API's views: GET (and HEAD, OPTIONS) only, JSON only, public data only, each a
fixed number of SQL queries whatever the number of signatures.

Every view is wrapped (``urls``) in ``limits.rate_limited`` and then
``config.http.public_page``: counted per IP, then cached like the pages — an ETag, 304 to
a conditional request, ``Cache-Control: public, max-age=60``.
"""

from django.conf import settings
from django.db.models import F, Prefetch
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from config.api import serializers
from config.api.paging import (
    SIGNATURES_MAX_PAGE_SIZE,
    SIGNATURES_PAGE_SIZE,
    LetterPages,
    next_url,
    signature_page,
)
from letters.filters import LetterFilter
from letters.models import Addressee, Letter, Recipient, ResponseEvent
from signatories.counts import tally_rows
from signatories.exports import (
    PROFILE_SLUG_PLACEHOLDER,
    PUBLIC_COLUMNS,
    PUBLIC_FIELDS,
    public_row_maker,
)
from signatories.filters import SignatureFilter
from signatories.models import Signature
from signatories.tallies import public_country_rows, tally_of

NOT_FOUND = OpenApiResponse(serializers.ErrorSerializer, description="No such public resource.")
BAD_PARAMETER = OpenApiResponse(
    serializers.BadParameterSerializer, description="A query parameter's value is not valid."
)
TOO_MANY = OpenApiResponse(
    serializers.ErrorSerializer,
    description="Over the per-IP limit: try again after the Retry-After header's seconds.",
)


class PublicAPIView(GenericAPIView):
    """Read-only: no sessions, logins or request bodies; GET, HEAD and OPTIONS."""

    http_method_names = ["get", "head", "options"]


def letters_with_tally():
    return Letter.objects.published().select_related("tally")


def with_addressees(*, of_recipient: bool = False) -> Prefetch:
    """A letter's addressees, or a recipient's on public letters (newest letter first),
    each with its recipient, letter and timeline: two queries for any number."""
    addressees = Addressee.objects.select_related("recipient", "letter__tally").prefetch_related(
        Prefetch("events", queryset=ResponseEvent.objects.order_by("-date", "-pk"))
    )
    if of_recipient:
        addressees = addressees.filter(letter__status__in=Letter.PUBLIC_STATUSES).order_by(
            F("letter__published_on").desc(nulls_last=True), "letter__title", "letter__pk"
        )
    return Prefetch("addressees", queryset=addressees, to_attr="public_addressees")


@extend_schema_view(
    get=extend_schema(
        operation_id="index",
        tags=["index"],
        responses={200: serializers.IndexSerializer, 429: TOO_MANY},
    )
)
class IndexView(PublicAPIView):
    """Where everything is."""

    def get(self, request):
        def url(name):
            return request.build_absolute_uri(reverse(f"api:{name}"))

        return Response(
            {name: url(name) for name in ("letters", "recipients", "countries", "schema", "docs")}
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="letters_list",
        parameters=[
            OpenApiParameter(
                "recipient", OpenApiTypes.STR, description="A recipient's slug, e.g. meta."
            )
        ],
        responses={200: serializers.LetterSerializer(many=True), 400: BAD_PARAMETER, 429: TOO_MANY},
    )
)
class LetterListView(PublicAPIView, ListAPIView):
    """Public letters (never drafts), newest first, 50 a page, with their counts."""

    serializer_class = serializers.LetterSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LetterFilter
    pagination_class = LetterPages

    def get_queryset(self):
        return letters_with_tally().order_by(*Letter._meta.ordering, "-pk")


@extend_schema_view(
    get=extend_schema(
        operation_id="letters_retrieve",
        responses={200: serializers.LetterDetailSerializer, 404: NOT_FOUND, 429: TOO_MANY},
    )
)
class LetterDetailView(PublicAPIView):
    """A public letter: its text, figures reported and recorded, counts by kind, category,
    country and verification, its recipients' answers and its sources."""

    serializer_class = serializers.LetterDetailSerializer

    def get(self, request, slug: str):
        letter = (
            letters_with_tally()
            .select_related("delivered_list")
            .prefetch_related(
                with_addressees(),
                Prefetch("sources", to_attr="public_sources"),
            )
            .filter(slug=slug)
            .first()
        )
        if letter is None:
            raise exceptions.NotFound("No public letter has this slug.")
        return Response(self.get_serializer(letter).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="letters_signatures_list",
        filters=True,  # SignatureFilter's parameters, on a page that is not a plain list
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.STR,
                description="A cursor: the next page starts after it. Take it from `next`.",
            ),
            OpenApiParameter(
                "country",
                OpenApiTypes.STR,
                description="An ISO 3166-1 alpha-2 code, in either case: GB, fr.",
            ),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="Words of a name as it is shown (at most 100 characters): a name "
                "shown only by first name or initials is found only by what is shown.",
            ),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description=f"Rows a page, 1 to {SIGNATURES_MAX_PAGE_SIZE} "
                f"(default {SIGNATURES_PAGE_SIZE}).",
            ),
        ],
        responses={
            200: serializers.SignaturePageSerializer,
            400: BAD_PARAMETER,
            404: NOT_FOUND,
            429: TOO_MANY,
        },
    )
)
class LetterSignaturesView(PublicAPIView):
    """A public letter's signatures: the public CSV's columns and rows, in its order, with
    its filters, a page at a time. Follow `next` to the end for the whole list."""

    queryset = Signature.objects.none()  # for the schema; the rows come from the letter
    filter_backends = [DjangoFilterBackend]
    filterset_class = SignatureFilter
    pagination_class = None

    def get(self, request, slug: str):
        letter = letters_with_tally().filter(slug=slug).first()
        if letter is None:
            raise exceptions.NotFound("No public letter has this slug.")
        public = Signature.objects.public_on(letter)
        signatures = self.filter_queryset(public)  # a bad filter value: 400, naming it
        count, capped = SignatureFilter(request.query_params, queryset=public).count(
            tally_rows(tally_of(letter))
        )
        page = signature_page(signatures, params=request.query_params, fields=PUBLIC_FIELDS)
        public_row = public_row_maker(
            profile_url=request.build_absolute_uri(
                reverse("signatories:detail", args=[PROFILE_SLUG_PLACEHOLDER])
            )
        )
        results = [
            dict(zip(PUBLIC_COLUMNS, public_row(values[: len(PUBLIC_FIELDS)]), strict=True))
            for values in page.rows
        ]
        return Response(
            {
                "count": count,
                "count_is_minimum": capped,
                "next": next_url(request, page.next_cursor),
                "results": results,
            }
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="recipients_list",
        responses={200: serializers.RecipientSerializer(many=True), 429: TOO_MANY},
    )
)
class RecipientListView(PublicAPIView):
    """Recipients of public letters, by name, each with those letters and its answers."""

    serializer_class = serializers.RecipientSerializer

    def get(self, request):
        recipients = (
            Recipient.objects.public()
            .order_by("name", "pk")
            .prefetch_related(with_addressees(of_recipient=True))
        )
        return Response(self.get_serializer(recipients, many=True).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="recipients_retrieve",
        responses={200: serializers.RecipientSerializer, 404: NOT_FOUND, 429: TOO_MANY},
    )
)
class RecipientDetailView(PublicAPIView):
    """A recipient of public letters, those letters and how it answered each."""

    serializer_class = serializers.RecipientSerializer

    def get(self, request, slug: str):
        recipient = (
            Recipient.objects.public()
            .filter(slug=slug)
            .prefetch_related(with_addressees(of_recipient=True))
            .first()
        )
        if recipient is None:
            raise exceptions.NotFound("No recipient of a public letter has this slug.")
        return Response(self.get_serializer(recipient).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="countries_list",
        responses={200: serializers.CountryListSerializer, 429: TOO_MANY},
    )
)
class CountryListView(PublicAPIView):
    """Signatures and public letters per country, from the letters' tallies."""

    serializer_class = serializers.CountryListSerializer

    def get(self, request):
        rows = public_country_rows()
        without = next((row for row in rows if not row.code), None)
        data = {
            "countries": [row for row in rows if row.code],
            "without_country": {
                "signatures": without.signatures if without else 0,
                "letters": without.letters if without else 0,
            },
        }
        return Response(self.get_serializer(data).data)


def docs(request):
    """Swagger UI over the schema, from this site's static files (drf-spectacular-sidecar):
    no CDN and no inline script or style, so it runs under the site's CSP (``DOCS_CSP``)."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return render(request, "api/docs.html", {"schema_url": reverse("api:schema")})


# The site's policy, but for images: Swagger UI's stylesheet draws its icons as data: SVG
# images. Applied outside the page cache (urls), to every answer, cached or not.
DOCS_CSP = {**settings.SECURE_CSP, "img-src": [CSP.SELF, "data:"]} if settings.SECURE_CSP else {}

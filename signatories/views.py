from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_countries import countries
from django_countries.fields import Country

from letters.models import Letter
from signatories.exports import (
    PROFILE_SLUG_PLACEHOLDER,
    PUBLIC_COLUMNS,
    csv_lines,
    csv_response,
    public_rows,
)
from signatories.filters import SignatureFilter
from signatories.models import Signatory, Signature
from signatories.stats import Totals


def letter_signatures_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter's public signatory list as CSV, with the page's filters."""
    letter = get_object_or_404(Letter.objects.published(), slug=slug)
    filterset = SignatureFilter(
        request.GET,
        queryset=Signature.objects.public().for_letter(letter).in_display_order(),
    )
    profile_url = request.build_absolute_uri(
        reverse("signatories:detail", args=[PROFILE_SLUG_PLACEHOLDER])
    )
    rows = public_rows(filterset.results, profile_url=profile_url)
    return csv_response(csv_lines(PUBLIC_COLUMNS, rows), filename=f"{letter.slug}-signatures.csv")


def signatory_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A signatory's page: only for those named in full on at least one public letter,
    listing only those letters, so a name chosen to be hidden elsewhere stays hidden."""
    named_signatures = Signature.objects.public().shown_by_name()
    signatory = get_object_or_404(
        Signatory.objects.filter(Exists(named_signatures.filter(signatory=OuterRef("pk")))),
        slug=slug,
    )
    signatures = (
        named_signatures.filter(signatory=signatory)
        .select_related("letter")
        .order_by("-letter__published_on", "letter__title")
    )
    return render(
        request,
        "signatories/signatory_detail.html",
        {"signatory": signatory, "signatures": signatures},
    )


def country_list(request: HttpRequest) -> HttpResponse:
    rows = (
        Signature.objects.public()
        .values("signatory__country")
        .annotate(signatures=Count("pk"), letters=Count("letter", distinct=True))
        .order_by("-signatures", "signatory__country")
    )
    with_country, without_country = [], None
    for row in rows:
        if row["signatory__country"]:
            with_country.append({**row, "country": Country(row["signatory__country"])})
        else:
            without_country = row
    return render(
        request,
        "signatories/country_list.html",
        {"rows": with_country, "without_country": without_country},
    )


def country_detail(request: HttpRequest, code: str) -> HttpResponse:
    if len(code) != 2 or not countries.alpha2(code):
        raise Http404("No such country code.")
    if code != code.upper():
        return redirect("signatories:country_detail", code=code.upper(), permanent=True)
    country = Country(code)
    signatures = Signature.objects.public().filter(signatory__country=country.code)
    totals = Totals.of(signatures)
    page = Paginator(
        signatures.select_related("signatory", "letter").in_display_order(
            "letter__title", "letter"
        ),
        settings.SIGNATURES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "signatories/country_detail.html",
        {"country": country, "totals": totals, "page": page},
    )

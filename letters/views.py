from django.conf import settings
from django.db.models import Count, F, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.decorators import method_decorator
from django_filters.views import FilterView

from config.http import public_page
from config.languages import first_guess
from letters.filters import LetterFilter
from letters.models import Addressee, Letter, Recipient, ResponseEvent
from letters.sharing import share_image_png
from letters.signatures import (
    VERIFICATION_EXPLANATIONS,
    ListMark,
    Signature,
    SignatureFilter,
    Totals,
    page_of,
    tallied,
    tally_of,
    tally_rows,
)
from letters.translations import (
    attach_letter_title,
    text_language,
    text_links,
    translated,
    with_letter_title,
)

RECENT_LETTERS = 6
FEATURED_STATEMENTS = 6


def _with_counts(letters):
    # Counts from each letter's tally (signatories.tallies); pk makes pages stable.
    # Each letter's title and summary in the visitor's language, in the same query.
    return (
        translated(letters)
        .annotate(signature_count=tallied("total"), country_count=tallied("countries"))
        .order_by(*Letter._meta.ordering, "-pk")
    )


@first_guess
@public_page
def home(request: HttpRequest) -> HttpResponse:
    published = _with_counts(Letter.objects.published())
    return render(
        request,
        "letters/home.html",
        {
            "open_letters": published.open(),
            "recent_letters": published.exclude(status=Letter.Status.OPEN)[:RECENT_LETTERS],
        },
    )


@method_decorator(public_page, name="dispatch")
class LetterListView(FilterView):
    filterset_class = LetterFilter
    template_name = "letters/letter_list.html"
    paginate_by = 20
    strict = True

    def get_queryset(self):
        return _with_counts(Letter.objects.published())

    def paginate_queryset(self, queryset, page_size):
        """A page number out of range or not a number shows the nearest page, not a 404."""
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


@public_page
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter, its recipients' answers, its counts and its signatories. The same
    queries at ten signatures and at a million: counts come from the letter's tally, the
    list is an index range (``signatories.paging``)."""
    # delivered_list: the digest's include (signatories.delivered), in the same query.
    # The text in the visitor's language (or ``?text=<code>``, a translation into a
    # language the interface is not in), read in the same query as the letter.
    letter = get_object_or_404(
        translated(
            Letter.objects.published().select_related("tally", "delivered_list"),
            text_language(request),
        ),
        slug=slug,
    )
    rows = tally_rows(tally_of(letter))
    totals = Totals.from_rows(rows)
    public = Signature.objects.public_on(letter)
    filterset = SignatureFilter(
        request.GET,
        queryset=public.select_related("signatory"),
        countries_offered=[(bar.value, bar.label) for bar in totals.by_country],
    )
    count, count_is_capped = filterset.count(rows)
    page = page_of(
        filterset.results,
        params=request.GET,
        count=count,
        per_page=settings.SIGNATURES_PER_PAGE,
        marks=None if filterset.is_filtering else ListMark.objects.filter(letter=letter),
    )
    return render(
        request,
        "letters/letter_detail.html",
        {
            "letter": letter,
            "reported_leads": letter.reported_figure_leads(totals.total),
            "addressees": translated(
                letter.addressees.select_related("recipient")
            ).prefetch_related(
                Prefetch("events", queryset=translated(ResponseEvent.objects.all()))
            ),
            "text_links": text_links(letter, request),
            "sources": letter.sources.all(),
            "totals": totals,
            "featured": public.featured_statements()
            .select_related("signatory")
            .in_display_order()[:FEATURED_STATEMENTS],
            "filter": filterset,
            "page": page,
            "count_is_capped": count_is_capped,
            "verification_key": [
                (value, label, VERIFICATION_EXPLANATIONS[value])
                for value, label in Signature.Verification.choices
                if value in Signature.VERIFIED
            ],
        },
    )


@public_page
def recipient_list(request: HttpRequest) -> HttpResponse:
    on_public_letters = Q(addressees__letter__status__in=Letter.PUBLIC_STATUSES)
    recipients = (
        Recipient.objects.annotate(
            letter_count=Count("addressees", filter=on_public_letters),
            awaiting_count=Count(
                "addressees",
                filter=on_public_letters
                & Q(addressees__response_status=Addressee.ResponseStatus.AWAITING),
            ),
        )
        .filter(letter_count__gt=0)
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "addressees",
                queryset=with_letter_title(
                    translated(Addressee.objects.filter(letter__status__in=Letter.PUBLIC_STATUSES))
                )
                .select_related("letter")
                .prefetch_related(
                    Prefetch("events", queryset=translated(ResponseEvent.objects.all()))
                )
                .order_by(F("letter__published_on").desc(nulls_last=True), "letter__title"),
                to_attr="public_addressees",
            )
        )
    )
    recipients = list(recipients)
    for recipient in recipients:
        attach_letter_title(recipient.public_addressees)
    return render(request, "letters/recipient_list.html", {"recipients": recipients})


@public_page
def recipient_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Every published letter addressed to the recipient and how it answered."""
    recipient = get_object_or_404(translated(Recipient.objects.public()), slug=slug)
    addressees = (
        with_letter_title(
            translated(recipient.addressees.filter(letter__status__in=Letter.PUBLIC_STATUSES))
        )
        .select_related("letter")
        .prefetch_related(Prefetch("events", queryset=translated(ResponseEvent.objects.all())))
        .annotate(signature_count=tallied("total", letter="letter__"))
        .order_by("-letter__published_on", "letter__title")
    )
    return render(
        request,
        "letters/recipient_detail.html",
        {"recipient": recipient, "addressees": attach_letter_title(list(addressees))},
    )


@public_page
def share_image(request: HttpRequest, slug: str) -> HttpResponse:
    """The image social networks show beside a shared letter (``og:image``): its title
    and its current figures, in one query whatever the number of signatures."""
    letter = get_object_or_404(
        Letter.objects.published().in_language().select_related("tally"), slug=slug
    )
    tally = tally_of(letter)
    png = share_image_png(letter, tally.total if tally else 0)
    return HttpResponse(png, content_type="image/png")

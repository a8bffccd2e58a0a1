import re

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition
from django_countries import countries
from django_countries.fields import Country

from config.http import public_page
from config.machine_readable import in_english
from letters.models import Letter
from letters.translations import attach_letter_title, with_letter_title
from signatories.abuse import client_ip, filled_too_fast
from signatories.exports import (
    PROFILE_SLUG_PLACEHOLDER,
    PUBLIC_COLUMNS,
    csv_lines,
    csv_response,
    public_list_version,
    public_rows,
)
from signatories.filters import SignatureFilter
from signatories.forms import SignForm, sign_kind
from signatories.links import LinkError, Purpose, read_token
from signatories.models import Signatory, Signature
from signatories.paging import Stretch, page_across
from signatories.signing import (
    confirm_signature,
    confirmation_state,
    sign_letter,
    stop_follow_up,
    withdraw_signature,
)
from signatories.stats import Totals
from signatories.tallies import public_country_rows, public_rows_by_letter, tally_of


def _csv_version(request: HttpRequest, slug: str) -> str | None:
    """The CSV's ETag (``public_list_version``), or None for an unknown letter (the view
    then answers 404). The query string and the day are part of it: a filtered file, or
    tomorrow's file name, is another representation."""
    letter = Letter.objects.published().filter(slug=slug).only("pk").first()
    if letter is None:
        return None
    salt = f"{request.get_full_path()}|{request.get_host()}|{timezone.localdate().isoformat()}"
    return public_list_version(Signature.objects.public_on(letter), salt=salt)


@in_english
@public_page
@condition(etag_func=_csv_version)
def letter_signatures_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter's public signatory list as CSV, with the page's filters: codes and
    English labels, in whatever language it is asked for (``config.machine_readable``)."""
    letter = get_object_or_404(Letter.objects.published(), slug=slug)
    filterset = SignatureFilter(
        request.GET,
        queryset=Signature.objects.public_on(letter).in_display_order(),
    )
    profile_url = request.build_absolute_uri(
        reverse("signatories:detail", args=[PROFILE_SLUG_PLACEHOLDER])
    )
    rows = public_rows(filterset.results, profile_url=profile_url)
    filename = filterset.file_name(letter.slug, timezone.localdate())
    return csv_response(csv_lines(PUBLIC_COLUMNS, rows), filename=filename)


@in_english
@public_page
def letter_count(request: HttpRequest, slug: str) -> JsonResponse:
    """The letter's counts for other sites and widgets: small, cached a minute, and as
    fresh as the letter's page. The same whatever the request's language (its ``url`` is
    the letter's address without a language prefix)."""
    letter = get_object_or_404(Letter.objects.published().select_related("tally"), slug=slug)
    tally = tally_of(letter)
    return JsonResponse(
        {
            "letter": letter.slug,
            "url": request.build_absolute_uri(letter.get_absolute_url()),
            "signatures": tally.total if tally else 0,
            "organisations": tally.organisations if tally else 0,
            "individuals": tally.individuals if tally else 0,
            "countries": tally.countries if tally else 0,
            "counted_at": tally.refreshed_at.isoformat() if tally else None,
        }
    )


@public_page
def signatory_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A signatory's page: only for those named in full on at least one public letter,
    listing only those letters, so a name chosen to be hidden elsewhere stays hidden."""
    try:
        signatory = Signatory.objects.with_public_page().get(slug=slug)
    except Signatory.DoesNotExist:
        return _merged_signatory_redirect(slug)
    signatures = (
        with_letter_title(Signature.objects.public())
        .shown_by_name()
        .filter(signatory=signatory)
        .select_related("letter")
        .order_by("-letter__published_on", "letter__title")
    )
    return render(
        request,
        "signatories/signatory_detail.html",
        {"signatory": signatory, "signatures": attach_letter_title(list(signatures))},
    )


def _merged_signatory_redirect(slug: str) -> HttpResponse:
    """The page of the signatory that ``slug``'s was merged into, if that page is public
    now; else not found, as for any unknown slug (``SignatoryRedirect``). Looked up only
    when no public signatory has the slug, so a signatory's page runs no extra query."""
    target = (
        Signatory.objects.with_public_page()
        .filter(redirects_from__old_slug=slug)
        .values_list("slug", flat=True)
        .first()
    )
    if target is None:
        raise Http404("No such signatory.")
    return redirect("signatories:detail", target, permanent=True)


@public_page
def country_list(request: HttpRequest) -> HttpResponse:
    """Signatures and letters per country, summed from the public letters' tallies: one
    query, whatever the number of signatures."""
    rows = public_country_rows()
    with_country = [
        {"country": Country(row.code), "signatures": row.signatures, "letters": row.letters}
        for row in rows
        if row.code
    ]
    without_country = next((row for row in rows if not row.code), None)
    return render(
        request,
        "signatories/country_list.html",
        {
            "rows": with_country,
            "without_country": without_country,
            "country_counts": {row.code: row.signatures for row in rows if row.code},
        },
    )


@public_page
def country_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A country's signatures on the public letters: counts from the letters' tallies,
    the list paged by cursor across them (``paging.page_across``), so page 1 and page
    20,000 cost the same few queries at ten signatures or a million."""
    if len(code) != 2 or not countries.alpha2(code):
        raise Http404("No such country code.")
    if code != code.upper():
        return redirect("signatories:country_detail", code=code.upper(), permanent=True)
    country = Country(code)
    by_letter = public_rows_by_letter(country=country.code)
    stretches = [
        Stretch(letter_id, sum(row.count for row in rows)) for letter_id, rows in by_letter
    ]
    page = page_across(
        with_letter_title(Signature.objects.public())
        .filter(signatory__country=country.code)
        .select_related("signatory", "letter"),
        stretches=stretches,
        params=request.GET,
        per_page=settings.SIGNATURES_PER_PAGE,
    )
    attach_letter_title(page.object_list)  # each letter's title in the page's language
    return render(
        request,
        "signatories/country_detail.html",
        {
            "country": country,
            "totals": Totals.from_rows(row for _, rows in by_letter for row in rows),
            "page": page,
            "map_label": gettext("%(country)s on the world map") % {"country": country.name},
        },
    )


def _signable_letter(slug: str) -> Letter:
    fields = ["slug", "title", "summary", "language", "status", "closed_on"]
    fields += ["accepts_public_signatures", "moderate_public_signatures"]
    # The title and summary in the signer's language where translated (``letter.text``).
    return get_object_or_404(Letter.objects.published().in_language().only(*fields), slug=slug)


@never_cache
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    """The public sign form, in two steps that need no script: first "as yourself or for
    an organisation" (links to ``?as=individual`` / ``?as=organisation``), then the form
    for that kind only, which posts its kind back hidden. A missing or unknown kind shows
    the first step. Whatever happened to the address (new, signed before, held for
    moderation, dropped as a bot), a valid form leads to the same "check your email"."""
    letter = _signable_letter(slug)
    if not letter.is_signable:
        return render(request, "signatories/sign_closed.html", {"letter": letter}, status=403)
    posted = request.method == "POST"
    kind = sign_kind(request.POST.get("kind") if posted else request.GET.get("as"))
    form = SignForm(request.POST if posted else None, kind=kind) if kind else None
    if posted and form is not None and form.is_valid():
        if not form.is_honeypot_filled:
            record_public_signature(request, letter=letter, form=form)
        return redirect("signatories:sign_sent", slug=letter.slug)
    context = {"letter": letter, "form": form, "kind_missing": posted and form is None}
    return render(request, "signatories/sign.html", context)


def record_public_signature(request: HttpRequest, *, letter: Letter, form: SignForm) -> None:
    """Store a valid submission, held for a moderator when it looks scripted. One
    transaction: the form's stamp marked used, the signature and its queued email (whose
    task also counts the per-IP limits, ``abuse.ip_limit_reason``)."""
    with transaction.atomic():
        held = []
        if filled_too_fast(form.seconds_open):
            held.append("form sent faster than a person fills it in")
        if form.stamp_used_for_another_address():
            held.append("form sent again for another address")
        sign_letter(
            letter=letter,
            details=form.signer_details(),
            ip_address=client_ip(request),
            hold_reason="; ".join(held),
            # The page's language: the signer's emails are written in it.
            language=(translation.get_language() or "")[:16],
        )


def sign_sent(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _signable_letter(slug)
    return render(
        request,
        "signatories/sign_sent.html",
        {"letter": letter, "valid_days": settings.SIGN_CONFIRMATION_MAX_AGE // 86400},
    )


def _signature_from_link(token: str, purpose: Purpose) -> Signature:
    """The signature a link names, or ``LinkError``. The signed token alone says which
    signature it is: the letter's address in the link is for people, and withdrawing or
    stopping emails must work whatever became of the letter (a new slug, back in draft)."""
    signature_id = read_token(token, purpose)
    signatures = with_letter_title(Signature.objects.select_related("letter", "signatory")).filter(
        pk=signature_id
    )
    if purpose == Purpose.CONFIRM:
        signatures = signatures.filter(letter__status__in=Letter.PUBLIC_STATUSES)
    signature = signatures.first()
    if signature is None:
        raise LinkError(expired=False, gone=True)
    attach_letter_title([signature])  # the letter's title in the page's language
    return signature


def _link_refused(request: HttpRequest, slug: str, error: LinkError, purpose: Purpose):
    letter = Letter.objects.published().in_language().filter(slug=slug).first()
    return render(
        request,
        "signatories/link_refused.html",
        {
            "letter": letter,
            "expired": error.expired,
            "gone": error.gone,
            "purpose": str(purpose),
            "valid_days": settings.SIGN_CONFIRMATION_MAX_AGE // 86400,
        },
        status=400,
    )


def _link_page(request, slug: str, token: str, purpose: Purpose, *, template: str, act):
    """A page an emailed link opens. GET shows what the link will do and a button; only
    the button's POST does it (``act(signature_id) -> (signature, outcome)``), so mail
    scanners that open links change nothing. A link under a letter's old address is sent
    on to the new one."""
    try:
        signature = _signature_from_link(token, purpose)
    except LinkError as error:
        return _link_refused(request, slug, error, purpose)
    if signature.letter.slug != slug and request.method == "GET":
        return redirect(
            f"signatories:{request.resolver_match.url_name}", signature.letter.slug, token
        )
    done = request.method == "POST"
    if done:
        try:
            signature, outcome = act(signature.pk)
        except LinkError as error:  # set aside since the page was opened
            return _link_refused(request, slug, error, purpose)
    else:
        outcome = confirmation_state(signature) if purpose == Purpose.CONFIRM else None
    context = {"signature": signature, "letter": signature.letter, "done": done, "outcome": outcome}
    return render(request, template, context)


@never_cache
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    return _link_page(
        request,
        slug,
        token,
        Purpose.CONFIRM,
        template="signatories/confirm.html",
        act=lambda pk: confirm_signature(signature_id=pk),
    )


@never_cache
def withdraw(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    return _link_page(
        request,
        slug,
        token,
        Purpose.WITHDRAW,
        template="signatories/withdraw.html",
        act=lambda pk: (withdraw_signature(signature_id=pk), None),
    )


# The signed token in the address is the credential, so there is nothing for a forged
# cross-site request to exploit; mail providers' one-click unsubscribe (RFC 8058) POSTs
# here without any cookie.
@csrf_exempt
@never_cache
def unfollow(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    return _link_page(
        request,
        slug,
        token,
        Purpose.UNFOLLOW,
        template="signatories/unfollow.html",
        act=lambda pk: (stop_follow_up(signature_id=pk), None),
    )


EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@public_page
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "signatories/privacy.html",
        {
            "controller": settings.DATA_CONTROLLER,
            "contact": settings.DATA_CONTROLLER_CONTACT,
            "contact_is_email": bool(EMAIL_ADDRESS.fullmatch(settings.DATA_CONTROLLER_CONTACT)),
            "retention_days": settings.RETENTION_DAYS,
            "valid_days": settings.SIGN_CONFIRMATION_MAX_AGE // 86400,
        },
    )

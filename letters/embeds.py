"""A letter on other sites: a small page any site may frame (``/letters/<slug>/embed/``),
the HTML to paste that frames it, and an oEmbed endpoint (https://oembed.com) that hands
that HTML to sites which look it up from the letter's address.

The embed is the one page other sites may frame: it answers without X-Frame-Options and
with ``frame-ancestors *``; every other page keeps ``DENY`` and ``'none'``. It holds
nothing to click-jack — no form, no script, links that open the site in a new tab — and
only what the letter page shows to everyone: the title and the public count.

The embed and the frame's HTML are in the language of the address they are for
(``/fr/letters/<slug>/embed/``); oEmbed describes a letter's page in that page's language.
Its error messages are for programs and stay in English.
"""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.html import format_html
from django.utils.http import parse_http_date_safe
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override

from config.http import public_page
from letters.models import Letter
from letters.sharing import SITE_NAME, absolute_url
from letters.signatures import tally_of

# The frame's size when the embedding site does not ask for another: the embed reads well
# from 300 to 600 pixels wide, and its title is cut at three lines so this height holds.
EMBED_WIDTH = 480
EMBED_HEIGHT = 280
# Links open in a new tab and the page runs no script, so the frame needs nothing else.
EMBED_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"
# Addresses whose letter oEmbed describes: the letter's page and its embed.
EMBEDDABLE_VIEWS = ("letters:detail", "letters:embed")


def frameable_by_any_site(view):
    """Let any site frame the view's pages: no X-Frame-Options, and the site's policy with
    ``frame-ancestors *`` (none in development, where the site sets no policy).

    A revalidation is answered here rather than by ConditionalGetMiddleware, whose 304 is a
    new response without these marks: browsers merge a 304's headers into the copy they
    keep, and the middleware's ``DENY`` would then stop the frame from showing."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response = get_conditional_response(
                request,
                etag=response.get("ETag"),
                last_modified=parse_http_date_safe(response.get("Last-Modified", "")),
                response=response,
            )
        return response

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SECURE_CSP:
            return answer(request, *args, **kwargs)
        policy = {**settings.SECURE_CSP, "frame-ancestors": ["*"]}
        return csp_override(policy)(answer)(request, *args, **kwargs)

    return xframe_options_exempt(wrapper)


def embed_html(letter: Letter, *, width: int = EMBED_WIDTH, height: int = EMBED_HEIGHT) -> str:
    """The HTML another site pastes to show the letter's embed."""
    return format_html(
        # No style attribute: a site with a strict Content-Security-Policy (as this one)
        # would refuse it; the site's own CSS sizes and borders the frame.
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy" sandbox="{}"></iframe>',
        absolute_url(reverse("letters:embed", args=[letter.slug])),
        width,
        height,
        gettext("%(title)s: signatures on %(site)s")
        % {"title": letter.text.title, "site": SITE_NAME},
        EMBED_SANDBOX,
    )


@frameable_by_any_site
@public_page
def letter_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter's title, its count from the tally, and links to sign and to read it:
    one query whatever the number of signatures."""
    letter = get_object_or_404(
        Letter.objects.published().in_language().select_related("tally"), slug=slug
    )
    tally = tally_of(letter)
    total = tally.total if tally else 0
    return render(
        request,
        "letters/letter_embed.html",
        {
            "letter": letter,
            "total": total,
            "countries": tally.countries if tally else 0,
            "reported_leads": letter.reported_figure_leads(total),
        },
    )


class OEmbedForm(forms.Form):
    """An oEmbed request's parameters (https://oembed.com/#section2.2)."""

    url = forms.URLField(max_length=2000, assume_scheme="https")
    maxwidth = forms.IntegerField(min_value=1, max_value=10_000, required=False)
    maxheight = forms.IntegerField(min_value=1, max_value=10_000, required=False)
    format = forms.CharField(max_length=10, required=False)


def _error(status: int, message: str, parameter: str = "") -> JsonResponse:
    body = {"error": message}
    if parameter:
        body["parameter"] = parameter
    return JsonResponse(body, status=status)


def _letter_slug(request: HttpRequest, url: str) -> tuple[str | None, str]:
    """The slug of the letter ``url`` is the page or embed of, on this site (else None),
    and the language of that address: its prefix's (``/fr/…``), or the active one."""
    language = translation.get_language()
    parts = urlsplit(url)
    ours = {urlsplit(settings.SITE_URL).netloc, request.get_host()}
    if parts.scheme not in ("http", "https") or parts.netloc not in ours:
        return None, language
    # A language prefix is matched only with its language active.
    language = translation.get_language_from_path(parts.path) or language
    with translation.override(language):
        try:
            match = resolve(parts.path)
        except Resolver404:
            return None, language
    slug = match.kwargs["slug"] if match.view_name in EMBEDDABLE_VIEWS else None
    return slug, language


@public_page
def oembed(request: HttpRequest) -> JsonResponse:
    """oEmbed for a letter's page or embed: the frame's HTML, as a "rich" response within
    ``maxwidth`` × ``maxheight``. JSON only: ``format=xml`` is 501, as the spec asks."""
    form = OEmbedForm(request.GET)
    if not form.is_valid():
        parameter, errors = next(iter(form.errors.items()))
        return _error(400, f"{parameter}: {' '.join(errors)}", parameter)
    params = form.cleaned_data
    if params["format"] not in ("", "json"):
        return _error(501, "Only format=json is available.", "format")
    slug, language = _letter_slug(request, params["url"])
    letter = (
        Letter.objects.published().in_language(language).filter(slug=slug).first() if slug else None
    )
    if letter is None:
        return _error(404, "url is not the address of a published letter on this site.", "url")
    width = min(EMBED_WIDTH, params["maxwidth"] or EMBED_WIDTH)
    height = min(EMBED_HEIGHT, params["maxheight"] or EMBED_HEIGHT)
    with translation.override(language):
        body = {
            "version": "1.0",
            "type": "rich",
            "title": str(letter.text.title),
            "provider_name": SITE_NAME,
            "provider_url": absolute_url("/"),
            "html": embed_html(letter, width=width, height=height),
            "width": width,
            "height": height,
        }
    if letter.organiser:
        body["author_name"] = letter.organiser
    return JsonResponse(body)


def oembed_url(letter: Letter) -> str:
    """The oEmbed address that describes ``letter``, for the page's discovery link."""
    params = urlencode({"url": absolute_url(letter.get_absolute_url()), "format": "json"})
    return absolute_url(f"{reverse('letters:oembed')}?{params}")

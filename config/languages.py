"""Which language a page is in, and the ways to another.

The URL decides: ``/fr/letters/<slug>/`` is French, an unprefixed URL is always English
(``i18n_patterns(prefix_default_language=False)`` in config/urls.py). So one address is one
page in one language, which a shared cache, a search engine and a pasted link can all rely
on, and no page varies with the browser's ``Accept-Language``.

The browser's language is only a first guess, made at the front door: the home page (``/``)
sends a visitor whose browser prefers a language we have to that language's home, unless the
visitor has chosen a language with the switcher (a cookie, read there and nowhere else). The
switcher on every page links to the same page in each language, through ``choose`` so that
the choice is remembered.
"""

from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from config.context_processors import CANONICAL_PAGES

LANGUAGE_NAMES = dict(settings.LANGUAGES)


class LanguageFromPathMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, which with our URL patterns takes the language from the
    path alone (an unprefixed path is ``LANGUAGE_CODE``), without its ``Vary:
    Accept-Language`` on unprefixed pages: they don't vary with it, and saying they do would
    split every shared cache's copy by browser language."""

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def hreflang(code: str) -> str:
    """The code a search engine reads in ``hreflang``: "en" for our British English."""
    return code.split("-")[0]


def language_links(request: HttpRequest) -> dict:
    """The switcher's links (this page in each language) and, on pages a search engine
    should list, the ``hreflang`` alternates: the context of ``templates/base.html``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {}
    current = translation.get_language()
    path = request.get_full_path()
    links = []
    for code, name in settings.LANGUAGES:
        target = translate_url(path, code)
        links.append(
            {
                "code": code,
                "hreflang": hreflang(code),
                "name": name,
                "current": code == current,
                "url": f"{_choose_path(code)}?next={_quoted(target)}",
            }
        )
    context = {"language_links": links}
    if match.view_name in CANONICAL_PAGES:
        context["hreflang_alternates"] = [
            {
                "hreflang": hreflang(code),
                "url": f"{settings.SITE_URL}{translate_url(request.path, code)}",
            }
            for code, _name in settings.LANGUAGES
        ]
        context["hreflang_default"] = (
            f"{settings.SITE_URL}{translate_url(request.path, settings.LANGUAGE_CODE)}"
        )
    return context


def _choose_path(code: str) -> str:
    return reverse("choose_language", args=[code])


def _quoted(url: str) -> str:
    return quote(url, safe="/")


def choose(request: HttpRequest, code: str) -> HttpResponse:
    """The switcher's link: remember the visitor's language and go to ``next`` in it. A
    language we don't have, or a ``next`` off this site, goes to the home page."""
    if code not in LANGUAGE_NAMES:
        code = settings.LANGUAGE_CODE
    target = request.GET.get("next", "/")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    # ``next`` may be in any language (/fr/…): read it in its own, then give it in ``code``.
    with translation.override(translation.get_language_from_path(target) or settings.LANGUAGE_CODE):
        response = HttpResponseRedirect(translate_url(target, code))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def first_guess(view):
    """The home page's first guess at a visitor's language: a chosen language (the
    switcher's cookie) first, then the browser's ``Accept-Language``; anything other than
    English goes to that language's home page. Only the unprefixed home page guesses.

    The English page says it varies with ``Accept-Language`` but not with ``Cookie`` (so
    shared caches keep sharing it); the redirect, which does depend on the cookie, is
    private to the visitor and never stored."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if translation.get_language_from_path(request.path_info) is not None:
            return view(request, *args, **kwargs)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in LANGUAGE_NAMES:
            chosen = _from_accept_language(request)
        if chosen != settings.LANGUAGE_CODE:
            response = HttpResponseRedirect(translate_url(request.get_full_path(), chosen))
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        else:
            response = view(request, *args, **kwargs)
        patch_vary_headers(response, ("Accept-Language",))
        return response

    return wrapper


def _from_accept_language(request: HttpRequest) -> str:
    header = request.headers.get("Accept-Language", "")
    for accepted, _quality in translation.trans_real.parse_accept_lang_header(header):
        if accepted == "*":
            break
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE

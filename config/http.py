"""HTTP caching of public pages.

Public pages may be kept by browsers and shared caches (a CDN, a proxy) for
``PUBLIC_CACHE_SECONDS`` (60) and served stale for 120 more while they fetch a fresh
copy; every page carries an ETag (ConditionalGetMiddleware), so a revalidation that finds
nothing new is a bodiless 304. On the server, each public page is rendered at most once per
60 seconds per address in each app process's "pages" cache, so a letter that goes viral
costs the database a render a minute per process, not one per visitor.

Anyone with a session cookie — signed-in staff — gets the page rendered for them and
marked private and uncached: staff pages are never stored by a shared cache, and staff
see changes at once. Visitors without one never touch the session, so responses don't
vary on cookies and caches can share them.
"""

from functools import wraps

from django.conf import settings
from django.utils.cache import add_never_cache_headers, patch_cache_control, set_response_etag
from django.views.decorators.cache import cache_page

STALE_WHILE_REVALIDATE = 120


def _with_etag(view):
    """The ETag computed once, when the page is rendered, and cached with it, rather than
    hashed again from the body on every hit."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.streaming or response.status_code != 200:
            return response
        if getattr(response, "is_rendered", True):
            set_response_etag(response)
        else:  # a TemplateResponse, rendered later
            response.add_post_render_callback(set_response_etag)
        return response

    return wrapper


def public_page(view):
    cached_view = cache_page(settings.PUBLIC_CACHE_SECONDS, cache="pages")(_with_etag(view))

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
            return response
        response = cached_view(request, *args, **kwargs)
        if response.status_code in (200, 304):
            patch_cache_control(
                response,
                public=True,
                max_age=settings.PUBLIC_CACHE_SECONDS,
                stale_while_revalidate=STALE_WHILE_REVALIDATE,
            )
        return response

    return wrapper

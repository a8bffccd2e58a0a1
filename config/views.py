import logging

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.http import public_page

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The load balancer's probe (docs/deploy.md): 200 when the database answers a query,
    503 when it does not. Served by ``config.middleware.HealthCheckMiddleware`` whatever
    the Host header, since load balancers probe app servers by IP address.

    Redis is reported but never fails the probe: without it the site still serves (limits
    count per process, pages are rendered afresh, counts refresh later), and taking every
    app server out of rotation because Redis is down would turn a degraded site into none.
    """
    database = _database_status()
    redis = _redis_status()
    if database == "down":
        status = "down"
    elif redis == "down":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "database": database, "redis": redis},
        status=503 if database == "down" else 200,
    )


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database did not answer.", exc_info=True)
        return "down"
    return "up"


def _redis_status() -> str:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return "not configured"
    try:
        # A read of a key nobody writes: one round trip, and nothing stored.
        cache.get("healthz")
    except Exception:  # whatever the client raises (refused, timeout, auth), it is down
        logger.warning("Health check: Redis did not answer.", exc_info=True)
        return "down"
    return "up"


def hello(request: HttpRequest) -> HttpResponse:
    """The cheapest page the stack can serve, through every middleware: the floor that
    bench/load.py measures real pages against. Routed only with ``BENCH_HELLO``."""
    return HttpResponse("hello\n", content_type="text/plain")


# Crawlers may read every public page; not the admin, and not the pages that emailed
# links open (each address carries a signer's token) or the one after the sign form.
ROBOTS_DISALLOWED = [
    "/admin/",
    "/letters/*/confirm/",
    "/letters/*/withdraw/",
    "/letters/*/news/stop/",
    "/letters/*/sign/sent/",
    # The same pages in the other languages (/fr/letters/…/confirm/…); `*` spans the prefix.
    "/*/letters/*/confirm/",
    "/*/letters/*/withdraw/",
    "/*/letters/*/news/stop/",
    "/*/letters/*/sign/sent/",
    # The language switcher's redirect: it sets a cookie and has nothing to read.
    "/language/",
]


@public_page
@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOWED)]
    lines.append(f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def favicon_ico(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says: send them
    to the SVG. Not a permanent redirect: the file's name changes with its content."""
    response = redirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=24 * 60 * 60)
    return response

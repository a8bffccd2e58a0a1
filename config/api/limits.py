"""A per-IP limit on API requests (``API_RATE``, e.g. ``120/min``), answered with 429 and
``Retry-After``.

Counted before the page cache, so every request counts, served from the cache or not: a
client learns one limit, not one that depends on what others asked for first. Clients
are told apart by ``signatories.abuse.client_ip`` (the proxy-aware address, an IPv6
client by its /64), in django-ratelimit's fixed windows like the sign limits; counts live
in the default cache, which is Redis shared by every app server in production. A cache
that fails lets the request through (``signatories.resilience``): the API stays up
without Redis, unlimited for that while.
"""

from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django_ratelimit.core import get_usage

from signatories import resilience
from signatories.abuse import client_ip, limited_network


def rate_limited(view):
    """The view behind the per-IP limit: the same django-ratelimit windows as the sign
    form's limits (``signatories.abuse``), counted by the same network key (an IPv6
    client's /64, so rotating addresses within one machine's range gains nothing)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        network = limited_network(client_ip(request))
        usage = resilience.cache_or(
            None,
            get_usage,
            request,
            group="api",
            key=lambda group, request: network,
            rate=settings.API_RATE,
            increment=True,
        )
        if usage is None or not usage["should_limit"]:
            return view(request, *args, **kwargs)
        seconds = max(1, usage["time_left"])
        response = JsonResponse(
            {
                "detail": f"Too many requests from this address (at most {settings.API_RATE}). "
                f"Try again in {seconds} second{'s' if seconds != 1 else ''}."
            },
            status=429,
        )
        response["Retry-After"] = str(seconds)
        add_never_cache_headers(response)  # a shared cache must not answer others with it
        return response

    return wrapper

"""A per-IP limit on API requests (``API_RATE``, e.g. ``120/min``), answered with 429 and
``Retry-After``.

Counted before the page cache, so every request counts, served from the cache or not: a
client learns one limit, not one that depends on what others asked for first. Clients
are told apart by ``signatories.abuse.client_ip`` (the proxy-aware address); counts live
in the default cache, which is Redis shared by every app server in production. A cache
that fails lets the request through (``signatories.resilience``): the API stays up
without Redis, unlimited for that while.
"""

import math
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from rest_framework.throttling import SimpleRateThrottle

from signatories import resilience
from signatories.abuse import client_ip


class ClientIPThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        return settings.API_RATE

    def get_cache_key(self, request, view) -> str:
        return f"api-rate:{client_ip(request) or 'unknown'}"


def rate_limited(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        throttle = ClientIPThrottle()
        if resilience.cache_or(True, throttle.allow_request, request, None):
            return view(request, *args, **kwargs)
        seconds = max(1, math.ceil(throttle.wait() or 1))
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

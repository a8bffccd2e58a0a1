"""Defences of the public sign form against scripted signatures.

- A honeypot field that people never see and bots fill in: the submission is dropped, and
  the sender sees the usual "check your email" page.
- A form stamp (signed time the form was shown): a form sent back faster than a person
  could fill it in is held for a moderator; a missing or altered stamp is refused.
- Per-IP limits (django-ratelimit over Django's cache, Redis in production): signatures
  over the limit are held for a moderator, and the sender is not told.
- Per-address limits on emails, so the form can't be used to flood someone's inbox.
"""

import ipaddress
import time

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

FORM_STAMP_SALT = "signatories.sign-form-stamp"


UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 -- a rate-limit key, never an address to bind


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or the header a trusted reverse proxy sets
    (``DJANGO_CLIENT_IP_HEADER``; of a list, the last entry, which that proxy added)."""
    header = settings.CLIENT_IP_HEADER
    raw = request.META.get(header, "") if header else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw.split(",")[-1].strip()))
    except ValueError:
        return None


def rate_limit_ip(request: HttpRequest) -> str:
    """``client_ip`` for django-ratelimit: clients without a readable address share one
    set of limits rather than escaping them."""
    return client_ip(request) or UNKNOWN_CLIENT


def form_stamp(now: float | None = None) -> str:
    """A signed record of when the form was shown."""
    return signing.dumps(int(time.time() if now is None else now), salt=FORM_STAMP_SALT)


def seconds_since_stamp(stamp: str) -> float | None:
    """Seconds since the form was shown, or None for a stamp that is missing, altered or
    older than ``SIGN_FORM_MAX_AGE``."""
    try:
        shown = signing.loads(stamp, salt=FORM_STAMP_SALT, max_age=settings.SIGN_FORM_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(shown, int):
        return None
    elapsed = time.time() - shown
    return elapsed if elapsed <= settings.SIGN_FORM_MAX_AGE else None


def filled_too_fast(seconds: float) -> bool:
    return seconds < settings.SIGN_FORM_MIN_SECONDS


def over_ip_limit(request: HttpRequest) -> bool:
    """Count one signature from this client; True once it is over any per-IP limit.
    Every limit is counted, so a burst also uses up the daily allowance."""
    over = False
    for rate in settings.SIGN_RATE_LIMITS:
        if is_ratelimited(request, group="sign", key="ip", rate=rate, increment=True):
            over = True
    return over


def over_email_limit(request: HttpRequest, *, letter_id: int, email_normalised: str) -> bool:
    """Count one email to this address about this letter; True once over the limit."""
    return is_ratelimited(
        request,
        group=f"sign-email:{letter_id}",
        key=lambda group, request: email_normalised,
        rate=settings.SIGN_EMAIL_RATE_LIMIT,
        increment=True,
    )

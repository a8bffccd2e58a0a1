"""Defences of the public sign form against scripted signatures.

- A honeypot field that people never see and bots fill in: the submission is dropped, and
  the sender sees the usual "check your email" page.
- A form stamp (signed time the form was shown): a form sent back faster than a person
  could fill it in is held for a moderator; a missing or altered stamp is refused.
- Per-IP limits (django-ratelimit over Django's cache, Redis in production): signatures
  over the limit are held for a moderator, and the sender is not told. With the cache
  down every signature is held the same way: still recorded and emailed, it waits.
- Per-address limits on emails, so the form can't be used to flood someone's inbox:
  counted by the task that sends them (``tasks.send_signature_email``), so that the sign
  request does the same work whatever the address has done before. With the cache down
  they count the address's submissions of the last hour in the database.
"""

import datetime
import ipaddress
import time

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import is_ratelimited

from signatories import resilience
from signatories.models import Signature

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


def ip_limit_reason(request: HttpRequest) -> str:
    """Count one signature from this client: why it should wait for a moderator (over
    a per-IP limit, or the limits could not be counted), or "". Every limit is counted,
    so a burst also uses up the daily allowance."""
    reasons = set()
    for rate in settings.SIGN_RATE_LIMITS:
        over = resilience.cache_or(
            None, is_ratelimited, request, group="sign", key="ip", rate=rate, increment=True
        )
        if over is None:
            reasons.add("per-network limits could not be counted (cache unavailable)")
        elif over:
            reasons.add("many signatures from one network")
    return "; ".join(sorted(reasons))


UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_of(rate: str) -> tuple[int, int]:
    """``(count, seconds)`` of a django-ratelimit rate such as ``3/h`` or ``10/15m``."""
    count, per = rate.split("/")
    return int(count), int(per[:-1] or 1) * UNIT_SECONDS[per[-1]]


def over_email_limit(*, letter_id: int, email_normalised: str) -> bool:
    """Count one email to this address about this letter; True once over the limit."""
    over = resilience.cache_or(
        None,
        is_ratelimited,
        None,  # no request: the key is the address
        group=f"sign-email:{letter_id}",
        key=lambda group, request: email_normalised,
        rate=settings.SIGN_EMAIL_RATE_LIMIT,
        increment=True,
    )
    if over is None:
        limit, seconds = rate_of(settings.SIGN_EMAIL_RATE_LIMIT)
        since = timezone.now() - datetime.timedelta(seconds=seconds)
        submissions = Signature.objects.filter(
            letter_id=letter_id, email_normalised=email_normalised, created_at__gte=since
        )
        over = submissions.count() > limit
    return over

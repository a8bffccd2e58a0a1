"""Defences of the public sign form against scripted signatures.

- A honeypot field that people never see and bots fill in: the submission is dropped, and
  the sender sees the usual "check your email" page.
- A form stamp (signed time the form was shown, and a random nonce): a form sent back
  faster than a person could fill it in is held for a moderator; a missing or altered
  stamp is refused. A stamp serves one signer: sent back again for another address, the
  signature is held for a moderator (a script reusing one stamp for many addresses).
- Per-IP limits (django-ratelimit over Django's cache, Redis in production), counted by
  the task that emails the confirmation link: signatures over the limit are held for a
  moderator, and the sender is not told. With the cache down every signature is held
  the same way: still recorded and emailed, it waits.
- Blocked email domains (``BlockedEmailDomain``, kept by staff) are refused by the form;
  each process reads the list at most once a minute (``is_blocked_domain``).
- Per-address limits on emails, so the form can't be used to flood someone's inbox:
  counted by the task that sends them (``tasks.send_signature_email``), so that the sign
  request does the same work whatever the address has done before. With the cache down
  they count the address's submissions of the last hour in the database.
"""

import datetime
import ipaddress
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_ratelimit.core import is_ratelimited

from signatories import resilience
from signatories.emails import domain_and_parents
from signatories.models import BlockedEmailDomain, Signature, UsedFormStamp

FORM_STAMP_SALT = "signatories.sign-form-stamp"
STAMP_EMAIL_SALT = "signatories.sign-form-stamp-email"


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


@dataclass(frozen=True)
class FormStamp:
    shown: int  # when the form was shown, in seconds since the epoch
    nonce: str
    seconds_open: float


def form_stamp(now: float | None = None) -> str:
    """A signed record of when the form was shown, with a nonce that makes it single-use."""
    shown = int(time.time() if now is None else now)
    return signing.dumps([shown, secrets.token_urlsafe(12)], salt=FORM_STAMP_SALT)


def read_form_stamp(stamp: str) -> FormStamp | None:
    """The stamp sent back, or None for one that is missing, altered, of another shape
    or older than ``SIGN_FORM_MAX_AGE``."""
    try:
        value = signing.loads(stamp, salt=FORM_STAMP_SALT, max_age=settings.SIGN_FORM_MAX_AGE)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        return None
    shown, nonce = value
    if type(shown) is not int or not isinstance(nonce, str) or not 0 < len(nonce) <= 32:
        return None
    elapsed = time.time() - shown
    if elapsed > settings.SIGN_FORM_MAX_AGE:
        return None
    return FormStamp(shown=shown, nonce=nonce, seconds_open=elapsed)


def seconds_since_stamp(stamp: str) -> float | None:
    """Seconds since the form was shown, or None for a stamp ``read_form_stamp`` refuses."""
    read = read_form_stamp(stamp)
    return read.seconds_open if read else None


def stamp_used_for_another_address(stamp: FormStamp, *, email_normalised: str) -> bool:
    """Record that ``stamp`` was sent back with this address; True when it had been sent
    back before with another one.

    The stamp is made when the form is shown, before anything is typed, so it can't be
    bound to the address in advance: the first submission binds it. The same address
    again (a double click, the back button) is the same signer and passes. Kept in the
    database, not the cache: it holds when Redis is down, and the unique nonce settles
    two submissions racing with one stamp (the second waits for the first to commit).

    One statement, ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL, and SQLite
    since 3.35), which needs no transaction of its own: the sign form records the stamp
    in the transaction that stores the signature, so both are kept or neither."""
    digest = salted_hmac(STAMP_EMAIL_SALT, email_normalised, algorithm="sha256").hexdigest()
    shown_at = datetime.datetime.fromtimestamp(stamp.shown, tz=datetime.UTC)
    table = connection.ops.quote_name(UsedFormStamp._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (nonce, email_digest, shown_at) VALUES (%s, %s, %s) "  # noqa: S608 -- our table's name, quoted
            "ON CONFLICT (nonce) DO NOTHING RETURNING 1",
            [stamp.nonce, digest, connection.ops.adapt_datetimefield_value(shown_at)],
        )
        if cursor.fetchone() is not None:
            return False
    return not UsedFormStamp.objects.filter(nonce=stamp.nonce, email_digest=digest).exists()


BLOCKED_DOMAINS_SECONDS = 60


class _BlockedDomains:
    """The blocked domains, read from the database at most once a minute per process:
    every sign request checks them, and they change a few times a year. A change made
    in this process applies at once (``forget``, on commit); elsewhere within a minute."""

    def __init__(self):
        self.domains: frozenset[str] = frozenset()
        self.read_at: float | None = None

    def get(self) -> frozenset[str]:
        now = time.monotonic()
        if self.read_at is None or now - self.read_at >= BLOCKED_DOMAINS_SECONDS:
            self.domains = frozenset(BlockedEmailDomain.objects.values_list("domain", flat=True))
            self.read_at = now
        return self.domains

    def forget(self) -> None:
        self.read_at = None


blocked_domains = _BlockedDomains()


def forget_blocked_domains(**_signal) -> None:
    """A blocked domain was saved or deleted: read the list again, now and once the
    change is committed (a read in between would keep it as it was)."""
    blocked_domains.forget()
    transaction.on_commit(blocked_domains.forget)


def is_blocked_domain(domain: str) -> bool:
    """Whether the sign form refuses addresses at ``domain`` (blocked, or under a blocked
    domain)."""
    blocked = blocked_domains.get()
    return any(name in blocked for name in domain_and_parents(domain))


def filled_too_fast(seconds: float) -> bool:
    return seconds < settings.SIGN_FORM_MIN_SECONDS


def limited_network(ip_address: str | None) -> str:
    """What the per-IP limits count by: the address, or for IPv6 its /64 network (one
    household's or one machine's addresses), as django-ratelimit's ``ip`` key does; one
    shared key for submissions without a readable address."""
    if not ip_address:
        return UNKNOWN_CLIENT
    network = ipaddress.ip_network(ip_address)
    if network.version == 6:
        network = network.supernet(new_prefix=getattr(settings, "RATELIMIT_IPV6_MASK", 64))
    return str(network.network_address)


def ip_limit_reason(ip_address: str | None) -> str:
    """Count one submission from this address: why it should wait for a moderator (over
    a per-IP limit, or the limits could not be counted), or "". Every limit is counted,
    so a burst also uses up the daily allowance.

    Counted by the task that emails the confirmation link (``tasks.send_signature_email``),
    before it sends the link, not by the sign request: the hold is on the submission
    before its signer can confirm it, and the request does four Redis round trips
    fewer."""
    network = limited_network(ip_address)
    reasons = set()
    for rate in settings.SIGN_RATE_LIMITS:
        over = resilience.cache_or(
            None,
            is_ratelimited,
            None,  # no request: the key is the signer's network
            group="sign",
            key=lambda group, request: network,
            rate=rate,
            increment=True,
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

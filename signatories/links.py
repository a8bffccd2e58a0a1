"""The links emailed to signers: confirm a signature, withdraw it, stop follow-up emails.

A link carries a signed token (``django.core.signing``, keyed by ``SECRET_KEY``) naming
the signature and what the link may do (its ``Purpose``, the token's salt). A
confirmation link expires after ``SIGN_CONFIRMATION_MAX_AGE``; the others never do: a way
out must always work.

This module knows tokens and addresses only: the sign flow (``signing``) reads them, the
email tasks (``tasks``) write them, and neither needs the other for it.
"""

import enum

from django.conf import settings
from django.core import signing
from django.urls import reverse

from signatories.models import Signature


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    WITHDRAW = "withdraw"
    UNFOLLOW = "unfollow"


# The view each purpose's link opens.
VIEW_NAMES = {
    Purpose.CONFIRM: "signatories:confirm",
    Purpose.WITHDRAW: "signatories:withdraw",
    Purpose.UNFOLLOW: "signatories:unfollow",
}


class LinkError(Exception):
    """A link that is not valid. ``expired`` tells an old link from a damaged one; ``gone``
    a genuine link whose submission is no longer there (set aside when another submission
    from the same address was confirmed, or deleted by staff)."""

    def __init__(self, *, expired: bool, gone: bool = False):
        super().__init__("expired" if expired else "gone" if gone else "invalid")
        self.expired = expired
        self.gone = gone


def make_token(signature: Signature, purpose: Purpose) -> str:
    return signing.dumps(signature.pk, salt=f"signatories.{purpose}")


def read_token(token: str, purpose: Purpose) -> int:
    """The signature id a link names, or ``LinkError``."""
    max_age = settings.SIGN_CONFIRMATION_MAX_AGE if purpose == Purpose.CONFIRM else None
    try:
        value = signing.loads(token, salt=f"signatories.{purpose}", max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(expired=True) from None
    except signing.BadSignature:
        raise LinkError(expired=False) from None
    if not isinstance(value, int):
        raise LinkError(expired=False)
    return value


def link(signature: Signature, purpose: Purpose) -> str:
    """The absolute address of a signature's link, on ``SITE_URL``."""
    path = reverse(
        VIEW_NAMES[purpose], args=[signature.letter.slug, make_token(signature, purpose)]
    )
    return settings.SITE_URL + path

"""Public signing: sign, confirm by email, withdraw, stop follow-up emails.

A signature from the public form is created ``unconfirmed``: it is neither shown nor
counted until its signer follows the link emailed to them (double opt-in), and then
published, or held for a moderator when the letter asks for moderation, when the form was
sent suspiciously (too fast, too many from one network), or when an organisation's email
isn't on its website's domain. One signature per normalised email per letter is a database
constraint; signing again with the same address sends a link again and never makes a
second signature.

Links carry signed tokens (``django.core.signing``, keyed by ``SECRET_KEY``) naming the
signature and what the link may do. A confirmation link expires after
``SIGN_CONFIRMATION_MAX_AGE``; a withdrawal link never does: a way out must always work.
"""

import enum
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from letters.models import Letter
from signatories.emails import normalise_email, on_same_domain
from signatories.models import (
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    Source,
    Verification,
)
from signatories.tallies import schedule_refresh

CONSENT_TEXT = (
    "I agree that my signature may be published on this letter and counted: my name as I "
    "chose above (no name if anonymous), with my country, category, role, affiliation and "
    "statement. If I sign for an organisation, I may sign on its behalf. I can withdraw at "
    "any time with the link in my emails."
)


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    WITHDRAW = "withdraw"
    UNFOLLOW = "unfollow"


class LinkError(Exception):
    """A link that is not valid. ``expired`` tells an old link from a damaged one."""

    def __init__(self, *, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


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
    names = {
        Purpose.CONFIRM: "signatories:confirm",
        Purpose.WITHDRAW: "signatories:withdraw",
        Purpose.UNFOLLOW: "signatories:unfollow",
    }
    path = reverse(names[purpose], args=[signature.letter.slug, make_token(signature, purpose)])
    return settings.SITE_URL + path


@dataclass(frozen=True, kw_only=True)
class SignerDetails:
    """What the sign form collected, cleaned."""

    kind: str
    name: str
    email: str
    category: str
    country: str = ""
    website: str = ""
    role: str = ""
    affiliation: str = ""
    display: str = Display.FULL
    statement: str = ""
    follow_up: bool = False


class SignOutcome(enum.StrEnum):
    CREATED = "created"  # a new signature, awaiting confirmation
    RESENT = "resent"  # an unconfirmed or withdrawn one, replaced and awaiting confirmation
    ALREADY_SIGNED = "already_signed"  # a confirmed one: left as it is


def public_form_slug(details: SignerDetails) -> str:
    """A signatory slug that never carries a name its signer chose to hide, and that two
    people with the same name signing at the same moment can't both take."""
    suffix = secrets.token_hex(4)
    if details.display == Display.FULL:
        return f"{(slugify(details.name) or 'signatory')[:200]}-{suffix}"
    return f"signer-{suffix}{secrets.token_hex(2)}"


def _signatory_values(details: SignerDetails) -> dict:
    is_person = details.kind == SignatoryKind.INDIVIDUAL
    return {
        "name": details.name,
        "kind": details.kind,
        "category": details.category,
        "country": details.country,
        "website": "" if is_person else details.website,
        "role": details.role if is_person else "",
        "affiliation": details.affiliation if is_person else "",
    }


def _signature_values(details: SignerDetails, *, ip_address, hold_reason: str) -> dict:
    now = timezone.now()
    is_person = details.kind == SignatoryKind.INDIVIDUAL
    return {
        "signed_on": timezone.localdate(now),
        "display": details.display if is_person else Display.FULL,
        "statement": details.statement,
        "status": SignatureStatus.UNCONFIRMED,
        "source": Source.PUBLIC_FORM,
        "verification": Verification.UNVERIFIED,
        "verified_at": None,
        "verified_by": None,
        "email": details.email,
        "ip_address": ip_address,
        "consent_text": CONSENT_TEXT,
        "consented_at": now,
        "confirmed_at": None,
        "follow_up": details.follow_up,
        "moderation_reason": hold_reason,
    }


def sign_letter(
    *,
    letter: Letter,
    details: SignerDetails,
    ip_address: str | None,
    hold_reason: str = "",
    send_email: bool = True,
) -> tuple[Signature, SignOutcome]:
    """Record a signature from the public form and email its signer a link.

    A new address gets a new, unconfirmed signature. An address that already has an
    unconfirmed or withdrawn signature on this letter gets it replaced by these details,
    still unconfirmed; one whose signature is confirmed keeps it untouched and is emailed
    a reminder with its withdrawal link. The caller shows the same page in every case.
    """
    from signatories.tasks import send_signature_email

    normalised = normalise_email(details.email)
    signature_values = _signature_values(details, ip_address=ip_address, hold_reason=hold_reason)
    # One transaction, one commit: the signature and its queued email are stored together.
    with transaction.atomic():
        try:
            with transaction.atomic():
                signatory = Signatory.objects.create(
                    slug=public_form_slug(details), **_signatory_values(details)
                )
                signature = Signature.objects.create(
                    letter=letter,
                    signatory=signatory,
                    email_normalised=normalised,
                    **signature_values,
                )
                signature._change_reason = "Signed on the public form"
            outcome = SignOutcome.CREATED
        except IntegrityError:
            # The address has signed this letter before, or a twin request has just signed
            # it: the unique constraint let only one of them in. Take that one.
            signature, outcome = _sign_again(
                letter=letter,
                normalised=normalised,
                details=details,
                signature_values=signature_values,
            )
        if send_email:
            kind = "already_signed" if outcome == SignOutcome.ALREADY_SIGNED else "confirm"
            send_signature_email.enqueue(signature.pk, kind)
    return signature, outcome


@transaction.atomic
def _sign_again(
    *, letter: Letter, normalised: str, details: SignerDetails, signature_values: dict
) -> tuple[Signature, SignOutcome]:
    signature = (
        Signature.objects.select_for_update()
        .select_related("signatory")
        .get(letter=letter, email_normalised=normalised)
    )
    if signature.status not in (SignatureStatus.UNCONFIRMED, SignatureStatus.WITHDRAWN):
        # Held or hidden by staff before its signer confirmed: send the link again, and
        # leave the details staff are looking at as they are.
        outcome = SignOutcome.RESENT if awaits_confirmation(signature) else None
        return signature, outcome or SignOutcome.ALREADY_SIGNED
    signatory = signature.signatory
    for field, value in _signatory_values(details).items():
        setattr(signatory, field, value)
    # The old slug may spell a name the signer now wants hidden or shortened.
    signatory.slug = public_form_slug(details)
    signatory.save()
    # A reason to hold an unconfirmed earlier submission still holds: signing again from
    # elsewhere must not release it. (A withdrawn one's reasons were settled at confirmation.)
    earlier = signature.moderation_reason if signature.status == SignatureStatus.UNCONFIRMED else ""
    reasons = [earlier, signature_values["moderation_reason"]]
    for field, value in signature_values.items():
        setattr(signature, field, value)
    signature.moderation_reason = "; ".join(dict.fromkeys(r for r in reasons if r))[:200]
    signature._change_reason = "Signed again on the public form"
    signature.save()
    return signature, SignOutcome.RESENT


class ConfirmOutcome(enum.StrEnum):
    PUBLISHED = "published"
    HELD = "held"  # confirmed, waiting for a moderator
    ALREADY_CONFIRMED = "already_confirmed"
    WITHDRAWN = "withdrawn"  # withdrawn, rejected or hidden: not brought back by an old link


def moderation_reasons(signature: Signature) -> list[str]:
    """Why a confirmed public signature should wait for a moderator (none: publish)."""
    reasons = [signature.moderation_reason] if signature.moderation_reason else []
    if signature.letter.moderate_public_signatures:
        reasons.append("the letter asks for moderation")
    if signature.signatory.is_organisation and not on_same_domain(
        signature.email, signature.signatory.website
    ):
        reasons.append("organisation email not on its website's domain")
    return reasons


# Staff may hold or hide a signature before its signer confirms it: confirming still
# records the confirmation, and leaves it held or hidden.
CONFIRMABLE = (SignatureStatus.UNCONFIRMED, SignatureStatus.PENDING, SignatureStatus.HIDDEN)


def awaits_confirmation(signature: Signature) -> bool:
    """Whether the signer can still confirm this signature with their link."""
    return signature.confirmed_at is None and signature.status in CONFIRMABLE


def confirmation_state(signature: Signature) -> ConfirmOutcome | None:
    """What the confirm link would find now: None when there is something to confirm."""
    if awaits_confirmation(signature):
        return None
    if signature.confirmed_at and signature.status in (
        SignatureStatus.PUBLISHED,
        SignatureStatus.PENDING,
    ):
        return ConfirmOutcome.ALREADY_CONFIRMED
    return ConfirmOutcome.WITHDRAWN


@transaction.atomic
def confirm_signature(*, signature_id: int) -> tuple[Signature, ConfirmOutcome]:
    """The signer followed the emailed link: publish the signature, or hold it."""
    signature = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("signatory", "letter")
        .get(pk=signature_id)
    )
    state = confirmation_state(signature)
    if state is not None:
        return signature, state
    now = timezone.now()
    reasons = moderation_reasons(signature)
    domain_confirmed = signature.signatory.is_organisation and on_same_domain(
        signature.email, signature.signatory.website
    )
    signature.confirmed_at = now
    signature.verification = (
        Verification.ORGANISATION_CONFIRMED if domain_confirmed else Verification.EMAIL_CONFIRMED
    )
    signature.verified_at = now
    if signature.status == SignatureStatus.UNCONFIRMED:
        signature.status = SignatureStatus.PENDING if reasons else SignatureStatus.PUBLISHED
    signature.moderation_reason = "; ".join(reasons)[:200]
    signature._change_reason = "Confirmed by email"
    signature.save()
    published = signature.status == SignatureStatus.PUBLISHED
    if published:
        schedule_refresh([signature.letter_id])
    return signature, ConfirmOutcome.PUBLISHED if published else ConfirmOutcome.HELD


@transaction.atomic
def withdraw_signature(*, signature_id: int) -> Signature:
    """Take the signature off every public page, count and export, and stop emails."""
    signature = Signature.objects.select_for_update().get(pk=signature_id)
    was_counted = signature.status == SignatureStatus.PUBLISHED
    if signature.status != SignatureStatus.REJECTED:
        signature.status = SignatureStatus.WITHDRAWN
    signature.follow_up = False
    signature._change_reason = "Withdrawn by the signer"
    signature.save()
    if was_counted:
        schedule_refresh([signature.letter_id])
    return signature


def stop_follow_up(*, signature_id: int) -> Signature:
    signature = Signature.objects.get(pk=signature_id)
    if signature.follow_up:
        signature.follow_up = False
        signature._change_reason = "Follow-up emails stopped by the signer"
        signature.save(update_fields=["follow_up", "updated_at"])
    return signature

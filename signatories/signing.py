"""Public signing: sign, confirm by email, withdraw, stop follow-up emails.

A signature from the public form is created ``unconfirmed``: it is neither shown nor
counted until its signer follows the link emailed to them (double opt-in), and then
published, or held for a moderator when the letter asks for moderation, when the form was
sent suspiciously (too fast, too many from one network), or when an organisation's email
isn't on its website's domain. One signature per normalised email per letter is a database
constraint; signing again with the same address sends a link again and never makes a
second signature.

The emailed links and their tokens are ``links``; an address's submissions and the one
that stands, ``submissions``; the emails themselves, ``tasks``.
"""

import enum
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from letters.models import Letter
from signatories import resilience
from signatories.delivered import redact_stale_rows
from signatories.emails import normalise_email, on_same_domain
from signatories.links import LinkError
from signatories.models import (
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    Source,
    Verification,
)
from signatories.slugs import unique_slug
from signatories.submissions import same_address, set_aside, stands
from signatories.tallies import schedule_refresh
from signatories.tasks import send_signature_email

# Marked for translation, kept in English here: the form shows it in the signer's language
# (``consent_text``), and the signature keeps it as it was shown to them.
CONSENT_TEXT = gettext_noop(
    "I agree that my signature may be published on this letter and counted: my name as I "
    "chose above (no name if anonymous), with my country, category, role, affiliation and "
    "statement. If I sign for an organisation, I may sign on its behalf. I can withdraw at "
    "any time with the link in my emails."
)


def consent_text() -> str:
    """The consent wording in the active language: as the form showed it."""
    return gettext(CONSENT_TEXT)


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


def public_form_slug(details: SignerDetails) -> str:
    """A signatory slug that never carries a name its signer chose to hide, and that two
    people with the same name signing at the same moment can't both take (a random
    suffix: no guessing it either)."""
    if details.display == Display.FULL:
        return unique_slug(details.name, among=Signatory.objects, suffix=secrets.token_hex(4))
    return unique_slug("signer", among=Signatory.objects, suffix=secrets.token_hex(6))


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


def _signature_values(
    details: SignerDetails, *, ip_address, hold_reason: str, language: str
) -> dict:
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
        "consent_text": consent_text(),
        "consented_at": now,
        "confirmed_at": None,
        "follow_up": details.follow_up,
        "moderation_reason": hold_reason,
        "language": language,
    }


def sign_letter(
    *,
    letter: Letter,
    details: SignerDetails,
    ip_address: str | None,
    hold_reason: str = "",
    language: str = "",
    send_email: bool = True,
) -> Signature:
    """Record a submission of the public form and queue the email with its link.

    ``language`` is the one the form was shown in (``Signature.language``): every email
    to the signer about this signature is written in it; empty, the site's default.

    Every submission is its own unconfirmed signature, whatever the address did before:
    only the link emailed for it can publish it, with exactly these details, so nobody
    who merely knows a signer's address can change what their link publishes. The
    request does the same work whoever signs; the email task tells the cases apart (a
    confirmed address is reminded, not sent a link; too many emails, none sent), and
    confirming one submission sets aside the address's other unconfirmed ones
    (``confirm_signature``). The caller shows the same page in every case.
    """
    # One transaction, one commit: the signature and its queued email are stored together
    # (in the caller's transaction when there is one: no savepoint of its own).
    # No history rows yet: the change history starts when the signer confirms.
    with transaction.atomic(savepoint=False):
        signatory = Signatory(slug=public_form_slug(details), **_signatory_values(details))
        signatory.save_without_historical_record()
        signature = Signature(
            letter=letter,
            signatory=signatory,
            email_normalised=normalise_email(details.email),
            **_signature_values(
                details, ip_address=ip_address, hold_reason=hold_reason, language=language
            ),
        )
        signature.save_without_historical_record()
        if send_email and not resilience.enqueue(send_signature_email, signature.pk, "confirm"):
            # No queue: send it now rather than leave the signer waiting for nothing.
            transaction.on_commit(
                lambda: send_signature_email.call(signature.pk, "confirm"), robust=True
            )
    return signature


class ConfirmOutcome(enum.StrEnum):
    PUBLISHED = "published"
    HELD = "held"  # confirmed, waiting for a moderator
    ALREADY_CONFIRMED = "already_confirmed"
    WITHDRAWN = "withdrawn"  # withdrawn, rejected or hidden: not brought back by an old link
    ADDRESS_SIGNED = "address_signed"  # the address's signature already stands: left as it is


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


def _start_history(records, *, reason: str) -> None:
    """The first rows of the change history of a confirmed submission, as it now stands
    (a row per record that has none yet: staff may have edited it while it waited)."""
    for record in records:
        history = type(record).history
        edited = history.filter(id=record.pk).exists()
        history.bulk_history_create([record], update=edited, default_change_reason=reason)


def confirmation_state(signature: Signature) -> ConfirmOutcome | None:
    """What the confirm link would find now: None when there is something to confirm."""
    if signature.is_awaiting_confirmation:
        return None
    if signature.confirmed_at and signature.status in (
        SignatureStatus.PUBLISHED,
        SignatureStatus.PENDING,
    ):
        return ConfirmOutcome.ALREADY_CONFIRMED
    return ConfirmOutcome.WITHDRAWN


@transaction.atomic
def confirm_signature(*, signature_id: int) -> tuple[Signature, ConfirmOutcome]:
    """The signer followed the emailed link: publish the signature, or hold it.

    The address's other open submissions are set aside; a reason to hold any of them
    (a suspicious network, a moderator's hold) holds this one. If a signature already
    stands for the address, this one changes nothing. ``LinkError`` if the submission was
    set aside by the confirmation of another one meanwhile.
    """
    unlocked = Signature.objects.filter(pk=signature_id).first()
    if unlocked is None:
        raise LinkError(expired=False, gone=True)
    # The address's signatures, locked in one order, so that two confirmations from one
    # inbox take turns instead of both publishing.
    locked = {
        row.pk: row
        for row in Signature.objects.select_for_update(of=("self",))
        .select_related("signatory", "letter")
        .filter(Q(pk=signature_id) | Q(pk__in=same_address(unlocked).values("pk")))
        .order_by("pk")
    }
    signature = locked.pop(signature_id, None)
    if signature is None:
        raise LinkError(expired=False, gone=True)
    state = confirmation_state(signature)
    if state is not None:
        return signature, state
    if any(stands(other) for other in locked.values()):
        return signature, ConfirmOutcome.ADDRESS_SIGNED
    others = [other for other in locked.values() if other.is_awaiting_confirmation]

    now = timezone.now()
    reasons = moderation_reasons(signature)
    reasons += [other.moderation_reason for other in others if other.moderation_reason]
    held_by_staff = {other.status for other in others} & {
        SignatureStatus.PENDING,
        SignatureStatus.HIDDEN,
    }
    if held_by_staff:
        reasons.append("a moderator held another submission from this address")
    domain_confirmed = signature.signatory.is_organisation and on_same_domain(
        signature.email, signature.signatory.website
    )
    signature.confirmed_at = now
    signature.verification = (
        Verification.ORGANISATION_CONFIRMED if domain_confirmed else Verification.EMAIL_CONFIRMED
    )
    signature.verified_at = now
    if signature.status == SignatureStatus.UNCONFIRMED:
        if SignatureStatus.HIDDEN in held_by_staff:
            signature.status = SignatureStatus.HIDDEN
        else:
            signature.status = SignatureStatus.PENDING if reasons else SignatureStatus.PUBLISHED
    signature.moderation_reason = "; ".join(dict.fromkeys(reasons))[:200]
    set_aside(others)
    signature.save_without_historical_record()
    _start_history([signature, signature.signatory], reason="Confirmed by email")
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
        # Off the delivered list too: its row there shows its hash alone from now on.
        redact_stale_rows(signature_ids=[signature.pk])
    return signature


def stop_follow_up(*, signature_id: int) -> Signature:
    signature = Signature.objects.get(pk=signature_id)
    if signature.follow_up:
        signature.follow_up = False
        signature._change_reason = "Follow-up emails stopped by the signer"
        signature.save(update_fields=["follow_up", "updated_at"])
    return signature

"""Staff vetting of signatures: verify, publish, hide, reject.

Each is a bulk update that also writes one history row per signature (django-simple-history),
so the audit trail says who changed what, when, and why.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from signatories.delivered import redact_stale_rows
from signatories.models import Signature, SignatureQuerySet, SignatureStatus, Verification
from signatories.tallies import schedule_refresh

BATCH_SIZE = 1000


@transaction.atomic
def _update(
    signatures: SignatureQuerySet, *, by: AbstractBaseUser | None, reason: str, **values
) -> int:
    now = timezone.now()
    values["updated_at"] = now
    changed = []
    for signature in signatures.select_for_update().iterator(chunk_size=BATCH_SIZE):
        for field, value in values.items():
            setattr(signature, field, value)
        changed.append(signature)
    bulk_update_with_history(
        changed,
        Signature,
        fields=list(values),
        batch_size=BATCH_SIZE,
        default_user=by,
        default_change_reason=reason,
        default_date=now,
    )
    schedule_refresh({signature.letter_id for signature in changed})
    # A row hidden or rejected comes off the delivered list (its hash stays).
    redact_stale_rows(signature_ids=[signature.pk for signature in changed])
    return len(changed)


def verify_signatures(
    *, signatures: SignatureQuerySet, method: Verification, by: AbstractBaseUser
) -> int:
    """Record how the signatures were verified, by whom and when."""
    if method == Verification.UNVERIFIED:
        raise ValueError("Choose how the signatures were verified.")
    return _update(
        signatures,
        by=by,
        reason=f"Verified: {method.label}",
        verification=method,
        verified_by=by,
        verified_at=timezone.now(),
    )


def set_status(
    *, signatures: SignatureQuerySet, status: SignatureStatus, by: AbstractBaseUser | None
) -> int:
    """Publish or hide; a rejection needs ``reject_signatures`` and its reason."""
    if status == SignatureStatus.REJECTED:
        raise ValueError("Rejecting needs a reason: use reject_signatures.")
    if status == SignatureStatus.PUBLISHED:
        # Only its signer can make a public-form signature countable, by confirming it.
        signatures = signatures.exclude(Signature.unconfirmed())
    return _update(
        signatures, by=by, reason=f"Status: {status.label}", status=status, rejection_reason=""
    )


def reject_signatures(
    *, signatures: SignatureQuerySet, reason: str, by: AbstractBaseUser | None
) -> int:
    """Take signatures off every public page and count, keeping the reason for the record."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the rejection.")
    return _update(
        signatures,
        by=by,
        reason="Rejected",
        status=SignatureStatus.REJECTED,
        rejection_reason=reason,
    )

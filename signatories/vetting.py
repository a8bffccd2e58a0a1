"""Staff vetting of signatures: verify, publish, hide, reject. Bulk updates, one query each."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from signatories.models import SignatureQuerySet, SignatureStatus, Verification


def verify_signatures(
    *, signatures: SignatureQuerySet, method: Verification, by: AbstractBaseUser
) -> int:
    """Record how the signatures were verified, by whom and when."""
    if method == Verification.UNVERIFIED:
        raise ValueError("Choose how the signatures were verified.")
    now = timezone.now()
    return signatures.update(verification=method, verified_by=by, verified_at=now, updated_at=now)


def set_status(*, signatures: SignatureQuerySet, status: SignatureStatus) -> int:
    """Publish or hide; a rejection needs ``reject_signatures`` and its reason."""
    if status == SignatureStatus.REJECTED:
        raise ValueError("Rejecting needs a reason: use reject_signatures.")
    return signatures.update(status=status, rejection_reason="", updated_at=timezone.now())


def reject_signatures(*, signatures: SignatureQuerySet, reason: str) -> int:
    """Take signatures off every public page and count, keeping the reason for the record."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the rejection.")
    return signatures.update(
        status=SignatureStatus.REJECTED, rejection_reason=reason, updated_at=timezone.now()
    )

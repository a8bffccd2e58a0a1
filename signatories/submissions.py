"""An address's submissions of the sign form on one letter, and the one that stands.

Every submission of the public form is its own unconfirmed signature until its signer
follows its emailed link. Several may wait for one address; once one is confirmed the
others are set aside (deleted without a trace). A signature that is confirmed, entered by
staff, or rejected *stands*: the database holds at most one per address and letter
(``one_standing_signature_per_email_per_letter``).

Used by the sign flow (``signing``: confirming one) and by the email task (``tasks``: a
submission from an address that already signed is reminded instead of sent a link).
"""

from signatories.models import Signatory, Signature, SignatureStatus


def stands(signature: Signature) -> bool:
    """Whether the signature is the address's signature on its letter: confirmed, entered
    by staff, or rejected; not withdrawn and not awaiting its signer's confirmation."""
    return signature.status != SignatureStatus.WITHDRAWN and not signature.is_awaiting_confirmation


def same_address(signature: Signature):
    """The other signatures of the letter from the signature's (normalised) address."""
    if not signature.email_normalised:
        return Signature.objects.none()
    return Signature.objects.filter(
        letter_id=signature.letter_id, email_normalised=signature.email_normalised
    ).exclude(pk=signature.pk)


def standing_signature(signature: Signature) -> Signature | None:
    """The signature that already stands for this one's address on its letter, if any."""
    others = same_address(signature).select_related("letter")
    return next((other for other in others if stands(other)), None)


def set_aside(submissions) -> None:
    """Delete open submissions that will never be confirmed, and their signatories (each
    made for its submission alone), leaving no copy in the change history: a submission
    is not a signature, and the privacy page says it is deleted."""
    signature_ids = [submission.pk for submission in submissions]
    signatory_ids = [submission.signatory_id for submission in submissions]
    Signature.objects.filter(pk__in=signature_ids).delete()
    Signatory.objects.filter(pk__in=signatory_ids, signatures__isnull=True).delete()
    Signature.history.filter(id__in=signature_ids).delete()
    Signatory.history.filter(id__in=signatory_ids).exclude(
        id__in=Signatory.objects.filter(pk__in=signatory_ids).values("pk")
    ).delete()

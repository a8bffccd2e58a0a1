"""Staff's edits of signatories and signatures, one at a time or a few: each a service that
does everything the edit implies, whoever calls it (the admin, a shell, a command).

What an edit implies beyond its own row:

- **List keys.** A signature's place in public lists is stored on it (``list_keys``): a
  signature's own save sets it, and a signatory's name or kind changes the key of every
  one of its signatures, which ``update_signatory`` stores.
- **Counts.** The letters whose signatures changed (a status, a signatory's kind, category
  or country, a signature added, moved or deleted) are recounted (``tallies``).
- **Delivered lists.** A row frozen on a letter's delivered list whose signature no longer
  shows the same (withdrawn, hidden, renamed, deleted) is redacted (``delivered``).

Vetting (``vetting``), withdrawal (``signing``), merges (``merging``) and imports
(``importers``) are services of their own, doing the same for theirs.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from signatories.delivered import redact_stale_rows
from signatories.list_keys import reconcile_list_keys
from signatories.models import Signatory, SignatoryQuerySet, Signature, SignatureQuerySet
from signatories.tallies import schedule_refresh


@transaction.atomic
def update_signatory(
    *, signatory: Signatory, by: AbstractBaseUser | None = None, **fields
) -> Signatory:
    """Change (or add) a signatory (``fields``, or what was already set on it, as the
    admin's form does) and all that follows from it: its signatures' list keys (its name and kind
    place them), its letters' counts (its kind, category and country are counted), and
    its rows on delivered lists that no longer show the same (a name changed)."""
    for name, value in fields.items():
        setattr(signatory, name, value)
    if by is not None:
        signatory._history_user = by
    signatory.save()
    signatures = Signature.objects.filter(signatory=signatory)
    reconcile_list_keys(signatures=signatures)
    schedule_refresh(set(signatures.values_list("letter_id", flat=True)))
    redact_stale_rows(signature_ids=list(signatures.values_list("pk", flat=True)))
    return signatory


@transaction.atomic
def save_signatures(
    *, signatures: Iterable[Signature], by: AbstractBaseUser | None = None
) -> list[Signature]:
    """Add or change signatures as staff set them (the admin's forms save them here): each
    saved with its list key, the letters each was and is now on recounted, and rows of
    theirs on delivered lists that no longer show the same redacted."""
    signatures = list(signatures)
    letters = set(
        Signature.objects.filter(pk__in=[s.pk for s in signatures if s.pk]).values_list(
            "letter_id", flat=True
        )
    )
    for signature in signatures:
        if by is not None:
            signature._history_user = by
        signature.save()
        letters.add(signature.letter_id)
    schedule_refresh(letters)
    redact_stale_rows(signature_ids=[signature.pk for signature in signatures])
    return signatures


def update_signature(
    *, signature: Signature, by: AbstractBaseUser | None = None, **fields
) -> Signature:
    """Change one signature (``fields``): ``save_signatures`` for it."""
    for name, value in fields.items():
        setattr(signature, name, value)
    return save_signatures(signatures=[signature], by=by)[0]


@transaction.atomic
def delete_signatures(*, signatures: SignatureQuerySet) -> int:
    """Delete signatures: their letters recounted, their delivered rows redacted (a deleted
    signature is found by its id alone, so it is passed now). The number deleted."""
    letters = set(signatures.values_list("letter_id", flat=True))
    ids = list(signatures.values_list("pk", flat=True))
    Signature.objects.filter(pk__in=ids).delete()
    schedule_refresh(letters)
    redact_stale_rows(signature_ids=ids)
    return len(ids)


@transaction.atomic
def delete_signatories(*, signatories: SignatoryQuerySet) -> int:
    """Delete signatories and, with them, their signatures (``delete_signatures``). The
    number of signatories deleted."""
    ids = list(signatories.values_list("pk", flat=True))
    delete_signatures(signatures=Signature.objects.filter(signatory__in=ids))
    Signatory.objects.filter(pk__in=ids).delete()
    return len(ids)

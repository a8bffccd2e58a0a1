"""Merging signatories that are one organisation or person entered twice ("Barnardo’s"
with a curly apostrophe and "Barnardo's").

``merge_signatories`` moves every signature of the others to the one kept, deletes the
others, and sends their public addresses on to the kept one's page, in one transaction
with the rows locked, so two merges of the same signatories can't interleave.

- **One signature per letter.** Where several of them signed the same letter, one
  signature stays and the others are deleted: the kept signatory's own, else the best of
  the others' (published before not, verified before not, with a statement before
  without, then the first made). Each dropped signature is reported (``MergeResult``,
  the admin's message, and the history of the dropped row and the kept signatory), with
  its status, verification and whether it carried a statement. Nothing is copied from a
  dropped signature into the one kept: a statement written under one display choice must
  not appear under another, and a verification was of that row, not of this one. Staff
  see the duplicates on the confirmation page before merging, and can choose which
  signatory to keep, or edit the signatures first.
- **Names.** Every moved signature now shows the kept signatory's name, in the display
  its signer chose; its sort key (``list_sort_key``) is recomputed for that name.
- **Addresses.** A merged-away signatory's slug redirects (301) to the kept one's page
  only if its own page was public at the time of the merge (``SignatoryRedirect``): an
  individual who never signed by full name has no page, and a slug made from their name
  (the import and the admin make slugs from the full name) was never shown anywhere, so a
  redirect from it would let anyone who guesses a name learn that this person signed,
  and who they are on the kept page. Redirects that led to a merged-away signatory now
  lead to the kept one: one hop, never a chain. The view follows a redirect only while
  the kept page is public.
- **History.** The kept signatory gets a history row whose reason names the merged ones
  ("Merged 2 signatories into this one…"); each moved signature, each dropped one and
  each deleted signatory gets its own row and reason, by the same user.
- **Counts.** The letters whose signatures moved or were dropped are recounted
  (``tallies.schedule_refresh``): the kind, category and country of a moved signature
  are now the kept signatory's.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from simple_history.utils import bulk_update_with_history

from signatories.delivered import redact_stale_rows
from signatories.models import (
    VERIFIED_STATES,
    Signatory,
    SignatoryRedirect,
    Signature,
    SignatureStatus,
    Verification,
    list_sort_key,
)
from signatories.tallies import schedule_refresh

MERGE_LIMIT = 20
BATCH_SIZE = 1000
# simple-history's change reason is a CharField(max_length=100).
REASON_LENGTH = 100


class MergeError(ValueError):
    """The merge was refused; nothing was written. The message is for staff."""


@dataclass(frozen=True)
class MergedSignatory:
    pk: int
    name: str
    slug: str


@dataclass(frozen=True)
class DroppedSignature:
    """A signature deleted because the signatory kept already had one on its letter."""

    signature_id: int
    letter_id: int
    letter_title: str
    signatory_name: str
    kept_signature_id: int
    status: str
    verification: str
    had_statement: bool

    def describe(self) -> str:
        details = [SignatureStatus(self.status).label.lower()]
        if self.verification != Verification.UNVERIFIED:
            details.append(Verification(self.verification).label.lower())
        if self.had_statement:
            details.append("with a statement")
        return f"“{self.letter_title}” (from “{self.signatory_name}”: {', '.join(details)})"


@dataclass(frozen=True)
class MergeResult:
    kept: Signatory
    merged: list[MergedSignatory]
    moved: int
    dropped: list[DroppedSignature] = field(default_factory=list)
    redirected_slugs: list[str] = field(default_factory=list)
    letter_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class DuplicateLetter:
    """A letter that two or more of the selected signatories signed."""

    letter_id: int
    letter_title: str
    signatures: list[Signature]


def duplicate_letters(signatories: list[Signatory]) -> list[DuplicateLetter]:
    """The letters on which more than one of ``signatories`` signed, with those signatures
    (for the confirmation page): one query."""
    by_letter: dict[int, list[Signature]] = {}
    signatures = (
        Signature.objects.filter(signatory__in=signatories)
        .select_related("letter", "signatory")
        .order_by("letter__title", "letter_id", "pk")
    )
    for signature in signatures:
        by_letter.setdefault(signature.letter_id, []).append(signature)
    return [
        DuplicateLetter(
            letter_id=letter_id,
            letter_title=signatures[0].letter.title,
            signatures=signatures,
        )
        for letter_id, signatures in by_letter.items()
        if len(signatures) > 1
    ]


def check_mergeable(signatories: list[Signatory]) -> None:
    """Raise ``MergeError`` unless these can be merged: two or more, at most
    ``MERGE_LIMIT``, all of one kind, none with a sign-form submission still open.

    An open submission (its signer may yet confirm it) has no change history until it is
    confirmed, and is deleted without a trace if it never is (``submissions.set_aside``):
    moving it, or deleting the signatory made for it, would write its signer's name and
    address into the history. Its link works for a few days; merge after that."""
    if len({signatory.pk for signatory in signatories}) < 2:
        raise MergeError("Select two or more signatories to merge.")
    if len(signatories) > MERGE_LIMIT:
        raise MergeError(f"Merge at most {MERGE_LIMIT} signatories at a time.")
    if len({signatory.kind for signatory in signatories}) > 1:
        raise MergeError(
            "Organisations and individuals can't be merged into one another: "
            "select signatories of one kind."
        )
    open_submission = (
        Signature.objects.filter(Signature.awaiting_confirmation(), signatory__in=signatories)
        .select_related("signatory")
        .order_by("pk")
        .first()
    )
    if open_submission is not None:
        raise MergeError(
            f"“{open_submission.signatory.name}” has a sign-form submission its signer has "
            "not confirmed yet: merge once it is confirmed, or once its link has expired "
            "and it is deleted."
        )


@transaction.atomic
def merge_signatories(
    *, keep: Signatory, others: list[Signatory], user: AbstractBaseUser | None
) -> MergeResult:
    """Move every signature of ``others`` to ``keep`` and delete ``others`` (see the
    module's docstring for duplicates, addresses, history and counts). Raises
    ``MergeError``, having written nothing, when they can't be merged."""
    other_ids = {other.pk for other in others}
    if keep.pk in other_ids:
        raise MergeError("The signatory to keep can't also be merged away.")
    # Lock every row in one order (by id), so that two merges touching the same
    # signatories wait for each other, and read them again: the caller's copies may be
    # stale, or deleted by a merge that has just finished.
    locked = {
        signatory.pk: signatory
        for signatory in Signatory.objects.select_for_update()
        .filter(pk__in={keep.pk, *other_ids})
        .order_by("pk")
    }
    if len(locked) != len(other_ids) + 1:
        raise MergeError(
            "Some of these signatories no longer exist (merged or deleted meanwhile). "
            "Nothing was changed."
        )
    keep = locked[keep.pk]
    others = [locked[pk] for pk in sorted(other_ids)]
    check_mergeable([keep, *others])
    public_others = set(
        Signatory.objects.with_public_page().filter(pk__in=other_ids).values_list("pk", flat=True)
    )

    signatures = list(
        Signature.objects.select_for_update(of=("self",))
        .select_related("letter")
        .filter(signatory_id__in=locked)
        .order_by("letter_id", "pk")
    )
    signature_ids = [signature.pk for signature in signatures]  # before any is deleted
    # Every letter that one of the others signed: its signatures moved or were dropped.
    letter_ids = frozenset(s.letter_id for s in signatures if s.signatory_id != keep.pk)
    now = timezone.now()
    survivors, dropped = _one_per_letter(signatures, keep=keep)
    dropped_report = []
    for signature, kept_signature in dropped:
        dropped_report.append(
            DroppedSignature(
                signature_id=signature.pk,
                letter_id=signature.letter_id,
                letter_title=signature.letter.title,
                signatory_name=locked[signature.signatory_id].name,
                kept_signature_id=kept_signature.pk,
                status=signature.status,
                verification=signature.verification,
                had_statement=bool(signature.statement.strip()),
            )
        )
        signature._history_user = user
        signature._change_reason = _reason(
            f"Duplicate dropped merging #{signature.signatory_id} into #{keep.pk}; "
            f"kept signature #{kept_signature.pk}"
        )
        signature.delete()

    moved = [s for s in survivors if s.signatory_id != keep.pk]
    for other in others:
        from_other = [s for s in moved if s.signatory_id == other.pk]
        if not from_other:
            continue
        for signature in from_other:
            signature.signatory = keep
            signature.list_rank, signature.sort_name = list_sort_key(
                kind=keep.kind, display=signature.display, name=keep.name
            )
            signature.updated_at = now
        bulk_update_with_history(
            from_other,
            Signature,
            fields=["signatory", "list_rank", "sort_name", "updated_at"],
            batch_size=BATCH_SIZE,
            default_user=user,
            default_change_reason=_reason(f"Moved from #{other.pk} {other.name} (merged)"),
            default_date=now,
        )

    # Redirects to the merged-away signatories now lead to the kept one, in one hop; one
    # whose old address is the kept signatory's own would lead to itself.
    SignatoryRedirect.objects.filter(signatory__in=others).update(signatory=keep)
    SignatoryRedirect.objects.filter(old_slug=keep.slug).delete()
    redirected = []
    for other in others:
        if other.pk in public_others and other.slug != keep.slug:
            SignatoryRedirect.objects.update_or_create(
                old_slug=other.slug, defaults={"signatory": keep}
            )
            redirected.append(other.slug)

    merged = [MergedSignatory(pk=o.pk, name=o.name, slug=o.slug) for o in others]
    for other in others:
        other._history_user = user
        other._change_reason = _reason(f"Merged into #{keep.pk} {keep.name}")
        other.delete()

    keep._history_user = user
    keep._change_reason = _reason(_kept_reason(merged, dropped=len(dropped)))
    keep.save()  # the merge in its history; its own signatures' keys are unchanged

    schedule_refresh(letter_ids)
    # A signature dropped, or now under the kept signatory's name, no longer shows the row
    # a delivered list froze: that row shows its hash alone.
    redact_stale_rows(signature_ids=signature_ids)
    return MergeResult(
        kept=keep,
        merged=merged,
        moved=len(moved),
        dropped=dropped_report,
        redirected_slugs=redirected,
        letter_ids=letter_ids,
    )


def _one_per_letter(
    signatures: list[Signature], *, keep: Signatory
) -> tuple[list[Signature], list[tuple[Signature, Signature]]]:
    """The signature that stays on each letter, and each one dropped with the one that
    stays in its place: the kept signatory's own, else the best of the others'."""
    by_letter: dict[int, list[Signature]] = {}
    for signature in signatures:
        by_letter.setdefault(signature.letter_id, []).append(signature)
    survivors, dropped = [], []
    for on_letter in by_letter.values():
        best = min(on_letter, key=lambda s: _preference(s, keep=keep))
        survivors.append(best)
        dropped += [(s, best) for s in on_letter if s is not best]
    return survivors, dropped


def _preference(signature: Signature, *, keep: Signatory) -> tuple:
    """Lower sorts first: the kept signatory's, published, verified, with a statement,
    the first made."""
    return (
        signature.signatory_id != keep.pk,
        signature.status != SignatureStatus.PUBLISHED,
        signature.verification not in VERIFIED_STATES,
        not signature.statement.strip(),
        signature.pk,
    )


def _kept_reason(merged: list[MergedSignatory], *, dropped: int) -> str:
    count = len(merged)
    reason = f"Merged {count} signator{'y' if count == 1 else 'ies'} into this one"
    if dropped:
        reason += f" ({dropped} duplicate signature{'' if dropped == 1 else 's'} dropped)"
    return reason + ": " + ", ".join(f"#{m.pk} {m.name}" for m in merged)


def _reason(text: str) -> str:
    return Truncator(text).chars(REASON_LENGTH)

"""Retention: erase signers' emails and IP addresses once a letter has been closed long
enough (``RETENTION_DAYS``, 180 by default), from the records and from their history.

What is erased, for every signature on a letter closed at least that many days ago:
the email the signer gave, its normalised form, the IP address and the language their
emails were written in (it served only to write to them, and hints at where they are
from); and the email of each individual signatory all of whose signatures are on such
letters. Organisations keep
their contact address: it belongs to the organisation, and staff reuse it across letters.
Names, displays, statements and counts are untouched, so every public page stays the same.

It also deletes the record of sign-form stamps older than ``SIGN_FORM_MAX_AGE``
(``UsedFormStamp``): such stamps are refused anyway, so their record has no further use;
and submissions of the sign form that nobody confirmed while their link worked (a day
past ``SIGN_CONFIRMATION_MAX_AGE``, which covers emails retried late), with the signatory
made for each: they can never be published, and they may hold the address of someone who
never signed.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from letters.models import Letter
from signatories.models import (
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    UsedFormStamp,
)
from signatories.submissions import set_aside


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime.date
    letters: int
    signatures: int
    signatories: int
    history_rows: int
    form_stamps: int = 0
    expired_submissions: int = 0


def letters_past_retention(*, days: int, today: datetime.date | None = None):
    cutoff = (today or timezone.localdate()) - datetime.timedelta(days=days)
    return cutoff, Letter.objects.filter(status=Letter.Status.CLOSED, closed_on__lte=cutoff)


def _holding_private_data(queryset):
    return queryset.filter(
        ~Q(email="") | ~Q(email_normalised="") | Q(ip_address__isnull=False) | ~Q(language="")
    )


@transaction.atomic
def anonymise_closed(
    *, days: int, today: datetime.date | None = None, dry_run: bool = False
) -> RetentionReport:
    """Erase what retention requires; with ``dry_run``, count it and change nothing."""
    if days < 0:
        raise ValueError("days must be zero or more.")
    cutoff, letters = letters_past_retention(days=days, today=today)
    letter_ids = list(letters.values_list("pk", flat=True))

    signatures = _holding_private_data(Signature.objects.filter(letter_id__in=letter_ids))
    signature_history = _holding_private_data(Signature.history.filter(letter_id__in=letter_ids))
    # Individuals who signed nothing outside these letters: their email has no other use.
    signatories = (
        Signatory.objects.filter(
            kind=SignatoryKind.INDIVIDUAL, signatures__letter_id__in=letter_ids
        )
        .exclude(signatures__in=Signature.objects.exclude(letter_id__in=letter_ids))
        .distinct()
    )
    signatory_ids = list(signatories.values_list("pk", flat=True))
    signatory_emails = Signatory.objects.filter(pk__in=signatory_ids).exclude(email="")
    signatory_history = Signatory.history.filter(id__in=signatory_ids).exclude(email="")

    stamps = UsedFormStamp.objects.filter(
        shown_at__lt=timezone.now() - datetime.timedelta(seconds=settings.SIGN_FORM_MAX_AGE)
    )

    link_lifetime = datetime.timedelta(seconds=settings.SIGN_CONFIRMATION_MAX_AGE, days=1)
    # Held or hidden by staff, a submission waits for them to decide.
    expired = Signature.objects.filter(
        Signature.awaiting_confirmation(),
        status=SignatureStatus.UNCONFIRMED,
        created_at__lt=timezone.now() - link_lifetime,
    )

    if dry_run:
        return RetentionReport(
            cutoff=cutoff,
            letters=len(letter_ids),
            signatures=signatures.count(),
            signatories=signatory_emails.count(),
            history_rows=signature_history.count() + signatory_history.count(),
            form_stamps=stamps.count(),
            expired_submissions=expired.count(),
        )
    expired = list(expired.only("pk", "signatory_id"))
    set_aside(expired)
    erased = {"email": "", "email_normalised": "", "ip_address": None, "language": ""}
    return RetentionReport(
        cutoff=cutoff,
        letters=len(letter_ids),
        # A mail server's error may quote the address: it goes with it (not in the history).
        signatures=signatures.update(**erased, email_error="", updated_at=timezone.now()),
        signatories=signatory_emails.update(email="", updated_at=timezone.now()),
        history_rows=signature_history.update(**erased) + signatory_history.update(email=""),
        form_stamps=stamps.delete()[0],
        expired_submissions=len(expired),
    )

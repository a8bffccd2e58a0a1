"""What needs doing, for the admin home: the moderation queue, submissions awaiting their
signer's confirmation, recent imports, and recipients who have not answered.

Each block is a fixed number of queries whatever the data size, and only for staff who
may view that model. Nothing here names a signer or shows an email or an IP address:
counts, letters, recipients and file names only.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, DateField, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from letters.models import Addressee, EventKind, Letter, ResponseEvent, ResponseStatus
from signatories.models import Signature, SignatureImport, SignatureStatus

RECENT_IMPORTS_SHOWN = 5
RECENT_IMPORTS_DAYS = 30
SILENT_RECIPIENTS_SHOWN = 10


@dataclass
class SilentRecipient:
    addressee: Addressee
    delivered_on: datetime.date | None
    days: int | None
    url: str


@dataclass
class NeedsDoing:
    pending: int | None = None
    pending_url: str = ""
    unconfirmed: int | None = None
    unconfirmed_url: str = ""
    recent_imports: list[SignatureImport] | None = None
    recent_imports_count: int = 0
    imports_url: str = ""
    silent: list[SilentRecipient] | None = None
    silent_count: int = 0
    silent_url: str = ""
    shown: list[str] = field(default_factory=list)


def _changelist(name: str, **params) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def needs_doing(user) -> NeedsDoing:
    """The admin home's blocks this user may see, each with its count and links."""
    result = NeedsDoing()
    if user.has_perm("signatories.view_signature"):
        _signatures(result)
    if user.has_perm("signatories.view_signatureimport"):
        _imports(result)
    if user.has_perm("letters.view_addressee"):
        _silent_recipients(result)
    return result


def _signatures(result: NeedsDoing) -> None:
    """Held for review, and public-form submissions whose confirmation link still works
    (older ones can no longer be confirmed: ``anonymise_closed`` deletes them)."""
    since = timezone.now() - datetime.timedelta(seconds=settings.SIGN_CONFIRMATION_MAX_AGE)
    awaiting_signer = Signature.awaiting_confirmation() & Q(
        status=SignatureStatus.UNCONFIRMED, created_at__gte=since
    )
    counts = Signature.objects.filter(
        status__in=[SignatureStatus.PENDING, SignatureStatus.UNCONFIRMED]
    ).aggregate(
        pending=Count("pk", filter=Q(status=SignatureStatus.PENDING)),
        unconfirmed=Count("pk", filter=awaiting_signer),
    )
    result.pending = counts["pending"]
    result.pending_url = _changelist("signatories_signature", status__exact="pending")
    result.unconfirmed = counts["unconfirmed"]
    result.unconfirmed_url = _changelist(
        "signatories_signature",
        status__exact="unconfirmed",
        source__exact="public_form",
        created_at__gte=since.isoformat(timespec="seconds"),
    )
    result.shown += ["pending", "unconfirmed"]


def _imports(result: NeedsDoing) -> None:
    since = timezone.now() - datetime.timedelta(days=RECENT_IMPORTS_DAYS)
    result.recent_imports = list(
        SignatureImport.objects.select_related("letter", "user")
        .defer("content")
        .order_by("-created_at", "-pk")[:RECENT_IMPORTS_SHOWN]
    )
    result.recent_imports_count = SignatureImport.objects.filter(created_at__gte=since).count()
    result.imports_url = _changelist("signatories_signatureimport")
    result.shown.append("imports")


def _silent_recipients(result: NeedsDoing) -> None:
    """Addressees of open and closed letters still awaiting an answer, longest silent
    first; delivered on the latest "delivered" event's date, else the letter's."""
    delivered_event = (
        ResponseEvent.objects.filter(addressee=OuterRef("pk"), kind=EventKind.DELIVERED)
        .order_by()
        .values("addressee")
        .annotate(latest=Max("date"))
        .values("latest")
    )
    silent = Addressee.objects.filter(
        response_status=ResponseStatus.AWAITING,
        letter__status__in=[Letter.Status.OPEN, Letter.Status.CLOSED],
    )
    result.silent_count = silent.count()
    rows = (
        silent.select_related("letter", "recipient")
        .annotate(
            delivered=Coalesce(
                Subquery(delivered_event, output_field=DateField()), "letter__delivered_on"
            )
        )
        .order_by(F("delivered").asc(nulls_last=True), "letter__title", "recipient__name", "pk")[
            :SILENT_RECIPIENTS_SHOWN
        ]
    )
    today = timezone.localdate()
    result.silent = [
        SilentRecipient(
            addressee=row,
            delivered_on=row.delivered,
            days=(today - row.delivered).days if row.delivered else None,
            url=reverse("admin:letters_addressee_change", args=[row.pk]),
        )
        for row in rows
    ]
    result.silent_url = _changelist(
        "letters_addressee", response_status__exact="awaiting", letter__status__in="open,closed"
    )
    result.shown.append("silent")

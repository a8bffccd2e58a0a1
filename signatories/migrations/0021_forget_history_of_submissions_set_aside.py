"""Forget the change history of sign-form submissions that were deleted unconfirmed.

Until now a submission's history started when the form was sent, and deleting it (set
aside when another submission from the address was confirmed, or expired unconfirmed)
wrote one more row: the signer's name, address and network address lived on in the
history although the privacy page says the submission is deleted. The history now starts
at confirmation (``signing.confirm_signature``) and ``signing.set_aside`` leaves no rows;
this removes what earlier deletions left. The history of signatures that were confirmed,
or that came from anywhere but the public form, is kept whole.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q


def forget(apps, schema_editor):
    Signature = apps.get_model("signatories", "Signature")
    Signatory = apps.get_model("signatories", "Signatory")
    HistoricalSignature = apps.get_model("signatories", "HistoricalSignature")
    HistoricalSignatory = apps.get_model("signatories", "HistoricalSignatory")

    rows = HistoricalSignature.objects.filter(~Exists(Signature.objects.filter(pk=OuterRef("id"))))
    kept = rows.filter(Q(confirmed_at__isnull=False) | ~Q(source="public_form"))
    gone = rows.exclude(id__in=kept.values("id"))
    signatory_ids = set(gone.values_list("signatory_id", flat=True))
    gone.delete()
    HistoricalSignatory.objects.filter(id__in=signatory_ids).exclude(
        id__in=Signatory.objects.values("pk")
    ).exclude(id__in=HistoricalSignature.objects.values("signatory_id")).delete()


class Migration(migrations.Migration):
    dependencies = [("signatories", "0020_grant_signer_personal_data_to_moderators")]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop, elidable=True)]

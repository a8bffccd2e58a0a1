"""Migration 0010 was edited after it had been applied: its first version allowed a
published, unconfirmed signature from the public form once its source was changed; the
edited one refuses it, as the model does. A database migrated with the first version kept
the first constraint. This puts the model's constraint in place on every database, whichever
0010 it ran (on one that ran the edited 0010 it drops and re-adds the same constraint).

A row the first constraint let through — published, never confirmed, with a consent record,
its source changed by staff — is put back to pending first: it never had its signer's
confirmation, and the public list is no place for it."""

from django.db import migrations, models


def unpublish_unconfirmed_form_signatures(apps, schema_editor):
    Signature = apps.get_model("signatories", "Signature")
    Signature.objects.filter(
        status="published", confirmed_at__isnull=True, consented_at__isnull=False
    ).update(status="pending")


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0036_signature_hidden_name_unranked"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="signature", name="signature_public_form_published_confirmed"
        ),
        migrations.RunPython(unpublish_unconfirmed_form_signatures, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "published"), _negated=True),
                    ("confirmed_at__isnull", False),
                    models.Q(
                        ("consented_at__isnull", True),
                        models.Q(("source", "public_form"), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="signature_public_form_published_confirmed",
            ),
        ),
    ]

"""The public name search reads ``Signature.sort_name``: the database refuses one that
holds a name shown by initials or not at all (0028 emptied the few organisations' keys
that did)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0033_fold_sort_names"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("sort_name", ""), ("display__in", ("full", "first_name")), _connector="OR"
                ),
                name="signature_sort_name_only_when_named",
            ),
        ),
    ]

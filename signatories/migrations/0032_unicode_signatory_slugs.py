"""Signatory slugs may hold letters of any script, with their marks (``signatories.slugs``):
张伟 gets ``张伟`` and हिन्दी ``हिन्दी``, not ``signatory``. A CharField with its own
validator rather than a SlugField, whose unicode validation refuses marks. The same
varchar column and indexes: nothing changes in the database."""

from django.db import migrations, models

import signatories.slugs

HELP_TEXT = (
    "Used in the signatory's web address, e.g. “zoe-zizek” or “张伟”. Only people shown by "
    "full name get a public page."
)


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0031_import_choices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalsignatory",
            name="slug",
            field=models.CharField(
                db_index=True,
                help_text=HELP_TEXT,
                max_length=220,
                validators=[signatories.slugs.validate_slug],
            ),
        ),
        migrations.AlterField(
            model_name="signatory",
            name="slug",
            field=models.CharField(
                help_text=HELP_TEXT,
                max_length=220,
                unique=True,
                validators=[signatories.slugs.validate_slug],
            ),
        ),
    ]

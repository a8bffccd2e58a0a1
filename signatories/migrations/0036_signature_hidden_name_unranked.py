"""A signature whose name is hidden (initials, anonymous) has no place of its own in a
list: the database refuses a key that would give it one, whatever wrote the row (an
``update()``, a bulk insert), as ``list_sort_key`` computes it: an empty sort name (0034
held that much) and the unnamed rank, or the organisations' (the row does not know its
signatory's kind). This replaces 0034's constraint, which it includes.

A row ranked as a named person while hidden (none should exist: ``save()`` kept the keys)
is ranked unnamed first, in one statement; its letter's list marks are then stale until
``reconcile_counts`` runs, which finds and fixes them."""

from django.db import migrations, models

NAMED_DISPLAYS = ("full", "first_name")
ORGANISATION, NAMED, UNNAMED = 0, 1, 2


def rank_hidden_names_unnamed(apps, schema_editor):
    Signature = apps.get_model("signatories", "Signature")
    Signature.objects.exclude(display__in=NAMED_DISPLAYS).filter(list_rank=NAMED).update(
        list_rank=UNNAMED, sort_name=""
    )


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0035_delivered_lists"),
    ]

    operations = [
        migrations.RunPython(rank_hidden_names_unnamed, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(
            model_name="signature",
            name="signature_sort_name_only_when_named",
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("display__in", NAMED_DISPLAYS),
                    models.Q(("list_rank__in", [UNNAMED, ORGANISATION]), ("sort_name", "")),
                    _connector="OR",
                ),
                name="signature_hidden_name_unranked",
            ),
        ),
    ]

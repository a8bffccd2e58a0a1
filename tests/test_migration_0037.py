"""Migration 0037: a database that ran the first version of 0010 ends with the model's
constraint, and the one kind of row that version let through is taken off the public list."""

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from signatories.models import Signature
from tests.helpers import migrated_back_to

BEFORE = [("signatories", "0036_signature_hidden_name_unranked")]
NAME = "signature_public_form_published_confirmed"
# 0010 as it was first applied: only a signature whose source is still "public_form" had to
# be confirmed before it was published.
FIRST_VERSION = models.CheckConstraint(
    condition=~models.Q(source="public_form", status="published")
    | models.Q(confirmed_at__isnull=False),
    name=NAME,
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_0037_puts_the_model_constraint_on_a_database_that_ran_the_first_0010():
    with migrated_back_to(BEFORE) as (old, forward):
        OldSignature = old.get_model("signatories", "Signature")
        meta = OldSignature._meta
        current = next(c for c in meta.constraints if c.name == NAME)
        # SQLite rebuilds the table from the model's constraints: give it the first version.
        meta.constraints = [c for c in meta.constraints if c.name != NAME] + [FIRST_VERSION]
        with connection.schema_editor() as editor:
            editor.remove_constraint(OldSignature, current)
            editor.add_constraint(OldSignature, FIRST_VERSION)
        letter = old.get_model("letters", "Letter").objects.create(
            title="Old letter", slug="old-letter", summary="s", body="b", status="open"
        )
        Signatory = old.get_model("signatories", "Signatory")
        people = [
            Signatory.objects.create(
                name=name,
                slug=name.lower(),
                kind="individual",
                category="survivor",
                name_key=name.lower(),
            )
            for name in ("Moved", "Confirmed", "Imported")
        ]
        now = timezone.now()
        # From the form, never confirmed, its source changed by staff, then published: the
        # first version let it through.
        moved = OldSignature.objects.create(
            letter=letter,
            signatory=people[0],
            display="full",
            status="published",
            source="import",
            consent_text="I agree",
            consented_at=now,
        )
        confirmed = OldSignature.objects.create(
            letter=letter,
            signatory=people[1],
            display="full",
            status="published",
            source="public_form",
            consent_text="I agree",
            consented_at=now,
            confirmed_at=now,
        )
        imported = OldSignature.objects.create(
            letter=letter,
            signatory=people[2],
            display="full",
            status="published",
            source="import",
        )

        forward()

        statuses = dict(Signature.objects.values_list("pk", "status"))
        assert statuses == {
            moved.pk: "pending",
            confirmed.pk: "published",
            imported.pk: "published",
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            Signature.objects.filter(pk=moved.pk).update(status="published")

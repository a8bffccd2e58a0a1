"""Names starting with "The " sort without it (``list_sort_key``). Recomputes the sort
key of those signatures only, never the whole table, and the list marks of the letters
they are on, so deep page numbers stay exact."""

from django.db import migrations
from django.db.models import F, Window
from django.db.models.functions import Mod, RowNumber

ORGANISATION, NAMED = 0, 1
MARK_EVERY = 500
LIST_ORDER = ("list_rank", "sort_name", "pk")


def _sort_name(shown: str) -> str:
    # Frozen copy of signatories.models.sort_name_of as of this migration.
    lowered = shown.lower()
    if lowered.startswith("the ") and lowered[4:].strip():
        lowered = lowered[4:].lstrip()
    return lowered[:200]


def resort_names_with_the(apps, schema_editor):
    Signature = apps.get_model("signatories", "Signature")
    ListMark = apps.get_model("signatories", "ListMark")
    affected = (
        Signature.objects.filter(
            signatory__name__istartswith="the ", list_rank__in=(ORGANISATION, NAMED)
        )
        .select_related("signatory")
        .only("pk", "letter_id", "list_rank", "display", "sort_name", "signatory__name")
    )
    changed, letters = [], set()
    for signature in affected.iterator(chunk_size=1000):
        name = signature.signatory.name
        if signature.list_rank == NAMED and signature.display != "full":
            name = name.split(" ", 1)[0]  # first name only: "The" alone stays as it is
        new = _sort_name(name)
        if new != signature.sort_name:
            signature.sort_name = new
            changed.append(signature)
            letters.add(signature.letter_id)
    Signature.objects.bulk_update(changed, ["sort_name"], batch_size=1000)
    for letter_id in letters:
        if not ListMark.objects.filter(letter_id=letter_id).exists():
            continue
        rows = (
            Signature.objects.filter(letter_id=letter_id, status="published")
            .order_by()
            .annotate(position=Window(RowNumber(), order_by=[F(f).asc() for f in LIST_ORDER]))
            .annotate(step=Mod("position", MARK_EVERY))
            .filter(step=0)
            .values_list("position", "list_rank", "sort_name", "pk")
        )
        marks = [
            ListMark(letter_id=letter_id, position=p, list_rank=r, sort_name=n, signature_id=pk)
            for p, r, n, pk in rows
        ]
        ListMark.objects.filter(letter_id=letter_id).delete()
        ListMark.objects.bulk_create(marks, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("signatories", "0022_individual_category_prefer_not_to_say")]

    operations = [migrations.RunPython(resort_names_with_the, migrations.RunPython.noop)]

"""Sort names are folded: accents and other combining marks taken off, case folded,
typographic apostrophes made plain (``signatories.models.sort_name_of``), so "Zoë" sorts
beside "Zoe" and the public name search, which reads them, finds her by "zoe". And a
name shown by initials or not at all leaves the key empty whatever the signatory's kind
(an organisation's signature once kept its name there whatever its display).

Recomputes every signature's key from its signatory's name and its display, a batch of
rows at a time in order of id, writing only the keys that change, then the list marks of
the letters whose order changed, so deep page numbers stay exact. Each batch commits on
its own (the migration is not atomic), so a million signatures never sit in one
transaction; a run cut short can simply run again.
"""

import unicodedata

from django.db import migrations, transaction
from django.db.models import F, Window
from django.db.models.functions import Mod, RowNumber

ORGANISATION, NAMED, UNNAMED = 0, 1, 2
NAMED_DISPLAYS = ("full", "first_name")
MARK_EVERY = 500
LIST_ORDER = ("list_rank", "sort_name", "pk")
BATCH = 2000

# Frozen copies of signatories.models (fold_name, sort_name_of, public_name_of,
# list_sort_key) as of this migration.
PUNCTUATION_FOLDS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bb\u02bc\u00b4\u0060", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(PUNCTUATION_FOLDS)).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _sort_name(shown: str) -> str:
    folded = _fold(shown)
    if folded.startswith("the ") and folded[4:].strip():
        folded = folded[4:].lstrip()
    return folded[:200]


def _sort_key(kind: str, display: str, name: str) -> tuple[int, str]:
    named = display in NAMED_DISPLAYS
    shown = name if display == "full" else name.strip().split(" ", 1)[0]
    sort_name = _sort_name(shown) if named else ""
    if kind == "organisation":
        return ORGANISATION, sort_name
    return (NAMED, sort_name) if named else (UNNAMED, "")


def fold_sort_names(apps, schema_editor):
    Signature = apps.get_model("signatories", "Signature")
    fields = ("pk", "letter_id", "display", "list_rank", "sort_name")
    fields += ("signatory__kind", "signatory__name")
    letters, last = set(), 0
    while True:
        rows = list(
            Signature.objects.filter(pk__gt=last).order_by("pk").values_list(*fields)[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        changed = []
        for pk, letter_id, display, rank, sort_name, kind, name in rows:
            key = _sort_key(kind, display, name)
            if key != (rank, sort_name):
                changed.append(Signature(pk=pk, list_rank=key[0], sort_name=key[1]))
                letters.add(letter_id)
        if changed:
            _write(Signature, changed, schema_editor.connection)
    for letter_id in sorted(letters):
        _mark_again(apps, letter_id)


def _write(Signature, changed: list, connection) -> None:
    """The changed keys, in one transaction. On PostgreSQL one UPDATE … FROM (VALUES …):
    bulk_update's CASE over every id took twelve minutes for 720,000 rows."""
    with transaction.atomic(using=connection.alias):
        if connection.vendor != "postgresql":
            Signature.objects.bulk_update(changed, ["list_rank", "sort_name"], batch_size=500)
            return
        table = connection.ops.quote_name(Signature._meta.db_table)
        rows = ", ".join(["(%s, %s, %s)"] * len(changed))
        params = [value for s in changed for value in (s.pk, s.list_rank, s.sort_name)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS s SET list_rank = v.rank::smallint, sort_name = v.name "  # noqa: S608 - the table name is ours, the values are parameters
                f"FROM (VALUES {rows}) AS v(id, rank, name) WHERE s.id = v.id::bigint",
                params,
            )


def _mark_again(apps, letter_id: int) -> None:
    """The letter's list marks (``signatories.tallies``) recomputed in the new order."""
    Signature = apps.get_model("signatories", "Signature")
    ListMark = apps.get_model("signatories", "ListMark")
    if not ListMark.objects.filter(letter_id=letter_id).exists():
        return
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
    with transaction.atomic():
        ListMark.objects.filter(letter_id=letter_id).delete()
        ListMark.objects.bulk_create(marks, batch_size=1000)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("signatories", "0032_unicode_signatory_slugs")]

    operations = [migrations.RunPython(fold_sort_names, migrations.RunPython.noop)]

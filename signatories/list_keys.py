"""A signature's place in public lists: its list key, ``(list_rank, sort_name)``.

One function computes it, ``signatories.models.list_sort_key``, from the signatory's kind
and name and the signature's display; it is stored on each signature so that an index
serves the list's order, its pages and the public name search. Every writer stores what
that function gives: ``Signature.save`` for its own row, ``editing.update_signatory`` for
every signature of a signatory it changes, and each bulk writer (the importer, the
generator, a merge, the benchmarks, the tests' factories) calling it row by row.

A key left stale by a writer that went round them (an ``update()`` of a name or a display)
could put a hidden name where its place in the list gives it away: the database refuses
that one (the constraint ``signature_hidden_name_unranked``), and ``reconcile_counts``
finds any other here and repairs it (``reconcile_list_keys``).
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from signatories.models import Signature, SignatureQuerySet, list_sort_key

BATCH_SIZE = 2000


@dataclass(frozen=True)
class StaleKey:
    signature_id: int
    letter_id: int
    stored: tuple[int, str]
    computed: tuple[int, str]


def stale_list_keys(
    *, signatures: SignatureQuerySet | None = None, batch_size: int = BATCH_SIZE
) -> Iterator[StaleKey]:
    """Each signature (of ``signatures``; all by default) whose stored key is not what
    ``list_sort_key`` computes now. Read in batches in order of id, a query each, so a
    million signatures take constant memory."""
    signatures = Signature.objects.all() if signatures is None else signatures
    fields = ("pk", "letter_id", "display", "list_rank", "sort_name")
    last = 0
    while batch := list(
        signatures.filter(pk__gt=last)
        .order_by("pk")
        .values_list(*fields, "signatory__kind", "signatory__name")[:batch_size]
    ):
        for pk, letter_id, display, rank, sort_name, kind, name in batch:
            computed = list_sort_key(kind=kind, display=display, name=name)
            if (rank, sort_name) != computed:
                yield StaleKey(pk, letter_id, (rank, sort_name), computed)
        last = batch[-1][0]


def reconcile_list_keys(
    *,
    signatures: SignatureQuerySet | None = None,
    letter_ids=None,
    fix: bool = True,
    batch_size: int = BATCH_SIZE,
) -> dict[int, int]:
    """Find the signatures (these, or on these letters; all by default) whose key is stale,
    and with ``fix`` store the computed one, a batch at a time: ``{letter id: signatures
    found}``.
    Not an edit: no history row, and ``updated_at`` stays as it was (nothing the public
    sees changed but the order). The letters' marks for page numbers (``tallies``) are then
    stale in turn: ``tallies.reconcile`` brings them up to date."""
    signatures = Signature.objects.all() if signatures is None else signatures
    if letter_ids is not None:
        signatures = signatures.filter(letter_id__in=letter_ids)
    found: Counter[int] = Counter()
    pending: list[Signature] = []
    for stale in stale_list_keys(signatures=signatures, batch_size=batch_size):
        found[stale.letter_id] += 1
        if not fix:
            continue
        rank, sort_name = stale.computed
        pending.append(Signature(pk=stale.signature_id, list_rank=rank, sort_name=sort_name))
        if len(pending) >= batch_size:
            Signature.objects.bulk_update(pending, ["list_rank", "sort_name"])
            pending = []
    if pending:
        Signature.objects.bulk_update(pending, ["list_rank", "sort_name"])
    return dict(found)

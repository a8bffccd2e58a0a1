"""Letters' signature counts, maintained off the hot path.

Counting a million signatures on every page view is slow, and a counter bumped by every
signature is one row that every signer writes at once: the UK petitions site fell over on
exactly that in 2019. Instead each letter has a ``LetterTally``, recomputed from the
signatures by one aggregate query in the task worker, a few seconds after they change:

- every path that changes published signatures calls ``schedule_refresh``;
- with the database task backend, the first change in a window queues a refresh to run
  ``COUNTS_REFRESH_SECONDS`` later, and the changes that follow within that window ride
  on it (the cache remembers that one is queued): counts lag by about that long, never
  more than a minute with a running worker, and a burst of signatures costs one count;
- with the immediate backend (development, tests) the refresh runs at once;
- ``reconcile_counts`` compares every tally with the signatures and repairs any drift.

The cache and the queue may fail (Redis down, the queue's table locked): a change of
signatures never fails with them (``resilience``). Without the cache every change queues
its own refresh; without the queue the counts wait for ``reconcile_counts``.
"""

import functools
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import Coalesce, Mod, RowNumber
from django.tasks import default_task_backend, task
from django.utils import timezone
from django_countries.fields import Country

from letters.models import Letter
from signatories import resilience
from signatories.counts import CountRow, count_rows, stored_rows, sums
from signatories.delivered import redact_stale_rows
from signatories.models import (
    LIST_ORDER,
    LetterTally,
    ListMark,
    Signature,
    SignatureStatus,
)

FIGURES = ("total", "organisations", "individuals", "countries", "breakdown")


def count_breakdown(letter_id: int) -> list[CountRow]:
    """The letter's published signatures as ``counts.CountRow``s: one aggregate query."""
    return count_rows(
        Signature.objects.filter(letter_id=letter_id, status=SignatureStatus.PUBLISHED)
    )


def figures_of(rows: list[CountRow]) -> dict:
    """A tally's fields for these rows (``breakdown`` is the rows themselves, which store
    as the JSON lists ``counts`` documents)."""
    summed = sums(rows)
    return {
        "total": summed.total,
        "organisations": summed.organisations,
        "individuals": summed.individuals,
        "countries": summed.countries,
        "breakdown": [list(row) for row in rows],
    }


def list_marks(letter_id: int) -> list[ListMark]:
    """A mark every ``ListMark.MARK_EVERY`` rows of the letter's public list: one pass
    over the list's index, numbering its rows."""
    rows = (
        Signature.objects.filter(letter_id=letter_id, status=SignatureStatus.PUBLISHED)
        .order_by()
        .annotate(position=Window(RowNumber(), order_by=[F(field).asc() for field in LIST_ORDER]))
        .annotate(step=Mod("position", ListMark.MARK_EVERY))
        .filter(step=0)
        .values_list("position", "list_rank", "sort_name", "pk")
    )
    return [
        ListMark(
            letter_id=letter_id,
            position=position,
            list_rank=rank,
            sort_name=name,
            signature_id=pk,
        )
        for position, rank, name, pk in rows
    ]


def refresh_tally(letter_id: int) -> LetterTally:
    """Recount the letter's published signatures into its tally, and mark its list for
    deep page numbers: the count, the marks, an upsert, a delete and an insert; and first
    look for frozen rows to redact (one query, and the redactions)."""
    # The safety net under every path that changes signatures: a frozen row whose
    # signature changed since is redacted here if that path did not.
    redact_stale_rows(letter_ids=[letter_id])
    tally = LetterTally(
        letter_id=letter_id, **figures_of(count_breakdown(letter_id)), refreshed_at=timezone.now()
    )
    upsert = functools.partial(
        LetterTally.objects.bulk_create,
        [tally],
        update_conflicts=True,
        unique_fields=["letter"],
        update_fields=[*FIGURES, "refreshed_at"],
    )
    if tally.total < ListMark.MARK_EVERY:  # too short to need a mark
        upsert()
        ListMark.objects.filter(letter_id=letter_id).delete()
        return tally
    marks = list_marks(letter_id)
    with transaction.atomic():  # readers see the old marks or the new, never none
        upsert()
        ListMark.objects.filter(letter_id=letter_id).delete()
        ListMark.objects.bulk_create(marks, batch_size=1000)
    return tally


@task()
def refresh_letter_tally(letter_id: int) -> int:
    resilience.cache_or(None, cache.delete, _queued_key(letter_id))
    return refresh_tally(letter_id).total


def _queued_key(letter_id: int) -> str:
    return f"tally-refresh-queued:{letter_id}"


def schedule_refresh(letter_ids) -> None:
    """The published signatures of these letters changed: bring their counts up to date
    soon (database backend) or now (immediate backend)."""
    backend = default_task_backend
    delay = settings.COUNTS_REFRESH_SECONDS
    for letter_id in sorted(set(letter_ids)):
        if not backend.supports_defer or delay <= 0:
            refresh_tally(letter_id)
        elif resilience.cache_or(
            True, cache.add, _queued_key(letter_id), 1, timeout=delay + 60
        ) and not resilience.enqueue(refresh_letter_tally, letter_id, delay=delay):
            # Let the next change try again rather than ride on a refresh never queued.
            resilience.cache_or(None, cache.delete, _queued_key(letter_id))


def tallied(figure: str, *, letter: str = "") -> Coalesce:
    """Annotation: a figure of the letter's tally (``total``, ``countries``…), 0 if it has
    none; ``letter`` is the path to the letter (``"letter__"`` from an addressee). A join
    to one row per letter, where counting would read every signature."""
    return Coalesce(F(f"{letter}tally__{figure}"), 0)


def tally_of(letter) -> LetterTally | None:
    """The letter's tally (fetched with ``select_related("tally")``), or None if its
    signatures were never counted: a letter nobody has signed."""
    try:
        return letter.tally
    except LetterTally.DoesNotExist:
        return None


def country_totals(tallies) -> tuple[Counter, Counter]:
    """Signatures per country code ("" for none stated), and letters per country, over
    these tallies."""
    signatures, letters = Counter(), Counter()
    for breakdown in tallies.values_list("breakdown", flat=True):
        in_letter = sums(stored_rows(breakdown)).by_country
        signatures.update(in_letter)
        letters.update(code for code, count in in_letter.items() if count)
    return signatures, letters


@dataclass(frozen=True)
class CountryRow:
    code: str  # "" for signatories with no country stated
    signatures: int
    letters: int


def public_country_rows() -> list[CountryRow]:
    """Signatures and letters per country over the public letters, from their tallies:
    one query. Largest first; ties by the country's name as shown, not its code; "no
    country stated" is a row of its own, with code ""."""
    signatures, letters = country_totals(
        LetterTally.objects.filter(letter__status__in=Letter.PUBLIC_STATUSES)
    )
    rows = [CountryRow(code, count, letters[code]) for code, count in signatures.items()]
    return sorted(rows, key=lambda row: (-row.signatures, Country(row.code).name))


def public_rows_by_letter(*, country: str) -> list[tuple[int, list[CountRow]]]:
    """Each public letter's count rows for one country (alpha-2), letters by title then
    id, those with none left out: one query over the tallies, whatever the number of
    signatures. What a country's page shows and pages by (``paging.page_across``)."""
    tallies = (
        LetterTally.objects.filter(letter__status__in=Letter.PUBLIC_STATUSES)
        .order_by("letter__title", "letter_id")
        .values_list("letter_id", "breakdown")
    )
    by_letter = []
    for letter_id, breakdown in tallies:
        rows = [row for row in stored_rows(breakdown) if row.country == country]
        if rows:
            by_letter.append((letter_id, rows))
    return by_letter


@dataclass(frozen=True)
class Drift:
    letter_id: int
    recorded: int | None  # None: the letter had no tally
    actual: int
    breakdown_differs: bool
    marks_differ: bool = False  # its list marks (deep page numbers) are missing or stale


def reconcile(*, letter_ids=None, fix: bool = True) -> list[Drift]:
    """Recount letters (all that have signatures or a tally, by default) and report each
    tally that differs from the signatures; with ``fix``, correct it."""
    if letter_ids is None:
        letter_ids = set(Signature.objects.values_list("letter_id", flat=True).distinct()) | set(
            LetterTally.objects.values_list("letter_id", flat=True)
        )
    tallies = LetterTally.objects.in_bulk(letter_ids)
    drifts = []
    for letter_id in sorted(letter_ids):
        figures = figures_of(count_breakdown(letter_id))
        tally = tallies.get(letter_id)
        marks_differ = _marks_of(list_marks(letter_id)) != _marks_of(
            ListMark.objects.filter(letter_id=letter_id).order_by("position")
        )
        if (
            tally is not None
            and not marks_differ
            and all(getattr(tally, name) == value for name, value in figures.items())
        ):
            continue
        drifts.append(
            Drift(
                letter_id=letter_id,
                recorded=None if tally is None else tally.total,
                actual=figures["total"],
                breakdown_differs=tally is None or tally.breakdown != figures["breakdown"],
                marks_differ=marks_differ,
            )
        )
        if fix:
            refresh_tally(letter_id)
    return drifts


def _marks_of(marks) -> list[tuple]:
    return [(m.position, m.list_rank, m.sort_name, m.signature_id) for m in marks]

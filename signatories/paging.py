"""Pages of a public signature list that cost the same at page 1 and page 20,000.

Lists are ordered by ``(list_rank, sort_name, id)``, which an index holds. "Next" and
"Previous" links carry a cursor — the sort key of the row they continue from — so a page
is an index range scan of one page's rows (keyset pagination), never ``OFFSET``, which
reads and throws away every row before the page.

``?page=N`` still works (DESIGN's URL contract), at the same cost: the first pages by a
short offset, deeper ones from the nearest ``ListMark`` (a stored sort key every
``MARK_EVERY`` rows of the unfiltered list) and a short offset after it. A filtered list
has no marks, so a page number deeper than the offset reaches shows the first page with
a message; the site's own links are cursors, which reach every page.

A cursor that is not one the site made (damaged, forged: NUL or lone surrogates that the
database would refuse, wrong types, numbers out of range) shows the first page with a
message, never an error.
"""

import base64
import binascii
import json
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from signatories.models import LIST_ORDER, ListMark, Signature, SignatureQuerySet

KEY = Tuple(F("list_rank"), F("sort_name"), F("pk"))


def encode_cursor(signature: Signature, number: int, *, across_letters: bool = False) -> str:
    """A cursor for the page numbered ``number`` that starts after (or ends before) this
    signature. It holds only the public sort key: a shown name in lower case, or nothing;
    on a list across letters (``page_across``), the signature's letter too."""
    key = [signature.list_rank, signature.sort_name, signature.pk, number]
    if across_letters:
        key.append(signature.letter_id)
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, across_letters: bool = False) -> tuple | None:
    """``(rank, name, pk, number)``, with the letter's id last ``across_letters``; None
    for anything the site did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, name, pk, number, *letter = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        return None
    valid = (
        type(rank) is int
        and type(name) is str
        and type(pk) is int
        and type(number) is int
        and 0 <= rank <= 9
        and len(name) <= 200
        and 0 < pk < 2**63
        and 0 < number < 2**31
        and len(letter) == int(across_letters)
        and all(type(value) is int and 0 < value < 2**63 for value in letter)
    )
    return (rank, name, pk, number, *letter) if valid and _storable(name) else None


def _storable(text: str) -> bool:
    """Whether both databases can compare with the text: valid UTF-8 (no lone
    surrogates) and no NUL, which PostgreSQL refuses in a string."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@dataclass
class SignaturePage:
    object_list: list
    number: int
    num_pages: int
    count: int
    next_cursor: str | None = None
    previous_cursor: str | None = None
    cursor_refused: bool = False
    page_refused: bool = False  # a page number too deep for a filtered list
    # Rows before this page, when known exactly: by page number within the first
    # ``MARK_EVERY`` rows. A cursor page or one reached from a mark (which lags the
    # list) knows its rows, not their exact place, so says only how many it shows.
    offset: int | None = None

    @property
    def range_known(self) -> bool:
        """Whether "Showing 51–100 of N" is true of this page (the count may lag)."""
        return (
            self.offset is not None
            and bool(self.object_list)
            and self.offset + len(self.object_list) <= self.count
        )

    @property
    def first_shown(self) -> int:
        return self.offset + 1 if self.range_known else 0

    @property
    def last_shown(self) -> int:
        return self.offset + len(self.object_list) if self.range_known else 0

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def page_of(
    signatures: SignatureQuerySet, *, params, count: int, per_page: int, marks=None
) -> SignaturePage:
    """One page of ``signatures`` (filtered, not yet ordered) by ``after``/``before``
    cursor or ``page`` number in ``params``; ``count`` is how many there are in all;
    ``marks``, the ``ListMark`` rows of the list when it is a letter's whole list."""
    num_pages = max(1, -(-count // per_page))
    after, before = params.get("after"), params.get("before")
    cursor = decode_cursor(after or before) if (after or before) else None
    refused = bool(after or before) and cursor is None
    page_refused = False
    offset = None

    if cursor is not None and after:
        rank, name, pk, number = cursor
        rows = list(
            signatures.filter(TupleGreaterThan(KEY, (rank, name, pk))).order_by(*LIST_ORDER)[
                : per_page + 1
            ]
        )
        more_after, more_before = len(rows) > per_page, True
        rows = rows[:per_page]
    elif cursor is not None:
        rank, name, pk, number = cursor
        descending = [f"-{field}" for field in LIST_ORDER]
        rows = list(
            signatures.filter(TupleLessThan(KEY, (rank, name, pk))).order_by(*descending)[
                : per_page + 1
            ]
        )
        more_after, more_before = True, len(rows) > per_page
        rows = rows[:per_page][::-1]
    else:
        number = _page_number(params.get("page"), num_pages)
        start = (number - 1) * per_page
        ordered = signatures.order_by(*LIST_ORDER)
        rows, page_refused = _numbered_rows(ordered, start=start, size=per_page + 1, marks=marks)
        if page_refused:
            number = 1
        if page_refused or start < ListMark.MARK_EVERY:
            offset = (number - 1) * per_page
        more_after, more_before = len(rows) > per_page, number > 1
        rows = rows[:per_page]

    return _page(
        rows,
        number=number,
        num_pages=num_pages,
        count=count,
        more_after=more_after,
        more_before=more_before,
        cursor_refused=refused,
        page_refused=page_refused,
        offset=offset,
    )


def _page(
    rows, *, number, num_pages, more_after, more_before, across_letters=False, **fields
) -> SignaturePage:
    """The page of ``rows``, numbered within ``num_pages``, with a cursor on each side that
    has more rows (``across_letters``: cursors that name the letter too)."""
    number = min(max(number, 1), num_pages)

    def cursor_at(signature, page_number):
        return encode_cursor(signature, page_number, across_letters=across_letters)

    return SignaturePage(
        object_list=rows,
        number=number,
        num_pages=max(num_pages, number),
        next_cursor=cursor_at(rows[-1], number + 1) if rows and more_after else None,
        previous_cursor=cursor_at(rows[0], number - 1)
        if rows and more_before and number > 1
        else None,
        **fields,
    )


def _numbered_rows(ordered: SignatureQuerySet, *, start: int, size: int, marks):
    """``size`` rows from the ``start``-th on, and whether they had to be the first page
    instead: by offset within the first ``MARK_EVERY`` rows, else from the nearest mark."""
    if start < ListMark.MARK_EVERY:
        return list(ordered[start : start + size]), False
    mark = None
    if marks is not None:
        mark = marks.filter(position__lte=start).order_by("-position").first()
    if mark is None:
        return list(ordered[:size]), True
    skip = start - mark.position
    after_mark = ordered.filter(
        TupleGreaterThan(KEY, (mark.list_rank, mark.sort_name, mark.signature_id))
    )
    return list(after_mark[skip : skip + size]), False


def _page_number(value, num_pages: int) -> int:
    """A page number as Paginator.get_page reads one: not a number → 1, too far → last."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), num_pages)


@dataclass(frozen=True)
class Stretch:
    """One letter's part of a list across letters, and its size as its tally counts it."""

    letter_id: int
    count: int


def page_across(
    signatures: SignatureQuerySet, *, stretches: list[Stretch], params, per_page: int
) -> SignaturePage:
    """One page of a list across letters (a country's signatures): ``stretches`` in the
    order the list shows its letters (letters with none left out), each letter's
    ``signatures`` in list order. ``signatures`` are filtered but not by letter.

    One query, whatever the list's length or the page's depth: for each letter the page
    can reach (told by the stretches' tallied sizes), an index range of at most a page
    from the cursor on, all in one ``IN (… UNION ALL …)``, and the database orders the
    few rows found. Ordering the letters by title with one index scan across them isn't
    possible (the title is on another table), and one query per letter would make the
    number of queries depend on the page. Page numbers reach the first ``MARK_EVERY``
    rows, as in a filtered list; the site's own links are cursors, which reach every page.
    """
    count = sum(stretch.count for stretch in stretches)
    num_pages = max(1, -(-count // per_page))
    position = {stretch.letter_id: index for index, stretch in enumerate(stretches)}
    after, before = params.get("after"), params.get("before")
    cursor = decode_cursor(after or before, across_letters=True) if (after or before) else None
    if cursor is not None and cursor[4] not in position:  # a letter no longer in the list
        cursor = None
    refused = bool(after or before) and cursor is None
    page_refused = False
    offset = None

    if cursor is not None:
        rank, name, pk, number, letter_id = cursor
        here = position[letter_id]
        forward = bool(after)
        # The cursor's letter from the cursor on, then whole letters until a page is sure.
        reach = stretches[here + 1 :] if forward else stretches[:here][::-1]
        more = _enough(reach, per_page + 1)
        comparison = TupleGreaterThan if forward else TupleLessThan
        branches = [
            (letter_id, Q(comparison(KEY, (rank, name, pk))), not forward),
            *((stretch.letter_id, Q(), not forward) for stretch in reach[:more]),
        ]
        rows = _rows_of(signatures, branches, position=position, limit=per_page + 1)
        beyond = len(reach) > more  # letters not read, which the tallies say have rows
        if forward:
            more_after, more_before = len(rows) > per_page or beyond, True
            rows = rows[:per_page]
        else:
            more_after, more_before = True, len(rows) > per_page or beyond
            rows = rows[-per_page:]
    else:
        number = _page_number(params.get("page"), num_pages)
        if (number - 1) * per_page >= ListMark.MARK_EVERY:
            number, page_refused = 1, True
        offset = (number - 1) * per_page
        wanted = offset + per_page + 1
        more = _enough(stretches, wanted)
        branches = [(stretch.letter_id, Q(), False) for stretch in stretches[:more]]
        rows = _rows_of(signatures, branches, position=position, limit=wanted)[offset:]
        more_after = len(rows) > per_page or len(stretches) > more
        more_before = number > 1
        rows = rows[:per_page]

    return _page(
        rows,
        number=number,
        num_pages=num_pages,
        count=count,
        more_after=more_after,
        more_before=more_before,
        across_letters=True,
        cursor_refused=refused,
        page_refused=page_refused,
        offset=offset,
    )


def _enough(stretches: list[Stretch], rows: int) -> int:
    """How many of the stretches, from the first, hold ``rows`` rows between them."""
    total = 0
    for taken, stretch in enumerate(stretches, start=1):
        total += stretch.count
        if total >= rows:
            return taken
    return len(stretches)


def _rows_of(signatures, branches, *, position: dict, limit: int) -> list:
    """The signatures of every branch ``(letter id, condition, descending)``: at most
    ``limit`` of each, read in list order (or backwards) from the letter's list index;
    all of them by one query, ordered as the list shows them."""
    if not branches:
        return []
    parts, params = [], []
    for index, (letter_id, condition, descending) in enumerate(branches):
        order = [f"-{field}" if descending else field for field in LIST_ORDER]
        branch = signatures.filter(condition, letter_id=letter_id).order_by(*order)
        query = branch.values("pk")[:limit].query
        sql, branch_params = query.get_compiler(using=signatures.db).as_sql()
        # Django compiled each branch, its values are parameters: nothing here is input.
        parts.append(f"SELECT pk FROM ({sql}) AS branch_{index}")  # noqa: S608
        params.extend(branch_params)
    in_letter_order = Case(
        *(When(letter_id=letter_id, then=Value(position[letter_id])) for letter_id, *_ in branches),
        output_field=IntegerField(),
    )
    # A union of sliced querysets, which Django refuses on SQLite, in SQL both accept.
    union = RawSQL(" UNION ALL ".join(parts), params)  # noqa: S611
    return list(signatures.filter(pk__in=union).order_by(in_letter_order, *LIST_ORDER))

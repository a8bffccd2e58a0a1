"""Pages of the API: letters by page number, a letter's signatures by keyset cursor.

A signature page is the next ``page_size`` rows after a cursor in the public list's own
order (``signatories.models.LIST_ORDER``, which an index holds, and which the CSV
follows): one index range scan, so page 20,000 costs what page 1 does. The cursor is the
letter page's (``signatories.paging``): the sort key of the last row shown — a shown
name in lower case, or nothing — and the page's number. A cursor the site did not make
is refused with 400, never read as "start again".
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.fields.tuple_lookups import TupleGreaterThan
from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import replace_query_param

from config.api.errors import bad_parameter
from signatories.models import LIST_ORDER, Signature
from signatories.paging import KEY, decode_cursor, encode_cursor

SIGNATURES_PAGE_SIZE = 100
SIGNATURES_MAX_PAGE_SIZE = 1000
LETTERS_PAGE_SIZE = 50


class LetterPages(PageNumberPagination):
    """``?page=N`` (``last`` for the last): a number that is not one is a 400 naming
    ``page``; a page past the end, 404."""

    page_size = LETTERS_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        value = request.query_params.get(self.page_query_param)
        if value is not None and value not in self.last_page_strings and not whole(value):
            raise bad_parameter("page", "A page is a whole number from 1, or “last”.")
        return super().paginate_queryset(queryset, request, view)


def whole(value: str, digits: int = 100) -> bool:
    """A whole number from 1, in ASCII digits and not absurdly long."""
    return value.isascii() and value.isdigit() and len(value) <= digits and int(value) >= 1


@dataclass
class SignaturePage:
    rows: list[tuple]  # values of the fields asked for, then the sort key: rank, name, pk
    next_cursor: str | None


def page_size_of(params) -> int:
    value = params.get("page_size")
    if value is None or value == "":
        return SIGNATURES_PAGE_SIZE
    if whole(value, digits=4) and int(value) <= SIGNATURES_MAX_PAGE_SIZE:
        return int(value)
    raise bad_parameter(
        "page_size", f"A page size is a whole number from 1 to {SIGNATURES_MAX_PAGE_SIZE}."
    )


def signature_page(signatures: QuerySet, *, params, fields: tuple[str, ...]) -> SignaturePage:
    """The page of ``signatures`` (filtered, not yet ordered) that ``params`` asks for:
    ``after`` (a cursor) and ``page_size``. One query."""
    size = page_size_of(params)
    number = 1
    after = params.get("after")
    if after:
        cursor = decode_cursor(after)
        if cursor is None:
            raise bad_parameter(
                "after",
                "This cursor is not one the site made. Use the “next” link of the page before, "
                "or leave “after” out for the first page.",
            )
        rank, name, pk, number = cursor
        signatures = signatures.filter(TupleGreaterThan(KEY, (rank, name, pk)))
    rows = list(signatures.order_by(*LIST_ORDER).values_list(*fields, *LIST_ORDER)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more:
        rank, name, pk = rows[-1][-3:]
        last = Signature(pk=pk, list_rank=rank, sort_name=name)
        next_cursor = encode_cursor(last, min(number + 1, 2**31 - 1))
    return SignaturePage(rows=rows, next_cursor=next_cursor)


def next_url(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return replace_query_param(request.build_absolute_uri(), "after", cursor)

"""The delivered list's public page and file (``signatories.delivered``)."""

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from config.http import public_page
from config.machine_readable import in_english
from signatories.delivered import (
    CHECK_SCRIPT,
    DELIVERED_COLUMNS,
    delivered_lines,
    public_list,
)
from signatories.models import DeliveredList

LINES_PER_CHUNK = 1000


def _frozen_list_or_404(slug: str) -> DeliveredList:
    try:
        return public_list(slug)
    except DeliveredList.DoesNotExist:
        raise Http404("This letter has no delivered list.") from None


@public_page
def delivered(request: HttpRequest, slug: str) -> HttpResponse:
    """The digest of the list delivered to the recipients, and how to check it: one query."""
    delivered = _frozen_list_or_404(slug)
    return render(
        request,
        "signatories/delivered.html",
        {
            "delivered": delivered,
            "letter": delivered.letter,
            "columns": DELIVERED_COLUMNS,
            "check_script": CHECK_SCRIPT,
            "file_name": _file_name(delivered),
        },
    )


@in_english
@public_page
def delivered_file(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The frozen list, a line per row, streamed: two queries at any size. Its rows were
    written in English when the list was frozen; the file is the same whatever language
    it is asked for in."""
    delivered = _frozen_list_or_404(slug)
    response = StreamingHttpResponse(
        _in_chunks(delivered_lines(delivered)), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, _file_name(delivered))
    return response


def _file_name(delivered: DeliveredList) -> str:
    return f"{delivered.letter.slug}-delivered.txt"


def _in_chunks(lines):
    chunk = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == LINES_PER_CHUNK:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    if chunk:
        yield "".join(chunk).encode("utf-8")

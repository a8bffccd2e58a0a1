"""CSV exports of signatures, streamed row by row with constant memory."""

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.http import content_disposition_header
from django_countries import countries

from config.machine_readable import MACHINE_LANGUAGE, english_labels
from signatories.models import (
    Category,
    Display,
    PrivateExport,
    SignatoryKind,
    SignatureQuerySet,
    Verification,
    public_name_of,
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
CHUNK_SIZE = 5000

PUBLIC_COLUMNS = [
    "name",
    "name_shown_as",
    "kind",
    "category",
    "country_code",
    "country",
    "role",
    "affiliation",
    "website",
    "signed_on",
    "verification",
    "statement",
    "profile_url",
]


def neutralise(value) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


LINES_PER_CHUNK = 1000


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """CSV text in chunks of ``LINES_PER_CHUNK`` lines (a million rows stream as a
    thousand chunks, not a million tiny writes), starting with a byte-order mark so Excel
    reads it as UTF-8. Every cell passes through ``neutralise``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    lines = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        lines += 1
        if lines == LINES_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            lines = 0
    if lines:
        yield buffer.getvalue()


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in lines), content_type="text/csv; charset=utf-8"
    )
    # File names can come from uploads (the import preview): quotes, backslashes and
    # non-ASCII are written as RFC 6266 asks (escaped, or as filename*=utf-8''…).
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


PROFILE_SLUG_PLACEHOLDER = "profile-slug"


def public_list_version(signatures: SignatureQuerySet, *, salt: str = "") -> str:
    """An ETag for a public export of ``signatures`` (a letter's published list, before
    filters), from one aggregate query: how many there are, and when the last of them and
    the last of their signatories changed. Every path that changes what the CSV shows — a
    signature added, published, hidden, withdrawn, deleted, re-verified, merged; a
    signatory renamed or moved country — changes one of the three (each bulk path sets
    ``updated_at``, ``vetting._update``, ``merging``, ``retention``). ``salt`` is what
    else the file depends on: its address's query and the day in its file name.

    Reading it costs an index scan of the letter's rows, far less than streaming them,
    so a client revalidating an unchanged million-row file is answered 304 in a fraction
    of the time the file takes to send."""
    version = signatures.order_by().aggregate(
        rows=Count("pk"),
        signature=Max("updated_at"),
        signatory=Max("signatory__updated_at"),
    )
    key = "|".join(
        str(part) for part in (version["rows"], version["signature"], version["signatory"], salt)
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


# What a public row is made from: read as plain values, in this order.
PUBLIC_FIELDS = (
    "display",
    "signatory__name",
    "signatory__slug",
    "signatory__kind",
    "signatory__category",
    "signatory__country",
    "signatory__role",
    "signatory__affiliation",
    "signatory__website",
    "signed_on",
    "verification",
    "statement",
)


def public_row_maker(*, profile_url: str) -> Callable[[tuple], list]:
    """The one maker of public rows, for the CSV and the JSON API alike: from the values
    of ``PUBLIC_FIELDS``, the ``PUBLIC_COLUMNS`` cells — each name exactly as the letter
    page shows it, and the role, affiliation, website and profile only of those who are
    named in full. ``profile_url`` is a signatory page's address with
    ``PROFILE_SLUG_PLACEHOLDER`` for the slug, so no row needs a URL lookup of its own.

    Labels and country names are English whatever language is active
    (``config.machine_readable``): a download is the same file from every address, and a
    delivered list's rows, made here, must read the same on every later check."""
    category_labels = english_labels(Category.choices)
    kind_labels = english_labels(SignatoryKind.choices)
    display_labels = english_labels(Display.choices)
    verification_labels = english_labels(Verification.choices)
    with translation.override(MACHINE_LANGUAGE):
        country_names = {code: str(name) for code, name in countries}

    def public_row(values: tuple) -> list:
        (
            display,
            name,
            slug,
            kind,
            category,
            country,
            role,
            affiliation,
            website,
            signed_on,
            verification,
            statement,
        ) = values
        named = display == Display.FULL
        return [
            public_name_of(name, display),
            display_labels.get(display, display),
            kind_labels.get(kind, kind),
            category_labels.get(category, category),
            country,
            country_names.get(country, ""),
            role if named else "",
            affiliation if named else "",
            website if named else "",
            signed_on.isoformat() if signed_on else "",
            verification_labels.get(verification, verification),
            statement,
            profile_url.replace(PROFILE_SLUG_PLACEHOLDER, slug) if named else "",
        ]

    return public_row


def public_rows(signatures: SignatureQuerySet, *, profile_url: str) -> Iterator[list]:
    """Rows of the public CSV (``public_row_maker``), read in chunks."""
    public_row = public_row_maker(profile_url=profile_url)
    for values in signatures.values_list(*PUBLIC_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        yield public_row(values)


PRIVATE_COLUMNS = [
    "signature_id",
    "letter",
    "signatory_id",
    "name",
    "display",
    "public_name",
    "kind",
    "category",
    "country_code",
    "role",
    "affiliation",
    "website",
    "email",
    "signatory_notes",
    "signed_on",
    "statement",
    "featured",
    "status",
    "source",
    "verification",
    "verified_by",
    "verified_at",
    "rejection_reason",
    "signature_notes",
    "created_at",
    "updated_at",
]


# Granted to people one by one, never through a group (README, "Roles").
PRIVATE_EXPORT_PERMISSION = "signatories.export_private_signatures"


def private_csv(signatures: SignatureQuerySet) -> Iterator[str]:
    """The staff CSV of ``signatures`` (``PRIVATE_COLUMNS``), in the order they were
    recorded: what the admin's private export and ``manage.py export_signatures`` write."""
    return csv_lines(PRIVATE_COLUMNS, private_rows(signatures.order_by("letter", "pk")))


def private_rows(signatures: SignatureQuerySet) -> Iterator[list]:
    """Every field, for staff with the export permission. Only the columns written are
    read, as plain values: no model instance per row, and not the letter's body a
    million times over."""
    fields = (
        "pk",
        "letter__slug",
        "signatory_id",
        "signatory__name",
        "display",
        "signatory__kind",
        "signatory__category",
        "signatory__country",
        "signatory__role",
        "signatory__affiliation",
        "signatory__website",
        "signatory__email",
        "signatory__notes",
        "signed_on",
        "statement",
        "featured",
        "status",
        "source",
        "verification",
        f"verified_by__{get_user_model().USERNAME_FIELD}",
        "verified_at",
        "rejection_reason",
        "notes",
        "created_at",
        "updated_at",
    )
    for (
        pk,
        letter,
        signatory_id,
        name,
        display,
        kind,
        category,
        country,
        role,
        affiliation,
        website,
        email,
        signatory_notes,
        signed_on,
        statement,
        featured,
        status,
        source,
        verification,
        verified_by,
        verified_at,
        rejection_reason,
        notes,
        created_at,
        updated_at,
    ) in signatures.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
        yield [
            pk,
            letter,
            signatory_id,
            name,
            display,
            public_name_of(name, display),
            kind,
            category,
            country or "",
            role,
            affiliation,
            website,
            email,
            signatory_notes,
            signed_on.isoformat() if signed_on else "",
            statement,
            "yes" if featured else "no",
            status,
            source,
            verification,
            verified_by or "",
            verified_at.isoformat() if verified_at else "",
            rejection_reason,
            notes,
            created_at.isoformat(),
            updated_at.isoformat(),
        ]


def record_private_export(*, signatures: SignatureQuerySet, user, filename: str) -> PrivateExport:
    """Log an export carrying private fields before it is sent."""
    letters = signatures.order_by().values_list("letter__slug", flat=True).distinct()
    return PrivateExport.objects.create(
        user=user,
        row_count=signatures.count(),
        letters=", ".join(sorted(letters)),
        filename=filename,
    )

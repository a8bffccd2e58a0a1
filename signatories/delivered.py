"""The delivered list: a letter's public signatory list frozen when it was delivered, that
anyone can check afterwards against a published digest, even after signers withdraw.

Freezing (``freeze_delivered_list``) writes one ``DeliveredRow`` per public signature, in
the public list's order: its *text*, the public CSV's cells for it (``PUBLIC_COLUMNS``
without ``profile_url``, which holds the site's address and a slug that may change) as a
JSON array on one line, and a random *salt*. Its *line* is ``salt + " " + text``, and its
leaf hash ``SHA-256(0x00 ‖ line)``; inner nodes are ``SHA-256(0x01 ‖ left ‖ right)``, the
tree of RFC 6962 (a last node without a partner moves up a level as it is). The root is
published.

The public file (``delivered_lines``) has one line per row: the line itself, or for a
redacted row its leaf hash alone, so anyone can rebuild the tree and the root with the
script shown on the page (``CHECK_SCRIPT``). The salt keeps a redacted row's text from
being guessed back from its hash.

A row is redacted (text and salt erased, leaf kept) once its signature no longer shows
the public the same row: withdrawn, hidden, rejected, deleted or merged away, or a name,
role, statement… changed or taken back (``redact_stale_rows``, called by each path that
changes signatures, and by every tally refresh as a safety net). Only ``verification``
may change and keep a row shown: staff record checks after delivery, and the old value
tells nothing about the signer. ``verify_delivered`` recomputes everything and reports a
row that should have been redacted and wasn't.
"""

import datetime
import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Min
from django.urls import reverse
from django.utils import timezone

from letters.models import Letter
from signatories.bulk import chunks, insert_rows, lookup_chunk
from signatories.exports import (
    CHUNK_SIZE,
    PROFILE_SLUG_PLACEHOLDER,
    PUBLIC_COLUMNS,
    PUBLIC_FIELDS,
    neutralise,
    public_row_maker,
)
from signatories.models import (
    LIST_ORDER,
    DeliveredList,
    DeliveredRow,
    Signatory,
    Signature,
    SignatureStatus,
)

# The public CSV's columns but its last: a profile's address holds the site's address.
DELIVERED_COLUMNS = [column for column in PUBLIC_COLUMNS if column != "profile_url"]
_KEPT = [PUBLIC_COLUMNS.index(column) for column in DELIVERED_COLUMNS]
# The one column that may change and keep a row shown (see the module's docstring).
_VERIFICATION = DELIVERED_COLUMNS.index("verification")

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
SALT_BYTES = 16
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()  # RFC 6962's hash of an empty list

# How far back a letter's check looks before the last one (``redact_stale_rows``).
CHANGES_SLACK = datetime.timedelta(minutes=10)

ROW_FIELDS = ("delivered_list_id", "position", "signature_id", "salt", "text", "leaf")


class FreezeError(ValueError):
    """A list that can't be frozen; the message says why, for staff."""


# What a row is made of


def row_text(public_row: list) -> str:
    """A row of the public CSV as the delivered list holds it: its cells as the CSV writes
    them (``neutralise``d), ``profile_url`` left out, as a JSON array of strings on one
    line (UTF-8, no spaces, line breaks and quotes escaped)."""
    cells = [neutralise(public_row[index]) for index in _KEPT]
    return json.dumps(cells, ensure_ascii=False, separators=(",", ":"))


def line_of(salt: str, text: str) -> str:
    """A shown row as the file writes it and its leaf hashes it."""
    return f"{salt} {text}"


def leaf_hash(salt: str, text: str) -> str:
    return hashlib.sha256(LEAF_PREFIX + line_of(salt, text).encode("utf-8")).hexdigest()


class MerkleRoot:
    """The RFC 6962 root of leaf hashes given one at a time, in O(log n) memory: a stack of
    the roots of complete subtrees, biggest first, merged as they pair up; the last
    incomplete ones folded in from the right at the end."""

    def __init__(self):
        self._stack: list[tuple[bytes, int]] = []  # (subtree root, its number of leaves)
        self.leaves = 0

    def add(self, leaf: bytes) -> None:
        node, size = leaf, 1
        while self._stack and self._stack[-1][1] == size:
            left, _ = self._stack.pop()
            node, size = _node(left, node), size * 2
        self._stack.append((node, size))
        self.leaves += 1

    def hexdigest(self) -> str:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][0]
        for left, _ in reversed(self._stack[:-1]):
            node = _node(left, node)
        return node.hex()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


# Freezing


def freeze_delivered_list(*, letter: Letter, by=None) -> DeliveredList:
    """Freeze the letter's public list as it is now, once: ``FreezeError`` for a draft or
    a letter already frozen. Rows are read in list order and written in chunks (``COPY`` on
    PostgreSQL), so a million signatures take constant memory."""
    with transaction.atomic():
        # Locked, so that two staff recording the delivery at once freeze it once.
        letter = Letter.objects.select_for_update().get(pk=letter.pk)
        if not letter.is_public:
            raise FreezeError("A draft letter has no public list to freeze: publish it first.")
        if DeliveredList.objects.filter(letter=letter).exists():
            raise FreezeError(
                "This letter's delivered list is already frozen; it can't be frozen again."
            )
        now = timezone.now()
        delivered = DeliveredList.objects.create(
            letter=letter,
            frozen_at=now,
            # A change committed while this reads may carry an earlier updated_at.
            changes_checked_to=now - CHANGES_SLACK,
            delivered_on=letter.delivered_on,
            rows=0,
            root=EMPTY_ROOT,
            frozen_by=by,
        )
        root = MerkleRoot()
        make = public_row_maker(profile_url=PROFILE_SLUG_PLACEHOLDER)
        signatures = (
            Signature.objects.public_on(letter)
            .order_by(*LIST_ORDER)
            .values_list("pk", *PUBLIC_FIELDS)
        )
        for chunk in chunks(signatures.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
            rows = []
            for pk, *values in chunk:
                salt = secrets.token_hex(SALT_BYTES)
                text = row_text(make(values))
                leaf = leaf_hash(salt, text)
                rows.append((delivered.pk, root.leaves, pk, salt, text, leaf))
                root.add(bytes.fromhex(leaf))
            insert_rows(DeliveredRow, ROW_FIELDS, rows)
        delivered.rows = root.leaves
        delivered.root = root.hexdigest()
        delivered.save(update_fields=["rows", "root"])
    return delivered


# Redacting


def redact_stale_rows(*, signature_ids: Iterable[int] = (), letter_ids: Iterable[int] = ()) -> int:
    """Redact every shown frozen row of these signatures, and of the signatures that
    changed (or whose signatory changed) since these letters' frozen lists were last
    looked at (``changes_checked_to``), whose signature no longer shows the
    public the same row (``stale_rows``); the number redacted. A deleted signature is
    found only by its id: whoever deletes one passes it (``verify`` finds any other)."""
    ids = set(signature_ids)
    letter_ids = sorted(set(letter_ids))
    since = None
    if letter_ids:
        # A change written in a transaction still open as this reads has an updated_at
        # a little before now: the next look starts that far back.
        checked_to = timezone.now() - CHANGES_SLACK
        lists = DeliveredList.objects.filter(letter_id__in=letter_ids)
        since = lists.aggregate(since=Min("changes_checked_to"))["since"]
        if since is not None:
            # On any letter: one moved off these letters is still on their lists. Two
            # queries, each a scan of one table, rather than a join of both.
            changed = Signature.objects.filter(updated_at__gte=since)
            ids.update(changed.values_list("pk", flat=True))
            renamed = Signatory.objects.filter(updated_at__gte=since).values("pk")
            ids.update(Signature.objects.filter(signatory__in=renamed).values_list("pk", flat=True))
    shown = DeliveredRow.objects.exclude(salt="")
    redacted = 0
    for chunk in chunks(sorted(ids), lookup_chunk()):
        redacted += _redact(list(stale_rows(shown.filter(signature_id__in=chunk))))
    if since is not None:
        lists.filter(changes_checked_to__lt=checked_to).update(changes_checked_to=checked_to)
    return redacted


def stale_rows(rows) -> Iterator[tuple[int, int]]:
    """``(row id, list id)`` of each of these rows whose signature is gone, or not
    published, or moved to another letter, or would make another row now (but for its
    verification). The signatures are read apart, by id, a query per chunk of rows: a
    join would lose the rows whose signature is gone."""
    make = public_row_maker(profile_url=PROFILE_SLUG_PLACEHOLDER)
    fields = ("pk", "delivered_list_id", "delivered_list__letter_id", "signature_id", "text")
    for chunk in chunks(rows.order_by().values_list(*fields).iterator(), lookup_chunk()):
        signatures = Signature.objects.filter(pk__in=[row[3] for row in chunk]).values_list(
            "pk", "letter_id", "status", *PUBLIC_FIELDS
        )
        now = {pk: values for pk, *values in signatures}
        for pk, list_id, letter_id, signature_id, text in chunk:
            current = now.get(signature_id)
            if (
                current is None
                or current[0] != letter_id
                or current[1] != SignatureStatus.PUBLISHED
                or not _same_row(text, row_text(make(current[2:])))
            ):
                yield pk, list_id


def _same_row(frozen: str, now: str) -> bool:
    if frozen == now:
        return True
    frozen_cells, cells = json.loads(frozen), json.loads(now)
    frozen_cells[_VERIFICATION] = cells[_VERIFICATION] = ""
    return frozen_cells == cells


def _redact(stale: list[tuple[int, int]]) -> int:
    total = 0
    for chunk in chunks(stale, lookup_chunk()):
        with transaction.atomic():
            by_list: dict[int, list[int]] = {}
            for pk, list_id in chunk:
                by_list.setdefault(list_id, []).append(pk)
            for list_id, pks in by_list.items():
                # Counted as updated, so a row two paths redact at once counts once.
                done = (
                    DeliveredRow.objects.filter(pk__in=pks)
                    .exclude(salt="")
                    .update(salt="", text="")
                )
                DeliveredList.objects.filter(pk=list_id).update(redacted=F("redacted") + done)
                total += done
    return total


# Reading and checking


def public_list(slug: str) -> DeliveredList:
    """The frozen list of a public letter, with its letter: one query. Raises
    ``DeliveredList.DoesNotExist`` for a draft, a letter not frozen or an unknown slug."""
    return DeliveredList.objects.select_related("letter").get(
        letter__slug=slug, letter__status__in=Letter.PUBLIC_STATUSES
    )


def delivered_lines(delivered: DeliveredList) -> Iterator[str]:
    """The public file, line by line (each ending in a line feed): a shown row's line, or
    a redacted row's leaf hash. One query, streamed."""
    rows = (
        DeliveredRow.objects.filter(delivered_list=delivered)
        .order_by("position")
        .values_list("salt", "text", "leaf")
    )
    for salt, text, leaf in rows.iterator(chunk_size=CHUNK_SIZE):
        yield (line_of(salt, text) if salt else leaf) + "\n"


def delivered_summary(letter: Letter) -> dict | None:
    """What the API says of a letter's delivered list (None when it has none), from the
    letter as fetched with ``select_related("delivered_list")``: no query of its own."""
    try:
        delivered = letter.delivered_list
    except DeliveredList.DoesNotExist:
        return None
    return {
        "root": delivered.root,
        "frozen_at": delivered.frozen_at.isoformat(),
        "delivered_on": delivered.delivered_on.isoformat() if delivered.delivered_on else None,
        "rows": delivered.rows,
        "redacted": delivered.redacted,
        "format_version": delivered.format_version,
        "url": reverse("signatories:delivered", args=[letter.slug]),
        "file_url": reverse("signatories:delivered_file", args=[letter.slug]),
    }


@dataclass
class CheckReport:
    """What ``verify`` found: problems with the list's integrity, and rows still shown
    whose signature no longer shows them (a privacy problem, not an integrity one)."""

    root: str = ""
    rows: int = 0
    shown: int = 0
    redacted: int = 0
    problems: list[str] = field(default_factory=list)
    should_be_redacted: list[int] = field(default_factory=list)  # positions

    @property
    def ok(self) -> bool:
        return not self.problems and not self.should_be_redacted


def verify(delivered: DeliveredList) -> CheckReport:
    """Recompute every shown row's leaf from its salt and text, the tree and its root, and
    compare them with what was stored and published; check that no position is missing,
    and that the counts agree."""
    report = CheckReport()
    root = MerkleRoot()
    rows = (
        DeliveredRow.objects.filter(delivered_list=delivered)
        .order_by("position")
        .values_list("position", "salt", "text", "leaf")
    )
    expected = 0
    for position, salt, text, leaf in rows.iterator(chunk_size=CHUNK_SIZE):
        if position != expected:
            missing = f"{expected}" if position == expected + 1 else f"{expected}–{position - 1}"
            report.problems.append(f"Missing: row {missing}.")
        expected = position + 1
        if salt:
            report.shown += 1
            computed = leaf_hash(salt, text)
            if computed != leaf:
                report.problems.append(
                    f"Row {position}: its text or salt changed since it was frozen "
                    f"(leaf {computed}, stored {leaf})."
                )
        else:
            report.redacted += 1
            computed = leaf
        try:
            root.add(bytes.fromhex(computed))
        except ValueError:
            report.problems.append(f"Row {position}: its leaf hash {leaf!r} is not hex.")
        report.rows += 1
    report.root = root.hexdigest()
    if expected < delivered.rows:
        report.problems.append(f"Missing: row {expected}–{delivered.rows - 1}.")
    if report.rows != delivered.rows:
        report.problems.append(f"{report.rows} rows found; {delivered.rows} were frozen.")
    if report.redacted != delivered.redacted:
        report.problems.append(
            f"{report.redacted} rows are redacted; the list says {delivered.redacted}."
        )
    if report.root != delivered.root:
        report.problems.append(
            f"The root computed from the rows, {report.root}, is not the published root "
            f"{delivered.root}."
        )
    shown = DeliveredRow.objects.filter(delivered_list=delivered).exclude(salt="")
    stale = {pk for pk, _ in stale_rows(shown)}
    report.should_be_redacted = sorted(
        DeliveredRow.objects.filter(pk__in=stale).values_list("position", flat=True)
    )
    return report


CHECK_SCRIPT = """\
import hashlib
import sys

leaves = []
with open(sys.argv[1], "rb") as file:
    for line in file:
        line = line.rstrip(b"\\n")
        if b" " in line:  # a row: its salt, a space, its cells
            leaves.append(hashlib.sha256(b"\\x00" + line).digest())
        else:  # a redacted row: its leaf hash alone
            leaves.append(bytes.fromhex(line.decode()))

level = leaves or [hashlib.sha256(b"").digest()]
while len(level) > 1:
    pairs = len(level) // 2
    nodes = [hashlib.sha256(b"\\x01" + level[2 * i] + level[2 * i + 1]).digest()
             for i in range(pairs)]
    level = nodes + level[2 * pairs:]  # an odd one out moves up as it is
print(level[0].hex())
"""

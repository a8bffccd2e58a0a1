"""Possible duplicates: for each row that would be a new signatory, the recorded ones whose
names are like its name ("Barnardos UK" beside "Barnardo's"), for staff to choose "same
as …" or "new" in the preview (``choose_same_as``).

On PostgreSQL by trigram similarity (pg_trgm, with a GIN index on ``name_key``), in one
query for the whole file; elsewhere (SQLite, for trying the app) by a simpler rule: names
that start with the same word, compared with ``difflib``.
"""

import difflib
from collections.abc import Iterable

from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q

from letters.models import Letter
from signatories.bulk import chunks
from signatories.importers.report import ImportReport, ImportRow, NearMatch, Outcome, RowError
from signatories.models import Display, Signatory, SignatoryKind, Signature

# How alike two name keys must be to be shown (trigram similarity or difflib's ratio).
THRESHOLD = 0.5
SHOWN = 3  # near matches per row
# New rows looked at: a preview lists them for a person to read, not a hundred thousand.
MAX_ROWS = 1_000
# The longest a preview waits for them (PostgreSQL): a name like ten thousand recorded
# ones costs some tens of milliseconds.
SECONDS = 10
PREFIX = 4  # characters two names share at the start to be compared, without trigrams
PREFIX_CHUNK = 200  # "name_key LIKE 'abcd%'" terms per query (SQLite's parser depth)


def near_matches(letter: Letter, report: ImportReport, *, lines: set[int] | None = None) -> None:
    """Fill ``near_matches`` of the new rows worth comparing (organisations, and people
    named in full: never a first name, initials or an anonymous row), or only of those on
    ``lines`` (a confirmed import checks staff's choices, nothing more)."""
    rows = [
        row
        for row in report.rows
        if row.outcome == Outcome.NEW and _comparable(row) and (lines is None or row.line in lines)
    ]
    if len(rows) > MAX_ROWS:
        report.warnings.append(
            f"Possible duplicates were looked for among the first {MAX_ROWS:,} new "
            f"signatories only (of {len(rows):,})."
        )
        rows = rows[:MAX_ROWS]
    wanted = {(row.parsed["name_key"], row.parsed["kind"]) for row in rows}
    if not wanted:
        return
    if connection.vendor == "postgresql":
        found = _similar_postgresql(letter, wanted, report)
    else:
        found = _similar_elsewhere(letter, {key for key, _ in wanted})
    for row in rows:
        kind = row.parsed["kind"]
        alike = [match for match in found.get(row.parsed["name_key"], []) if match.kind == kind]
        row.near_matches = sorted(alike, key=lambda m: (-m.similarity, m.signatory_id))[:SHOWN]


def _comparable(row: ImportRow) -> bool:
    parsed = row.parsed
    if parsed["kind"] == SignatoryKind.ORGANISATION:
        return True
    return parsed["display"] == Display.FULL and " " in parsed["name_key"]


# Each wanted (key, kind)'s nearest recorded keys of that kind, by the trigram index.
NEAR_SQL = """
    SELECT wanted.key, near.id, near.name, near.country, near.kind,
           EXISTS (SELECT 1 FROM signatories_signature g
                   WHERE g.signatory_id = near.id AND g.letter_id = %s),
           similarity(near.name_key, wanted.key)
    FROM unnest(%s::text[], %s::text[]) AS wanted(key, kind)
    CROSS JOIN LATERAL (
        SELECT s.id, s.name, s.country, s.kind, s.name_key
        FROM signatories_signatory s
        WHERE s.name_key %% wanted.key AND s.kind = wanted.kind
          AND s.name_key <> wanted.key
        ORDER BY s.name_key <-> wanted.key
        LIMIT %s
    ) AS near
"""


def _similar_postgresql(
    letter: Letter, wanted: set[tuple[str, str]], report: ImportReport
) -> dict[str, list[NearMatch]]:
    """For each ``(name_key, kind)`` wanted, the recorded signatories of that kind whose
    key is most like it, in one query: the GiST trigram index gives each key's nearest
    (``<->``) first, so a name among ten thousand similar ones ("University of …") costs
    what a rare one does, and ``%`` keeps those over ``THRESHOLD``."""
    keys, kinds = zip(*sorted(wanted), strict=True)
    found: dict[str, list[NearMatch]] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # What ``%`` finds (0.3 by default), and a bound on the time a preview waits.
            # Local to the transaction, which may be the caller's (a savepoint here): the
            # timeout is put back after, so it never bounds the caller's own work.
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "set_config('pg_trgm.similarity_threshold', %s, true), "
                "set_config('statement_timeout', %s, true)",
                [str(THRESHOLD), f"{SECONDS * 1000:.0f}"],
            )
            [(timeout, *_)] = cursor.fetchall()
            cursor.execute(NEAR_SQL, [letter.pk, list(keys), list(kinds), SHOWN])
            rows = cursor.fetchall()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [timeout])
    except OperationalError:  # the statement timed out: rolled back to before it
        report.warnings.append(
            f"Possible duplicates could not be looked for within {SECONDS} seconds (many "
            "recorded names are alike); check new signatories by hand."
        )
        return found
    for key, pk, name, country, kind, signed, score in rows:
        found.setdefault(key, []).append(NearMatch(pk, name, country, kind, signed, score))
    return found


def _similar_elsewhere(letter: Letter, keys: set[str]) -> dict[str, list[NearMatch]]:
    """The fallback: recorded names that start with the same four characters as a key,
    kept when ``difflib`` finds them alike enough."""
    by_start: dict[str, list[str]] = {}
    for key in keys:
        by_start.setdefault(key[:PREFIX], []).append(key)
    found: dict[str, list[NearMatch]] = {}
    for candidate in _starting_with(letter, by_start):
        for key in by_start.get(candidate.name_key[:PREFIX], []):
            score = difflib.SequenceMatcher(None, key, candidate.name_key).ratio()
            if candidate.name_key != key and score >= THRESHOLD:
                found.setdefault(key, []).append(
                    NearMatch(
                        candidate.pk,
                        candidate.name,
                        candidate.country,
                        candidate.kind,
                        candidate.signed,
                        round(score, 3),
                    )
                )
    return found


def _starting_with(letter: Letter, starts: Iterable[str]):
    signatories = (
        Signatory.objects.order_by()
        .annotate(signed=Exists(Signature.objects.filter(letter=letter, signatory=OuterRef("pk"))))
        .values_list("pk", "name", "country", "kind", "name_key", "signed", named=True)
    )
    for chunk in chunks(sorted(starts), PREFIX_CHUNK):
        prefixes = Q.create([("name_key__startswith", start) for start in chunk], connector=Q.OR)
        yield from signatories.filter(prefixes)


def choose_same_as(report: ImportReport, same_as: dict[int, int]) -> None:
    """Apply staff's choices from the preview: ``{line: signatory id}`` makes that new row
    a signature of the recorded signatory, one of its near matches. A row chosen twice
    for one signatory is, the second time, a duplicate of the first."""
    taken: dict[int, int] = {
        row.signatory_id: row.line for row in report.rows if row.signatory_id is not None
    }
    for row in report.rows:
        if row.line not in same_as or row.outcome != Outcome.NEW:
            continue
        chosen = next((m for m in row.near_matches if m.signatory_id == same_as[row.line]), None)
        if chosen is None:
            row.errors.append(
                RowError(
                    row.line,
                    "name",
                    "the signatory chosen as the same is not one of its "
                    "possible duplicates; preview the file again.",
                )
            )
            row.outcome = Outcome.ERROR
        elif chosen.signatory_id in taken:
            row.outcome, row.duplicate_of = Outcome.DUPLICATE, taken[chosen.signatory_id]
        else:
            row.signatory_id = chosen.signatory_id
            row.signatory_kind_name = (chosen.kind, chosen.name)
            row.outcome = Outcome.ALREADY_SIGNED if chosen.signed else Outcome.MATCH
            taken[chosen.signatory_id] = row.line

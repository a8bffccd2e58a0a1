"""Signatory slugs: the one place a name becomes the readable part of a web address.

``slug_base("Zoë Žižek")`` is ``zoe-zizek``: Latin letters lose their accents, as people
type them, and the few Latin letters that have no accent to lose are spelled out (ß → ss,
ø → o, ł → l). Every other script is kept as it is written, marks included: 张伟 stays
``张伟``, محمد ``محمد``, हिन्दी ``हिन्दी`` (Django's ``slugify`` turns the first two into
nothing and the last into हनद, dropping its vowel signs). Such a slug travels
percent-encoded in links and reads as written in the browser's address bar, so its URL
pattern takes any text (``<str:slug>``), not ``<slug:…>``, which is ASCII only.

A slug is made from the name the public sees: callers never pass a name its signer chose
to hide (``signing.public_form_slug``), and a signatory's page, the only place a slug
shows, exists only for those named in full (``views.signatory_detail``).

``unique_slugs`` is the one maker of a signatory's slug (the admin's form, the import, the
public form); ``validate_slug`` the check of one typed by staff.
"""

import unicodedata
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q, QuerySet

from signatories.bulk import EqualsAny, chunks, lookup_chunk

# Room left in Signatory.slug (220) for a "-2" or a public signer's random suffix.
MAX_LENGTH = 200
# ``slug LIKE 'base-%'`` terms per query: SQLite parses a chain of ORs as a tree no
# deeper than 1,000.
SLUG_PREFIX_CHUNK = 200
FALLBACK = "signatory"

# Latin letters that don't decompose into a letter and an accent, as they are spelled in
# ASCII. Applied after case folding (which already spells ß as "ss").
_LATIN_LETTERS = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _is_separator(char: str) -> bool:
    # Spaces, hyphens and dashes part words; other punctuation ("O'Brien", "A.B.") goes.
    return char == "_" or unicodedata.category(char)[0] == "Z" or unicodedata.category(char) == "Pd"


def _without_latin_accents(text: str) -> str:
    """Accents taken off letters a–z only; marks on any other script's letters are part
    of how it is spelled (Devanagari vowel signs, Arabic vowel points)."""
    kept, base = [], ""
    for char in unicodedata.normalize("NFD", text):
        if _is_mark(char):
            if not ("a" <= base <= "z"):
                kept.append(char)
            continue
        base = char
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def slug_base(name: str) -> str:
    """The readable part of a signatory's slug, at most ``MAX_LENGTH`` characters:
    lower case, words joined by hyphens, ``"signatory"`` when nothing readable is left
    (a name of emoji or punctuation only)."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(_LATIN_LETTERS)
    words, word = [], []
    for char in _without_latin_accents(text):
        if char.isalnum() or (_is_mark(char) and word):
            word.append(char)
        elif _is_separator(char) and word:
            words.append("".join(word))
            word = []
    words.append("".join(word))
    slug = "-".join(w for w in words if w)
    if len(slug) > MAX_LENGTH:
        cut = MAX_LENGTH
        while cut and _is_mark(slug[cut]):  # never part a letter from its marks
            cut -= 1
        slug = slug[:cut].rstrip("-")
    return slug or FALLBACK


def validate_slug(value: str) -> None:
    """Letters and digits of any script, their marks, and hyphens, as ``slug_base`` makes
    them. Django's unicode slug validator refuses marks, so every Devanagari or Bengali
    name with a vowel sign."""
    if not value or not all(char in "-_" or char.isalnum() or _is_mark(char) for char in value):
        raise ValidationError(
            "Use letters (of any script), digits and hyphens, e.g. “zoe-zizek” or “张伟”.",
            code="invalid",
        )


def unique_slugs(names: Sequence[str], *, among: QuerySet, suffix: str = "") -> list[str]:
    """Free slugs for ``names``, in order: ``barnardos``, ``barnardos-2``… made by
    ``slug_base``, unlike each other and every slug in ``among`` (the signatories, less
    the one being renamed), found with a few bulk queries: one query checks every proposed
    slug, and only bases already taken fetch their ``base-N`` family.

    ``suffix`` ends every slug (``frida-okafor-3f9c``): where two requests may make a slug
    at the same moment, a random one keeps them from taking the same."""
    bases = [slug_base(name) + (f"-{suffix}" if suffix else "") for name in names]
    taken: set[str] = set()
    checked: set[str] = set()
    expanded: set[str] = set()
    while True:
        slugs = _allocate(bases, taken)
        unchecked = set(slugs) - checked
        found = _taken_slugs(among, unchecked)
        checked.update(unchecked)
        if not found:
            return slugs
        taken |= found
        clashing = {base for base, slug in zip(bases, slugs, strict=True) if slug in found}
        for chunk in chunks(sorted(clashing - expanded), SLUG_PREFIX_CHUNK):
            prefixes = Q.create(
                [("slug__startswith", f"{base}-") for base in chunk], connector=Q.OR
            )
            family = set(among.filter(prefixes).values_list("slug", flat=True))
            taken |= family
            checked |= family
        expanded |= clashing


def unique_slug(name: str, *, among: QuerySet, suffix: str = "") -> str:
    """``unique_slugs`` for one name."""
    return unique_slugs([name], among=among, suffix=suffix)[0]


def _taken_slugs(among: QuerySet, slugs: set[str]) -> set[str]:
    """Those of ``slugs`` that rows of ``among`` already have."""
    if not slugs:
        return set()
    existing = among.order_by().values_list("slug", flat=True)
    if connection.vendor == "postgresql":
        return set(existing.filter(EqualsAny(F("slug"), tuple(slugs))))
    found = set()
    for chunk in chunks(sorted(slugs), lookup_chunk()):
        found.update(existing.filter(slug__in=chunk))
    return found


def _allocate(bases: list[str], taken: set[str]) -> list[str]:
    used: set[str] = set()
    last_suffix: dict[str, int] = {}
    slugs = []
    for base in bases:
        slug = base
        if slug in taken or slug in used:
            n = last_suffix.get(base, 1)
            while slug in taken or slug in used:
                n += 1
                slug = f"{base}-{n}"
            last_suffix[base] = n
        used.add(slug)
        slugs.append(slug)
    return slugs

"""Throwaway translation catalogues for tests, written as compiled ``.mo`` files under a
test's ``tmp_path``: the site's own catalogues are made later, and a test of what is
translated (or of what must stay English) needs a French or German text to tell the
languages apart.

``install_catalogues(settings, tmp_path, {"fr": {...}})`` writes one ``django.mo`` per
language and points ``LOCALE_PATHS`` at them; Django forgets the translations it loaded
when that setting changes (and again when the test restores it). Each message is keyed by
its msgid, or ``(context, msgid)`` for a ``pgettext`` one; a plural one's msgid is
``(singular, plural)`` and its translation a tuple of forms.
"""

import struct
from pathlib import Path

PLURAL_FORMS = {
    "fr": "nplurals=2; plural=(n > 1);",
    "de": "nplurals=2; plural=(n != 1);",
}


def _key(msgid) -> str:
    """The msgid as a ``.mo`` file stores it: ``context\x04msgid`` for ``pgettext``."""
    if isinstance(msgid, tuple):
        context, msgid = msgid
        return f"{context}\x04{msgid}"
    return msgid


def mo_bytes(messages: dict, *, language: str) -> bytes:
    """A GNU ``.mo`` catalogue of ``messages`` (see the module's docstring)."""
    entries = {
        "": f"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: {PLURAL_FORMS[language]}\n"
    }
    for msgid, translation in messages.items():
        if isinstance(translation, tuple):  # a plural: msgid is (singular, plural)
            singular, plural = msgid
            entries[f"{singular}\x00{plural}"] = "\x00".join(translation)
        else:
            entries[_key(msgid)] = translation
    keys = sorted(entries, key=lambda key: key.encode())
    ids = [key.encode() for key in keys]
    strs = [entries[key].encode() for key in keys]
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    tables, data = [], b""
    for blob in (*ids, *strs):
        tables.append((len(blob), data_at + len(data)))
        data += blob + b"\x00"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    index = b"".join(struct.pack("<2I", length, offset) for length, offset in tables)
    return header + index + data


def install_catalogues(settings, root: Path, catalogues: dict[str, dict]) -> None:
    """Write ``catalogues`` (language → messages) under ``root`` and make them the site's
    ``LOCALE_PATHS``, as a test's ``settings`` change (undone after the test)."""
    for language, messages in catalogues.items():
        folder = root / language / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "django.mo").write_bytes(mo_bytes(messages, language=language))
    settings.LOCALE_PATHS = [str(root)]

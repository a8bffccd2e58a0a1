"""The translation catalogues are complete and current: every string marked in the code is
in each shipped language's catalogue, translated, none fuzzy, none left over, and the
compiled file the site reads says the same as the one translators edit.

`make messages` (Makefile) regenerates them; this is the check CI runs (README "Languages").
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SHIPPED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalogue(code: str, root: Path = ROOT) -> polib.POFile:
    return polib.pofile(str(root / "locale" / code / "LC_MESSAGES" / "django.po"))


def keyed(entries) -> set[tuple[str, str]]:
    return {(entry.msgctxt or "", entry.msgid) for entry in entries if not entry.obsolete}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """The catalogues as `make messages` would write them now, made in a copy so that the
    check changes nothing in the checkout."""
    copy = tmp_path_factory.mktemp("messages")
    for code in SHIPPED:
        (copy / "locale" / code / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(
            ROOT / "locale" / code / "LC_MESSAGES" / "django.po",
            copy / "locale" / code / "LC_MESSAGES" / "django.po",
        )
    makefile = (ROOT / "Makefile").read_text()
    ignore = makefile.split("MESSAGES_IGNORE :=", 1)[1].split("\nmessages:", 1)[0]
    patterns = [part.strip("'") for part in ignore.replace("\\\n", " ").split()]
    command = [
        sys.executable,
        "-c",
        "import os, sys, django; from django.conf import settings;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); settings.LOCALE_PATHS = [sys.argv[1]];"
        "from django.core.management import call_command;"
        "call_command('makemessages', *sys.argv[2:])",
        str(copy / "locale"),
        *[f"-l{code}" for code in SHIPPED],
        "--no-obsolete",
        "--add-location=file",
        *patterns,
        "-v0",
    ]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    return copy


@pytest.mark.parametrize("code", SHIPPED)
def test_the_catalogue_holds_every_marked_string_and_no_other(regenerated, code):
    committed = keyed(catalogue(code))
    current = keyed(catalogue(code, regenerated))
    assert current - committed == set(), "marked in the code, missing from the catalogue"
    assert committed - current == set(), "in the catalogue, no longer marked: make messages"


@pytest.mark.parametrize("code", SHIPPED)
def test_every_entry_is_translated_and_none_is_fuzzy(code):
    po = catalogue(code)
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == code
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert len(po.translated_entries()) == len([e for e in po if not e.obsolete]) > 0


@pytest.mark.parametrize("code", SHIPPED)
def test_the_compiled_catalogue_says_what_the_translators_wrote(code):
    po = catalogue(code)
    mo = polib.mofile(str(ROOT / "locale" / code / "LC_MESSAGES" / "django.mo"))

    def compiled(entries):
        return {
            (e.msgctxt or "", e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in entries
            if e.msgid
        }

    assert compiled(mo) == compiled(po.translated_entries()), "run: make messages"


@pytest.mark.parametrize("code", SHIPPED)
def test_placeholders_survive_translation(code):
    """A translation that drops or renames a %(name)s would raise or show the wrong value."""
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for entry in catalogue(code).translated_entries():
        if entry.msgid_plural:
            for form, text in entry.msgstr_plural.items():
                wanted = set(placeholder.findall(entry.msgid_plural)) | set(
                    placeholder.findall(entry.msgid)
                )
                assert set(placeholder.findall(text)) <= wanted, (entry.msgid, form)
        else:
            assert set(placeholder.findall(entry.msgstr)) == set(
                placeholder.findall(entry.msgid)
            ), entry.msgid

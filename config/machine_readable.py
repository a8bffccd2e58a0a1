"""Outputs that programs read keep one language: the CSV downloads, the JSON API, a
letter's ``count.json``, the delivered list's file and the import's known values.

Pages speak the reader's language, and the labels they show (a category, a verification,
a letter's status) are marked for translation, so they are lazy: turned into text in the
language active where they are read. A machine-readable output reads them here, in
``MACHINE_LANGUAGE``, whatever language the request that asked for it is in (a CSV fetched
under ``/fr/`` is the same file): stable codes, and English labels beside them. A file, a
digest over its rows (``signatories.delivered``) or a client's parser must never change
with the address it was fetched from.
"""

from collections.abc import Iterable
from functools import wraps

from django.utils import translation

# The site's source language: its labels are written in it.
MACHINE_LANGUAGE = "en-gb"


def english(text) -> str:
    """A label (lazy or not) as text in ``MACHINE_LANGUAGE``."""
    with translation.override(MACHINE_LANGUAGE):
        return str(text)


def english_labels(choices: Iterable[tuple]) -> dict:
    """``{value: label}`` of ``choices`` (a ``TextChoices.choices``), labels as English text."""
    with translation.override(MACHINE_LANGUAGE):
        return {value: str(label) for value, label in choices}


def in_english(view):
    """The view run, and its answer rendered, in ``MACHINE_LANGUAGE``: labels, messages
    and the addresses it reverses (no language prefix), whatever the request's language.
    A response rendered later (DRF's, a TemplateResponse) is rendered here, before the
    language is restored; it says ``Content-Language``, which the locale middleware then
    leaves as it is."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override(MACHINE_LANGUAGE):
            response = view(request, *args, **kwargs)
            if callable(getattr(response, "render", None)) and not response.is_rendered:
                response.render()
        response.headers.setdefault("Content-Language", MACHINE_LANGUAGE)
        return response

    return wrapper

"""The text a visitor reads: a letter's, a recipient's or an answer's, in the visitor's
language where a translation exists, else the original, each piece saying which it is.

``translated(queryset)`` reads the translation in the same query as the rows (a subquery per
field), so a page costs the same number of queries in every language. ``obj.text.<field>``
is then a ``Shown``: its value, the language it is in and whether it is a translation; a row
read without ``translated()`` shows its original.
"""

from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db.models import CharField, OuterRef, QuerySet, StringAgg, Subquery, Value
from django.utils import translation


def content_language(code: str | None = None) -> str:
    """The language code texts are stored under for an interface language: "en" for our
    "en-gb"; "fr" for "fr"."""
    return (code or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()


def translated(queryset: QuerySet, language: str | None = None) -> QuerySet:
    """``queryset`` with each row's translation into ``language`` (the active one by
    default) read in the same query. Letters also carry the codes of every translation
    they have (``translation_languages``), for the links to the others."""
    model = queryset.model
    translation_model = model.translations.rel.related_model
    parent = model.translations.field.name
    code = content_language(language)
    found = translation_model.objects.filter(**{parent: OuterRef("pk"), "language": code})
    annotations = {
        f"translated_{field}": Subquery(found.values(field)[:1])
        for field in translation_model.FIELDS
    }
    annotations["translated_by"] = Subquery(found.values("made_by")[:1])
    annotations["translated_language"] = Value(code, output_field=CharField())
    if getattr(model, "LISTS_TRANSLATIONS", False):
        annotations["translation_languages"] = Subquery(
            translation_model.objects.filter(**{parent: OuterRef("pk")})
            .values(parent)
            .annotate(codes=StringAgg("language", Value(",")))
            .values("codes")[:1]
        )
    return queryset.annotate(**annotations)


@dataclass(frozen=True)
class Shown:
    """One piece of text as shown: ``value``, the ``language`` it is in, and whether it
    is a translation (``translated``)."""

    value: str
    language: str
    translated: bool

    def __str__(self) -> str:
        return self.value

    def __bool__(self) -> bool:
        return bool(self.value)


class ShownText:
    def __init__(self, obj: "Translatable"):
        self._obj = obj
        self.original_language = obj.original_language
        self.made_by = getattr(obj, "translated_by", None) or ""
        self._language = getattr(obj, "translated_language", None)

    def __getattr__(self, field: str) -> Shown:
        if field.startswith("_") or field not in self._obj.TRANSLATED_FIELDS:
            raise AttributeError(field)
        value = getattr(self._obj, f"translated_{field}", None)
        if value and self._language:
            return Shown(value, self._language, True)
        return Shown(getattr(self._obj, field), self.original_language, False)

    @cached_property
    def translated_fields(self) -> list[str]:
        """The fields shown in translation (read from the annotations alone, so that a
        row read with ``.only()`` loads none of its deferred originals)."""
        if not self._language:
            return []
        return [
            field
            for field in self._obj.TRANSLATED_FIELDS
            if getattr(self._obj, f"translated_{field}", None)
        ]

    @property
    def is_translation(self) -> bool:
        return bool(self.translated_fields)

    @property
    def is_partial(self) -> bool:
        """Some of the text is translated and some is shown in the original."""
        present = [f for f in self._obj.TRANSLATED_FIELDS if getattr(self._obj, f)]
        return self.is_translation and len(self.translated_fields) < len(present)

    @property
    def language(self) -> str:
        """The language of the translation shown, else the original's."""
        return self._language if self.is_translation else self.original_language

    @property
    def made_for_this_site(self) -> bool:
        return self.made_by == "site"


class Translatable:
    """Mixin of the models whose public text can be translated (letters/models.py)."""

    TRANSLATED_FIELDS: tuple[str, ...] = ()

    @property
    def original_language(self) -> str:
        return content_language(settings.LANGUAGE_CODE)

    @cached_property
    def text(self) -> ShownText:
        return ShownText(self)


def language_name_local(code: str) -> str:
    """A language's name in itself ("Français"), for links to a text in that language."""
    try:
        return translation.get_language_info(code)["name_local"]
    except KeyError:
        return code


TEXT_PARAMETER = "text"


def interface_language_for(code: str) -> str | None:
    """The interface language whose pages show texts in ``code`` ("en-gb" for "en"), or
    None when the site has no pages in that language."""
    for interface_code, _name in settings.LANGUAGES:
        if content_language(interface_code) == code:
            return interface_code
    return None


def text_language(request) -> str | None:
    """The language a letter's text is asked for in: ``?text=<code>`` for a translation
    into a language the interface is not in, else None (the page's language)."""
    code = request.GET.get(TEXT_PARAMETER, "")
    if code and code.lower() == code and len(code) <= 16:
        from django.conf.locale import LANG_INFO

        if "name" in LANG_INFO.get(code, {}) and interface_language_for(code) is None:
            return code
    return None


def text_links(letter, request) -> list[dict]:
    """The letter in each language it has, original first: the page in that language where
    the site has one, else this page with ``?text=<code>``; the one shown is marked."""
    from django.urls import translate_url

    shown = letter.text.language
    path = letter.get_absolute_url()
    links = []
    for code in [letter.original_language, *letter.translation_codes]:
        interface = interface_language_for(code)
        url = translate_url(path, interface) if interface else f"{path}?{TEXT_PARAMETER}={code}"
        links.append(
            {
                "code": code,
                "name": language_name_local(code),
                "url": url,
                "original": code == letter.original_language,
                "current": code == shown,
            }
        )
    return links if len(links) > 1 else []


def with_letter_title(queryset: QuerySet, language: str | None = None) -> QuerySet:
    """Rows that point at a letter (a signature, an addressee), each with that letter's
    title in ``language`` read in the same query; ``attach_letter_title`` then gives it to
    the row's ``letter`` so that ``row.letter.text.title`` shows it."""
    letter_field = queryset.model._meta.get_field("letter")
    translation_model = letter_field.related_model.translations.rel.related_model
    code = content_language(language)
    found = translation_model.objects.filter(letter=OuterRef("letter_id"), language=code)
    return queryset.annotate(
        letter_translated_title=Subquery(found.values("title")[:1]),
        letter_translated_language=Value(code, output_field=CharField()),
    )


def attach_letter_title(rows):
    """Each row's letter takes the title ``with_letter_title`` read; returns ``rows``."""
    for row in rows:
        letter = row.letter
        letter.translated_title = getattr(row, "letter_translated_title", None)
        letter.translated_language = getattr(row, "letter_translated_language", None)
        letter.__dict__.pop("text", None)  # shown anew, with the translation
    return rows

from functools import lru_cache

import markdown as markdown_lib
import nh3
from django import template
from django.conf import settings
from django.http import QueryDict
from django.utils import translation
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@register.filter(is_safe=True)
def markdown(text: str) -> str:
    """Markdown to HTML, then sanitised: letter bodies come from staff, but a pasted
    script or event handler must never run on a public page."""
    return mark_safe(_sanitised_html(text or ""))


@lru_cache(maxsize=64)
def _sanitised_html(text: str) -> str:
    """A pure function of the text, so each process converts a letter once per edit."""
    html = markdown_lib.markdown(text, extensions=["extra", "sane_lists"])
    return nh3.clean(html, url_schemes=ALLOWED_URL_SCHEMES, link_rel="noopener noreferrer nofollow")


@register.filter
def lower_in_english(label) -> str:
    """A choice label inside an English sentence ("Anonymous survivor", "(full text)"):
    lower-cased in English only, since other languages' nouns keep their capitals
    (German) or read better as written."""
    label = str(label)
    return label.lower() if translation.get_language() == settings.LANGUAGE_CODE else label


@register.filter
def nonempty(params: QueryDict) -> QueryDict:
    """The query parameters without the empty ones a GET form sends for fields left
    blank, for links built with ``{% querystring %}``: a shared link carries only what
    the reader chose."""
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        values = [value for value in values if value.strip()]
        if values:
            kept.setlist(key, values)
    return kept


@register.filter
def reported_leads(letter, recorded: int) -> bool:
    """``Letter.reported_figure_leads`` for a template: whether the organisers' figure
    is the headline."""
    return letter.reported_figure_leads(recorded or 0)

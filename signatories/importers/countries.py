"""Country names as people write them in a file: ISO codes, ISO's English names, common
English aliases, and each country's name in the languages django-countries translates
it into (“Deutschland”, “España”, “Danmark”…)."""

import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import django_countries
from django.utils import translation
from django_countries import countries

# Names people write that are not ISO's English names; ISO's own (current and former)
# names and codes come from django-countries.
COUNTRY_ALIASES = {
    "GB": [
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ],
    "US": ["USA", "U.S.A.", "U.S.", "United States", "America"],
    "AE": ["UAE", "U.A.E."],
    "CD": ["DRC", "DR Congo", "Congo-Kinshasa"],
    "CG": ["Republic of the Congo", "Congo-Brazzaville"],
    "CI": ["Ivory Coast"],
    "CV": ["Cape Verde"],
    "IE": ["Republic of Ireland", "Eire"],
    "KR": ["Republic of Korea"],
    "MM": ["Burma"],
    "NL": ["Holland"],
    "TL": ["East Timor"],
    "VA": ["Vatican", "Holy See"],
    "MO": ["Macau"],
}


def _country_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = " ".join(text.replace(".", " ").replace(",", " ").split())
    return text.removeprefix("the ")


def _catalogue_languages() -> list[str]:
    """The languages django-countries has country names in (its own translations, kept
    with the package): German, French, Spanish, Danish, Dutch, Greek, Thai… all but
    English, which is read first."""
    locale = Path(django_countries.__file__).parent / "locale"
    found = {
        translation.to_language(folder.name.partition("@")[0])
        for folder in locale.iterdir()
        if (folder / "LC_MESSAGES" / "django.mo").exists()
    }
    return sorted(found - {"en"})


@cache
def _country_lookup() -> dict[str, str]:
    """Every name a country may be written with, folded (``_country_key``) → its code:
    ISO's English names (current and former), the aliases above, alpha-3 and alpha-2
    codes, then its name in each language django-countries translates it into. A name
    that means two countries in two languages is left out rather than guessed."""
    lookup: dict[str, str] = {}
    with translation.override("en"):
        for code, name in countries:
            lookup[_country_key(name)] = code
            for old_name in countries.shadowed_names.get(code, []):
                lookup.setdefault(_country_key(str(old_name)), code)
    for code, aliases in COUNTRY_ALIASES.items():
        for alias in aliases:
            lookup[_country_key(alias)] = code
    for code, (alpha3, _numeric) in countries.alt_codes.items():
        if code in countries:
            lookup[alpha3.casefold()] = code
    for code in countries.countries:
        lookup[code.casefold()] = code
    translated: dict[str, set[str]] = {}
    for language in _catalogue_languages():
        with translation.override(language):
            for code, name in countries:
                translated.setdefault(_country_key(str(name)), set()).add(code)
    for key, codes in translated.items():
        if len(codes) == 1 and key not in lookup:
            lookup[key] = codes.pop()
    return lookup


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    return _country_lookup().get(_country_key(text))

"""The world map of signatures by country, drawn on the server as inline SVG.

The geometry is a static asset (``signatories/data/world-110m.json``, made by the
``build_world_map`` command from Natural Earth via world-atlas), read once per process.
Shading uses counts a page already has: drawing the map runs no query.
"""

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext
from django_countries import countries as all_countries

ASSET = Path(__file__).resolve().parent / "data" / "world-110m.json"
SHADES = 5
NICE_STEPS = (1, 2, 3, 5)


@functools.cache
def geometry() -> dict:
    """The map asset, parsed once per process, its path data escaped once for HTML."""
    asset = json.loads(ASSET.read_text())
    asset["countries"] = {code: escape(d) for code, d in asset["countries"].items()}
    asset["unlinked"] = [{**shape, "d": escape(shape["d"])} for shape in asset["unlinked"]]
    return asset


@functools.cache
def country_names(language: str | None) -> dict[str, str]:
    """Every country's name in ``language``: one pass over django-countries' list, kept
    per language, instead of a lookup per country drawn on every page."""
    with translation.override(language):
        return {country.code: str(country.name) for country in all_countries}


def country_count_label(name: str, count: int, noun: str) -> str:
    """A country's link on the map, named with its count: "France: 1,234 signatories".
    ``noun`` is "signatory,signatories" or "signature,signatures" (as ``pluralize`` takes
    it), each a whole sentence for translators; another noun is put together in English."""
    figure = number_format(count, force_grouping=True)
    values = {"country": name, "count": figure}
    if noun == "signatory,signatories":
        return (
            ngettext(
                "%(country)s: %(count)s signatory", "%(country)s: %(count)s signatories", count
            )
            % values
        )
    if noun == "signature,signatures":
        return (
            ngettext("%(country)s: %(count)s signature", "%(country)s: %(count)s signatures", count)
            % values
        )
    return f"{name}: {figure} {pluralize(count, noun)}"


@dataclass(frozen=True)
class Shade:
    """A bucket of counts, ``low``–``high`` inclusive, drawn in shade ``level`` (1 light
    to ``SHADES`` dark)."""

    level: int
    low: int
    high: int

    @property
    def is_single(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class MapCountry:
    code: str
    name: str
    d: str
    count: int
    shade: Shade | None
    current: bool = False


@dataclass(frozen=True)
class WorldMap:
    view_box: str
    countries: list[MapCountry]  # with signatures last, so their outlines draw on top
    unlinked: list[str]
    legend: list[Shade]
    not_drawn: list[MapCountry]  # with signatures but too small for this map's scale

    def shapes(self, noun: str = "signatory,signatories") -> SafeString:
        """The SVG inside the map: the land without signatures (decoration, hidden from
        assistive technology), then each country with signatures as a link named with
        its count. Built here rather than by template loops over ~180 shapes, which cost
        a letter page more than everything else on it."""
        land = "".join(f'<path d="{d}"/>' for d in self.unlinked)
        land += "".join(f'<path d="{c.d}"/>' for c in self.countries if not c.count)
        linked = []
        for country in self.countries:
            if not country.count:
                continue
            label = country_count_label(country.name, country.count, noun)
            linked.append(
                format_html(
                    '<a href="{}" aria-label="{}"{}><title>{}</title>'
                    '<path class="shade-{}{}" d="{}"/></a>',
                    reverse("signatories:country_detail", args=[country.code]),
                    label,
                    mark_safe(' aria-current="page"') if country.current else "",
                    label,
                    country.shade.level,
                    " map-current" if country.current else "",
                    mark_safe(country.d),  # escaped once, in geometry()
                )
            )
        # The path data was escaped when the asset was read; names and counts above.
        return mark_safe(f'<g class="map-land" aria-hidden="true">{land}</g>' + "".join(linked))


def _nice(value: float) -> int:
    """The 1-2-3-5 × 10ⁿ number nearest ``value`` on a log scale."""
    exponent = math.floor(math.log10(value))
    candidates = [step * 10**e for e in (exponent, exponent + 1) for step in NICE_STEPS]
    return min(candidates, key=lambda c: abs(math.log(c) - math.log(value)))


def shades_for(largest: int) -> list[Shade]:
    """Up to ``SHADES`` buckets from 1 to ``largest`` on a log scale with round bounds,
    so one country with a million signatures still leaves the ones with ten visible."""
    if largest < 1:
        return []
    if largest <= SHADES:
        lows = list(range(1, largest + 1))
    else:
        lows = [1]
        for k in range(1, SHADES):
            low = _nice(largest ** (k / SHADES))
            if lows[-1] < low <= largest:
                lows.append(low)
    highs = [low - 1 for low in lows[1:]] + [largest]
    # Spread the levels over the palette: 3 buckets are light, middle and dark.
    last = len(lows) - 1
    return [
        Shade(
            level=SHADES if last == 0 else 1 + round(i * (SHADES - 1) / last),
            low=low,
            high=high,
        )
        for i, (low, high) in enumerate(zip(lows, highs, strict=True))
    ]


def world_map(counts: Mapping[str, int], *, current: str = "") -> WorldMap:
    """The map for ``counts`` (alpha-2 code → signatures); ``current`` marks the country
    whose page this is."""
    asset = geometry()
    names = country_names(translation.get_language())
    counts = {code: count for code, count in counts.items() if code and count > 0}
    legend = shades_for(max(counts.values(), default=0))
    if len(counts) == 1:  # one country (its own page, a first signature): one shade
        (only,) = counts.values()
        legend = [Shade(level=SHADES, low=only, high=only)]

    def shade_of(count: int) -> Shade | None:
        return next((s for s in legend if s.low <= count <= s.high), None)

    drawn = [
        MapCountry(
            code=code,
            name=names.get(code, code),
            d=d,
            count=counts.get(code, 0),
            shade=shade_of(counts.get(code, 0)),
            current=code == current,
        )
        for code, d in asset["countries"].items()
    ]
    drawn.sort(key=lambda c: (c.count > 0, c.current))
    return WorldMap(
        view_box=asset["viewBox"],
        countries=drawn,
        unlinked=[shape["d"] for shape in asset["unlinked"]],
        legend=legend,
        not_drawn=sorted(
            (
                MapCountry(code, names.get(code, code), "", count, shade_of(count))
                for code, count in counts.items()
                if code not in asset["countries"]
            ),
            key=lambda country: (-country.count, country.name),
        ),
    )

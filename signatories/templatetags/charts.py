from django import template
from django.urls import reverse
from django.utils.html import format_html_join

from signatories.charts import chart
from signatories.world_map import world_map

register = template.Library()

# How many of the countries too small to draw the map's note names, as links.
NOT_DRAWN_NAMED = 3


@register.inclusion_tag("includes/bars.html")
def bar_chart(bars, *, caption: str, label_heading: str, link_countries: bool = False):
    """A table of counts with bars scaled to the largest, top ten plus "others"."""
    return {
        "chart": chart(bars),
        "caption": caption,
        "label_heading": label_heading,
        "link_countries": link_countries,
    }


@register.inclusion_tag("includes/world_map.html")
def signature_map(counts, *, label: str, noun: str = "signatory,signatories", current: str = ""):
    """The world map shaded by ``counts`` (alpha-2 code → signatures)."""
    drawn = world_map(counts, current=current)
    return {
        "map": drawn,
        "shapes": drawn.shapes(noun),
        "label": label,
        "noun": noun,
        # Links, so that the note names them inside one translatable sentence.
        "not_drawn_links": format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("signatories:country_detail", args=[country.code]), country.name)
                for country in drawn.not_drawn[:NOT_DRAWN_NAMED]
            ),
        ),
    }

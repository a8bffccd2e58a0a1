"""The letter page's "Who signed" charts and the world map on the letter, countries and
country pages: bars scaled to the largest, top ten plus others, and a map whose shaded
countries link to their pages with their counts in their names."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django_countries.fields import Country

from signatories.charts import chart
from signatories.stats import Bar
from signatories.world_map import geometry, shades_for
from tests.factories import make_letter, make_many_signatures, make_signatory, make_signature

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """Bar rows of each chart by caption, and the map's links and unlinked shapes."""

    def __init__(self):
        super().__init__()
        self.charts: dict[str, list[dict]] = {}
        self.map_links: list[dict] = []
        self.hidden_paths = 0
        self.map_svg: dict | None = None
        self._caption = self._row = self._link = None
        self._in_caption = self._in_title = self._in_hidden = False
        self._cell_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "caption":
            self._in_caption, self._caption = True, ""
        elif tag == "tr" and self._caption is not None:
            self._row = {"cells": [], "width": None}
            self._cell_text = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell_text = []
        elif tag == "rect" and self._row is not None and "bar-fill" in a.get("class", ""):
            self._row["width"] = float(a["width"].rstrip("%"))
        elif tag == "svg" and "map" in (a.get("class") or "").split():
            self.map_svg = a
        elif tag == "g" and a.get("class") == "map-land":
            self._in_hidden = a.get("aria-hidden") == "true"
        elif tag == "path" and self._in_hidden:
            self.hidden_paths += 1
        elif tag == "a" and self.map_svg is not None and "aria-label" in a:
            self._link = {**a, "title": "", "shade": None}
        elif tag == "title" and self._link is not None:
            self._in_title = True
        elif tag == "path" and self._link is not None:
            self._link["shade"] = a.get("class")

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
            self.charts[self._caption] = []
        elif tag in ("th", "td") and self._row is not None:
            self._row["cells"].append(" ".join("".join(self._cell_text).split()))
        elif tag == "tr" and self._row is not None:
            if self._row["cells"] and not self._row["cells"][0].endswith(("Category", "Country")):
                self.charts[self._caption].append(self._row)
            self._row = None
        elif tag == "table":
            self._caption = None
        elif tag == "g":
            self._in_hidden = False
        elif tag == "title":
            self._in_title = False
        elif tag == "a" and self._link is not None:
            self.map_links.append(self._link)
            self._link = None

    def handle_data(self, data):
        if self._in_caption:
            self._caption += data.strip()
        if self._row is not None:
            self._cell_text.append(data)
        if self._in_title:
            self._link["title"] += data


def read(client, url) -> Page:
    response = client.get(url)
    assert response.status_code == 200
    page = Page()
    page.feed(response.content.decode())
    return page


def letter_url(letter) -> str:
    return reverse("letters:detail", args=[letter.slug])


def signed_from(letter, counts: dict[str, int]) -> None:
    for code, count in counts.items():
        make_many_signatures(letter, count, countries=(code,))


def test_largest_bar_is_full_width_and_the_others_in_proportion(client):
    letter = make_letter()
    signed_from(letter, {"GB": 8, "FR": 4, "US": 2})

    rows = read(client, letter_url(letter)).charts["By country"]

    assert [(row["cells"][:2], row["width"]) for row in rows] == [
        ([Country("GB").name, "8"], 100.0),
        ([Country("FR").name, "4"], 50.0),
        ([Country("US").name, "2"], 25.0),
    ]


def test_past_ten_countries_the_rest_are_summed_into_one_others_row(client):
    letter = make_letter()
    codes = ["GB", "US", "FR", "DE", "CA", "AU", "IE", "NL", "ES", "IT", "BR", "IN", "JP"]
    signed_from(letter, {code: 20 - i for i, code in enumerate(codes)})

    rows = read(client, letter_url(letter)).charts["By country"]

    assert [row["cells"][0] for row in rows[:10]] == [Country(c).name for c in codes[:10]]
    assert rows[10]["cells"][:2] == ["Others (3 more)", str(10 + 9 + 8)]
    assert rows[10]["width"] is None  # a sum of rows is not drawn as if it were one
    assert len(rows) == 11


def test_eleven_rows_show_all_eleven_rather_than_others_of_one():
    bars = [Bar(label=str(i), count=20 - i, percent=0) for i in range(11)]

    drawn = chart(bars)

    assert len(drawn.rows) == 11
    assert drawn.others_rows == 0


def test_a_count_of_one_beside_a_million_still_draws_a_sliver():
    drawn = chart([Bar("big", 1_000_000, 99.9), Bar("small", 1, 0.0)])

    assert [row.width for row in drawn.rows] == [100.0, 1.0]


def test_countries_with_signatures_link_to_their_pages_with_their_count_as_name(client):
    letter = make_letter()
    signed_from(letter, {"FR": 12, "BR": 1})

    page = read(client, letter_url(letter))

    links = {link["href"]: link for link in page.map_links}
    assert set(links) == {
        reverse("signatories:country_detail", args=["FR"]),
        reverse("signatories:country_detail", args=["BR"]),
    }
    france = links[reverse("signatories:country_detail", args=["FR"])]
    assert france["aria-label"] == "France: 12 signatories"
    assert france["title"] == "France: 12 signatories"
    assert links[reverse("signatories:country_detail", args=["BR"])]["aria-label"] == (
        "Brazil: 1 signatory"
    )
    # every other country is drawn, hidden from assistive technology, and not a link
    assert page.hidden_paths == len(geometry()["countries"]) - 2 + len(geometry()["unlinked"])
    assert page.map_svg["role"] == "group"


def test_map_shades_countries_by_bucket(client):
    letter = make_letter()
    signed_from(letter, {"GB": 170, "FR": 15, "US": 1})

    page = read(client, letter_url(letter))

    shade = {link["aria-label"].split(":")[0]: link["shade"] for link in page.map_links}
    assert shade == {
        Country("GB").name: "shade-5",  # 50–170
        "France": "shade-3",  # 10–19
        Country("US").name: "shade-1",  # 1–2
    }


def test_one_dominant_country_leaves_the_small_ones_in_distinct_buckets():
    shades = shades_for(1_000_000)

    assert [(s.low, s.high) for s in shades] == [
        (1, 19),
        (20, 299),
        (300, 4_999),
        (5_000, 49_999),
        (50_000, 1_000_000),
    ]
    assert [s.level for s in shades] == [1, 2, 3, 4, 5]


def test_legend_shows_ranges_with_thousands_separated(client):
    letter = make_letter()
    signed_from(letter, {"GB": 1_200, "FR": 1})

    html = client.get(letter_url(letter)).content.decode()

    legend = re.search(r'<ul class="map-legend".*?</ul>', html, re.S).group(0)
    assert re.sub(r"<[^>]+>|\s+", " ", legend).split() == (
        ["1–4", "5–19", "20–49", "50–299", "300–1,200"]
    )


def test_a_country_too_small_to_draw_is_still_in_the_table_and_named_by_the_map(client):
    assert "MT" not in geometry()["countries"]
    letter = make_letter()
    signed_from(letter, {"GB": 2, "MT": 1})

    page = read(client, letter_url(letter))
    html = client.get(letter_url(letter)).content.decode()

    assert [row["cells"][:2] for row in page.charts["By country"]] == [
        [Country("GB").name, "2"],
        ["Malta", "1"],
    ]
    assert [link["aria-label"] for link in page.map_links] == [
        f"{Country('GB').name}: 2 signatories"
    ]
    note = re.search(r'<p class="map-note.*?</p>', html, re.S).group(0)
    assert "Small states" in note
    assert reverse("signatories:country_detail", args=["MT"]) in note


def test_letter_without_signatures_draws_no_map(client):
    letter = make_letter()

    page = read(client, letter_url(letter))

    assert page.map_svg is None


def test_countries_list_map_links_every_country_with_signatures(client):
    signed_from(make_letter(), {"GB": 3, "FR": 1})
    signed_from(make_letter(), {"GB": 2})

    page = read(client, reverse("signatories:country_list"))

    assert sorted(link["aria-label"] for link in page.map_links) == [
        "France: 1 signature",
        f"{Country('GB').name}: 5 signatures",
    ]


def test_country_page_map_highlights_that_country(client):
    make_signature(make_letter(), make_signatory(country="FR"))

    page = read(client, reverse("signatories:country_detail", args=["FR"]))

    assert len(page.map_links) == 1
    assert page.map_links[0]["aria-current"] == "page"
    assert page.map_links[0]["aria-label"] == "France: 1 signature"
    assert "map-current" in page.map_links[0]["shade"]


def test_map_asset_has_shapes_for_large_countries_and_no_antarctica():
    countries = geometry()["countries"]

    for code in ("GB", "US", "FR", "BR", "AU", "RU", "FJ"):
        assert countries[code].startswith("M"), code
    assert "AQ" not in countries
    assert geometry() is geometry()  # parsed once per process

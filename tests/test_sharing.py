"""Sharing a letter: the tags link previews read, the image they show, the share links,
and what search engines are told (canonical addresses, robots.txt, sitemap.xml)."""

import io
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from letters.models import Letter
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_person,
    make_recipient,
    make_signature,
)
from tests.helpers import sign
from tests.test_signing import last_links

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


class _Head(HTMLParser):
    """<meta> and <link> tags as a link preview reads them, and the share links."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.anchors: list[tuple[str, str]] = []  # (href, accessible name)
        self.inputs: list[dict] = []
        self.labels: dict[str, str] = {}
        self._anchor: tuple[str, list[str]] | None = None
        self._label: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            self.meta[attrs.get("property") or attrs.get("name")] = attrs["content"]
        elif tag == "link":
            self.links[attrs["rel"]] = attrs["href"]
        elif tag == "a":
            self._anchor = (attrs.get("href", ""), [])
        elif tag == "input":
            self.inputs.append(attrs)
        elif tag == "label":
            self._label = (attrs.get("for", ""), [])

    def handle_data(self, data):
        for current in (self._anchor, self._label):
            if current:
                current[1].append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor:
            self.anchors.append((self._anchor[0], " ".join("".join(self._anchor[1]).split())))
            self._anchor = None
        elif tag == "label" and self._label:
            self.labels[self._label[0]] = " ".join("".join(self._label[1]).split())
            self._label = None


def parsed(response) -> _Head:
    parser = _Head()
    parser.feed(response.content.decode())
    return parser


def share_image(client, letter: Letter):
    return client.get(reverse("letters:share_image", args=[letter.slug]))


def image_of(response) -> Image.Image:
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def absolute(path: str) -> str:
    return settings.SITE_URL + path


# Link previews


def test_letter_page_has_open_graph_and_card_tags_with_absolute_urls(client, settings):
    settings.SITE_URL = "https://letters.example.org"
    letter = make_letter(title="Protect children online", summary="We ask for three things.")
    make_many_signatures(letter, 12)

    page = parsed(client.get(letter.get_absolute_url() + "?kind=organisation&utm_source=x"))

    url = f"https://letters.example.org/letters/{letter.slug}/"
    assert page.meta["og:type"] == "article"
    assert page.meta["og:site_name"] == "Undersigned"
    assert page.meta["og:title"] == "Protect children online"
    assert page.meta["og:description"] == "We ask for three things."
    assert page.meta["og:url"] == url
    assert page.meta["og:image"] == url + "share.png"
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "630")
    assert page.meta["og:image:alt"] == "Protect children online: 12 signatories"
    assert page.meta["twitter:card"] == "summary_large_image"
    assert page.meta["twitter:image"] == url + "share.png"
    assert page.links["canonical"] == url


def test_image_alt_leads_with_the_reported_figure_while_it_is_larger(client):
    letter = make_letter(reported_signatories=100, reported_signatories_is_minimum=True)
    make_many_signatures(letter, 9)

    page = parsed(client.get(letter.get_absolute_url()))

    assert page.meta["og:image:alt"] == (
        f"{letter.title}: More than 100 signatories, reported by the organisers · 9 listed here"
    )


@pytest.mark.parametrize(
    ("url_name", "args", "path"),
    [
        ("letters:home", [], "/"),
        ("letters:list", [], "/letters/"),
        ("letters:recipient_list", [], "/recipients/"),
        ("signatories:country_list", [], "/countries/"),
        ("signatories:country_detail", ["GB"], "/countries/GB/"),
        ("signatories:privacy", [], "/privacy/"),
    ],
)
def test_public_pages_name_their_own_address_as_canonical_without_the_query(
    client, url_name, args, path
):
    make_many_signatures(make_letter(), 3, countries=("GB",))

    page = parsed(client.get(reverse(url_name, args=args) + "?page=2&utm_campaign=x"))

    assert page.links["canonical"] == absolute(path)


def test_recipient_and_signatory_pages_have_canonical_links(client):
    letter = make_letter()
    recipient = make_recipient()
    make_addressee(letter, recipient)
    signature = make_signature(letter, make_person("Grace Hopper"))

    recipient_page = parsed(client.get(recipient.get_absolute_url()))
    signatory_page = parsed(client.get(signature.signatory.get_absolute_url()))

    assert recipient_page.links["canonical"] == absolute(recipient.get_absolute_url())
    assert signatory_page.links["canonical"] == absolute(signature.signatory.get_absolute_url())


def test_not_found_and_emailed_link_pages_have_no_canonical_link(client):
    letter = make_letter(accepts_public_signatures=True)
    sign(client, letter)
    confirm_path = last_links("ada@example.net")["confirm"]

    missing = parsed(client.get("/letters/no-such-letter/"))
    confirm_page = parsed(client.get(confirm_path))

    assert "canonical" not in missing.links
    assert "canonical" not in confirm_page.links
    assert "og:title" not in missing.meta


# The share image


def test_share_image_is_a_1200_by_630_png(client):
    letter = make_letter()
    make_many_signatures(letter, 5)

    response = share_image(client, letter)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = image_of(response)
    assert image.format == "PNG"
    assert image.size == (1200, 630)


def test_share_image_says_the_title_and_the_count_and_nothing_else(client):
    letter = make_letter(title="Protéger les enfants — now")
    make_signature(letter, make_person("Zebedee Quartermaine"))

    image = image_of(share_image(client, letter))

    assert image.text["Title"] == "Protéger les enfants — now"
    assert image.text["Description"] == "1 signatory\nUndersigned"


def test_share_image_changes_when_the_count_changes(client):
    letter = make_letter()
    make_many_signatures(letter, 3)
    before = share_image(client, letter)

    make_many_signatures(letter, 4)
    after = share_image(client, letter)

    assert image_of(before).text["Description"].startswith("3 signatories")
    assert image_of(after).text["Description"].startswith("7 signatories")
    assert before.content != after.content
    assert before["ETag"] != after["ETag"]


def test_share_image_is_drawn_once_for_the_same_figures(client, settings):
    letter = make_letter()
    make_many_signatures(letter, 3)
    share_image(client, letter)
    cached = [key for key in cache._cache if "share-png" in key]  # LocMemCache's store

    again = share_image(client, letter)

    assert len(cached) == 1
    assert again.status_code == 200
    assert [key for key in cache._cache if "share-png" in key] == cached


def test_share_image_leads_with_the_reported_figure_labelled_while_it_is_larger(client):
    letter = make_letter(reported_signatories=100, reported_signatories_is_minimum=True)
    make_many_signatures(letter, 9)
    reported = image_of(share_image(client, letter)).text["Description"]

    make_many_signatures(letter, 120)
    recorded = image_of(share_image(client, letter)).text["Description"]

    assert (
        reported
        == "More than 100 signatories\nreported by the organisers · 9 listed here\nUndersigned"
    )
    assert recorded == "129 signatories\nUndersigned"


def test_share_image_and_page_lead_with_the_same_figure_when_the_list_equals_a_minimum(client):
    """ "More than 100" reported with 100 listed: the organisers' figure still leads, on the
    page and in the image alike (one rule, ``Letter.reported_figure_leads``)."""
    letter = make_letter(reported_signatories=100, reported_signatories_is_minimum=True)
    make_many_signatures(letter, 100)

    image = image_of(share_image(client, letter)).text["Description"]
    page = parsed(client.get(letter.get_absolute_url()))

    assert image.startswith("More than 100 signatories\nreported by the organisers")
    assert page.meta["og:image:alt"].endswith(
        "More than 100 signatories, reported by the organisers · 100 listed here"
    )


@pytest.mark.parametrize(
    "title",
    [("A very long title " * 14)[:250], "Unbreakable" * 22],
    ids=["many-words", "one-long-word"],
)
def test_share_image_fits_a_title_of_the_longest_length(client, title):
    letter = make_letter(title=title)

    response = share_image(client, letter)

    assert response.status_code == 200
    assert image_of(response).size == (1200, 630)


def test_share_image_is_cached_publicly_with_an_etag_like_other_public_pages(client):
    letter = make_letter()

    response = share_image(client, letter)
    revalidated = client.get(
        reverse("letters:share_image", args=[letter.slug]), HTTP_IF_NONE_MATCH=response["ETag"]
    )

    assert "public" in response["Cache-Control"]
    assert f"max-age={settings.PUBLIC_CACHE_SECONDS}" in response["Cache-Control"]
    assert revalidated.status_code == 304


@pytest.mark.parametrize("slug", ["draft", "no-such-letter"])
def test_share_image_of_a_draft_or_unknown_letter_is_not_found(client, slug):
    make_letter(slug="draft", status=Letter.Status.DRAFT)

    response = client.get(reverse("letters:share_image", args=[slug]))

    assert response.status_code == 404


def test_share_image_runs_the_same_queries_for_few_and_many_signatures(client):
    letter = make_letter()
    make_many_signatures(letter, 3)
    with CaptureQueriesContext(connection) as few:
        assert share_image(client, letter).status_code == 200

    make_many_signatures(letter, 300, countries=("GB", "US", "FR", "DE", "IE", "NL"))
    cache.clear()  # drawn afresh for the new count, as in production
    with CaptureQueriesContext(connection) as many:
        assert share_image(client, letter).status_code == 200

    assert len(few) == len(many) == 1


# Share links


def test_letter_page_has_share_links_with_the_letter_address_encoded(client, settings):
    settings.SITE_URL = "https://letters.example.org"
    letter = make_letter(title="Kids & screens: act now", summary="Three asks.")
    url = f"https://letters.example.org/letters/{letter.slug}/"

    page = parsed(client.get(letter.get_absolute_url()))

    links = {name: href for href, name in page.anchors if name.startswith("Share ")}
    assert set(links) == {
        "Share by Email",
        "Share on X",
        "Share on Bluesky",
        "Share on Mastodon",
        "Share on LinkedIn",
        "Share on WhatsApp",
    }

    def query(name):
        return {k: v for k, [v] in parse_qs(urlsplit(links[name]).query).items()}

    assert links["Share by Email"].startswith("mailto:?")
    assert "+" not in links["Share by Email"]  # mail programs read "+" as a plus sign
    assert query("Share by Email")["subject"] == "Kids & screens: act now"
    assert query("Share by Email")["body"].endswith(f"Read and sign: {url}")
    assert links["Share on X"].startswith("https://twitter.com/intent/tweet?")
    assert query("Share on X") == {"text": "Kids & screens: act now", "url": url}
    assert links["Share on Bluesky"].startswith("https://bsky.app/intent/compose?")
    assert query("Share on Bluesky") == {"text": f"Kids & screens: act now {url}"}
    assert links["Share on Mastodon"].startswith("https://s2f.kytta.dev/?")
    assert query("Share on Mastodon") == {"text": f"Kids & screens: act now {url}"}
    assert links["Share on LinkedIn"].startswith("https://www.linkedin.com/sharing/share-offsite/?")
    assert query("Share on LinkedIn") == {"url": url}
    assert links["Share on WhatsApp"].startswith("https://wa.me/?")
    assert query("Share on WhatsApp") == {"text": f"Kids & screens: act now {url}"}


def test_letter_page_offers_the_link_to_copy_in_a_labelled_read_only_field(client):
    letter = make_letter()

    page = parsed(client.get(letter.get_absolute_url()))

    [field] = [i for i in page.inputs if i.get("id") == "share-url"]
    assert field["value"] == absolute(letter.get_absolute_url())
    assert "readonly" in field
    assert page.labels["share-url"] == "Or copy the link to this letter"


def test_share_links_open_normally_without_a_script(client):
    letter = make_letter()

    body = client.get(letter.get_absolute_url()).content.decode()

    assert "<script" not in body
    assert "window.open" not in body
    assert 'target="_blank"' not in body


@pytest.mark.parametrize("moderated", [False, True], ids=["published", "held"])
def test_thank_you_page_invites_the_signer_to_share(client, moderated):
    letter = make_letter(accepts_public_signatures=True, moderate_public_signatures=moderated)
    sign(client, letter)

    response = client.post(last_links("ada@example.net")["confirm"])

    page = parsed(response)
    content = response.content.decode()
    assert "Thank you: your signature is confirmed" in content
    assert "Ask others to sign" in content
    assert "share it with people who would sign it too" in content.casefold()
    names = [name for _href, name in page.anchors]
    assert "Share on Bluesky" in names and "Share by Email" in names
    [field] = [i for i in page.inputs if i.get("id") == "share-url"]
    assert field["value"] == absolute(letter.get_absolute_url())


def test_confirm_page_before_confirming_offers_no_share_links(client):
    letter = make_letter(accepts_public_signatures=True)
    sign(client, letter)

    page = parsed(client.get(last_links("ada@example.net")["confirm"]))

    assert not [name for _href, name in page.anchors if name.startswith("Share ")]


# Favicon, robots.txt, sitemap.xml


def test_pages_name_an_svg_favicon_that_is_served(client):
    page = parsed(client.get("/"))

    icon = client.get(page.links["icon"])

    assert page.links["icon"].endswith(".svg")
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)


def test_favicon_ico_leads_to_the_svg_favicon(client):
    response = client.get("/favicon.ico")
    icon = client.get("/favicon.ico", follow=True)

    assert response.status_code == 302
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)


def test_robots_txt_allows_public_pages_and_keeps_out_the_admin_and_emailed_links(client):
    response = client.get("/robots.txt")

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/plain")
    assert lines[0] == "User-agent: *"
    disallowed = [line.removeprefix("Disallow: ") for line in lines if line.startswith("Disallow")]
    assert disallowed == [
        "/admin/",
        "/letters/*/confirm/",
        "/letters/*/withdraw/",
        "/letters/*/news/stop/",
        "/letters/*/sign/sent/",
        "/*/letters/*/confirm/",
        "/*/letters/*/withdraw/",
        "/*/letters/*/news/stop/",
        "/*/letters/*/sign/sent/",
        "/language/",
    ]
    assert not any(path in ("/", "/letters/") for path in disallowed)
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in lines


def sitemap_locations(client) -> list[str]:
    """Every address the sitemap index leads to, read as a crawler would."""
    index = ET.fromstring(client.get("/sitemap.xml").content)
    locations = []
    for sitemap_url in index.findall("sm:sitemap/sm:loc", SITEMAP_NS):
        assert sitemap_url.text.startswith(settings.SITE_URL)
        response = client.get(sitemap_url.text.removeprefix(settings.SITE_URL))
        assert response.status_code == 200
        urlset = ET.fromstring(response.content)
        locations += [loc.text for loc in urlset.findall("sm:url/sm:loc", SITEMAP_NS)]
    return locations


def test_sitemap_lists_public_pages_and_published_letters_never_drafts(client):
    open_letter = make_letter(status=Letter.Status.OPEN)
    closed_letter = make_letter(status=Letter.Status.CLOSED)
    draft = make_letter(status=Letter.Status.DRAFT)
    named = make_signature(open_letter, make_person("Grace Hopper"))
    make_many_signatures(closed_letter, 4, countries=("FR",))
    make_many_signatures(draft, 4, countries=("JP",))
    public_recipient, draft_recipient = make_recipient(), make_recipient()
    make_addressee(open_letter, public_recipient)
    make_addressee(draft, draft_recipient)

    locations = sitemap_locations(client)

    for path in ["/", "/letters/", "/recipients/", "/countries/", "/privacy/"]:
        assert absolute(path) in locations
    assert absolute(open_letter.get_absolute_url()) in locations
    assert absolute(closed_letter.get_absolute_url()) in locations
    assert absolute(public_recipient.get_absolute_url()) in locations
    assert absolute("/countries/GB/") in locations
    assert absolute("/countries/FR/") in locations
    assert not [loc for loc in locations if draft.slug in loc]
    assert absolute(draft_recipient.get_absolute_url()) not in locations
    assert absolute("/countries/JP/") not in locations
    assert not [loc for loc in locations if "/signatories/" in loc]
    assert absolute(named.signatory.get_absolute_url()) not in locations
    assert len(locations) == len(set(locations))


def test_sitemap_runs_the_same_queries_for_few_and_many_letters(client):
    letter = make_letter()
    make_addressee(letter)
    make_many_signatures(letter, 3)
    with CaptureQueriesContext(connection) as few:
        few_locations = sitemap_locations(client)

    for _ in range(30):
        letter = make_letter()
        make_addressee(letter)
        make_many_signatures(letter, 2, countries=("IE", "NL"))
    with CaptureQueriesContext(connection) as many:
        many_locations = sitemap_locations(client)

    assert len(many_locations) > len(few_locations) + 60
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)

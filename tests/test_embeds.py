"""A letter's embed (letters/embeds.py): the one page any site may frame, with the site's
other security headers; the HTML to paste, offered on the letter page; oEmbed with its
discovery link, its limits and its errors. Headers are read as sent on the wire."""

import html
import json
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from letters.embeds import EMBED_HEIGHT, EMBED_WIDTH
from letters.models import Letter
from signatories.links import Purpose, make_token
from signatories.signing import SignerDetails, sign_letter
from tests.factories import make_letter, make_many_signatures
from tests.test_http_cache import PUBLIC, cache_control
from tests.test_queries import FEW, MANY, assert_same_count, many_countries, measure
from tests.test_security_headers import (
    assert_security_headers,
    csp_directives,
    inline_code,
    permissions,
)

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


@pytest.fixture
def letter():
    letter = make_letter(
        title="Keep children safe <online>",
        accepts_public_signatures=True,
        staff_notes="Private: embargoed partner list",
    )
    make_many_signatures(letter, 12)
    return letter


def embed_url(letter: Letter) -> str:
    return reverse("letters:embed", args=[letter.slug])


def oembed(client, **params):
    response = client.get(f"{reverse('letters:oembed')}?{urlencode(params)}")
    return response, json.loads(response.content)


# The embed


def test_the_embed_shows_the_title_the_count_and_links_that_open_the_site(client, letter):
    response = client.get(embed_url(letter))

    page = response.content.decode()
    assert "Keep children safe &lt;online&gt;" in page
    assert '<span class="embed-figure">12</span>' in page
    sign = reverse("signatories:sign", args=[letter.slug])
    assert f'href="{sign}" target="_blank" rel="noopener"' in page
    assert f'href="{letter.get_absolute_url()}" target="_blank" rel="noopener"' in page
    assert "embargoed" not in page


def test_the_embed_of_a_letter_no_one_may_sign_here_has_no_sign_link(client, letter):
    Letter.objects.filter(pk=letter.pk).update(accepts_public_signatures=False)

    page = client.get(embed_url(letter)).content.decode()

    assert reverse("signatories:sign", args=[letter.slug]) not in page
    assert "Read the letter" in page


def test_a_draft_has_no_embed(client):
    draft = make_letter(status=Letter.Status.DRAFT)

    assert client.get(embed_url(draft)).status_code == 404


def test_any_site_may_frame_the_embed(client, letter):
    response = client.get(embed_url(letter))

    assert "X-Frame-Options" not in response.headers
    assert csp_directives(response)["frame-ancestors"] == ["*"]


def test_the_embed_keeps_the_sites_other_security_headers(client, letter):
    response = client.get(embed_url(letter))

    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert permissions(response)["camera"] == "()"
    found = inline_code(response)
    assert (found.inline_scripts, found.style_elements, found.style_attributes) == ([], [], [])
    assert (found.handlers, found.foreign) == ([], [])


def test_a_revalidated_embed_may_still_be_framed(client, letter):
    """Browsers merge a 304's headers into their copy: a DENY there would stop the frame."""
    etag = client.get(embed_url(letter))["ETag"]

    response = client.get(embed_url(letter), headers={"if-none-match": etag})

    assert response.status_code == 304
    assert "X-Frame-Options" not in response.headers
    assert csp_directives(response)["frame-ancestors"] == ["*"]


def test_the_letter_page_and_the_rest_still_refuse_frames(client, letter, admin_client):
    urls = [
        letter.get_absolute_url(),
        reverse("letters:letter_feed", args=[letter.slug]),
        reverse("letters:feed"),
        f"{reverse('letters:oembed')}?url={SITE}{letter.get_absolute_url()}",
        reverse("signatories:sign", args=[letter.slug]),
    ]
    for url in urls:
        assert_security_headers(client.get(url), url)
    assert_security_headers(admin_client.get(reverse("admin:index")), "admin")


def test_the_embed_is_cached_a_minute(client, letter):
    response = client.get(embed_url(letter))

    assert cache_control(response) == set(PUBLIC.split(", "))
    assert response["ETag"]


def test_the_embed_runs_the_same_queries_for_few_and_many_signatures(client):
    letter = make_letter()
    make_many_signatures(letter, FEW)
    few, _ = measure(client, embed_url(letter))

    make_many_signatures(letter, MANY - FEW, countries=many_countries())
    many, body = measure(client, embed_url(letter))

    assert f">{MANY}<".encode() in body
    assert_same_count(few, many)


# What the letter page offers


def test_the_letter_page_offers_the_html_to_paste(client, letter):
    page = client.get(letter.get_absolute_url()).content.decode()

    textarea = re.search(r'<textarea id="embed-code" readonly[^>]*>([^<]*)</textarea>', page)
    assert textarea, "a read-only field"
    assert '<label for="embed-code">' in page
    snippet = html.unescape(textarea.group(1))
    assert snippet.startswith(f'<iframe src="{SITE}{embed_url(letter)}" ')
    assert f'width="{EMBED_WIDTH}" height="{EMBED_HEIGHT}"' in snippet
    assert 'title="Keep children safe &lt;online&gt;: signatures on Undersigned"' in snippet
    assert 'loading="lazy"' in snippet


def test_the_signers_confirmation_page_shares_the_letter_without_the_embed(client, letter):
    """share.html is also the confirmation page's "ask others to sign" block."""
    details = SignerDetails(
        kind="individual", name="Ada Lovelace", email="ada@example.net", category="survivor"
    )
    signature = sign_letter(
        letter=letter, details=details, ip_address="127.0.0.1", send_email=False
    )
    url = reverse("signatories:confirm", args=[letter.slug, make_token(signature, Purpose.CONFIRM)])

    page = client.post(url).content.decode()

    assert 'id="share-url"' in page
    assert "embed-code" not in page


def test_the_letter_page_names_its_oembed(client, letter):
    page = client.get(letter.get_absolute_url()).content.decode()

    link = re.search(r'<link rel="alternate" type="application/json\+oembed" [^>]*>', page)
    assert link
    href = html.unescape(re.search(r'href="([^"]*)"', link.group(0)).group(1))
    query = urlencode({"url": f"{SITE}{letter.get_absolute_url()}", "format": "json"})
    assert href == f"{SITE}{reverse('letters:oembed')}?{query}"
    response = client.get(href.removeprefix(SITE))
    assert response.status_code == 200


# oEmbed


def test_oembed_describes_a_letter_as_rich_html(client, letter):
    response, body = oembed(client, url=f"{SITE}{letter.get_absolute_url()}", format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body["version"] == "1.0"
    assert body["type"] == "rich"
    assert body["title"] == "Keep children safe <online>"
    assert body["provider_name"] == "Undersigned"
    assert body["provider_url"] == f"{SITE}/"
    assert (body["width"], body["height"]) == (EMBED_WIDTH, EMBED_HEIGHT)
    assert body["html"].startswith(f'<iframe src="{SITE}{embed_url(letter)}" ')
    assert "embargoed" not in response.content.decode()


def test_oembed_takes_the_embeds_address_too(client, letter):
    _, by_page = oembed(client, url=f"{SITE}{letter.get_absolute_url()}?page=2#signatories")
    _, by_embed = oembed(client, url=f"{SITE}{embed_url(letter)}")

    assert by_page == by_embed


def test_oembed_keeps_within_maxwidth_and_maxheight(client, letter):
    _, body = oembed(client, url=f"{SITE}{letter.get_absolute_url()}", maxwidth=320, maxheight=200)

    assert (body["width"], body["height"]) == (320, 200)
    assert 'width="320" height="200"' in body["html"]


def test_oembed_does_not_grow_past_its_size(client, letter):
    _, body = oembed(client, url=f"{SITE}{letter.get_absolute_url()}", maxwidth=2000)

    assert body["width"] == EMBED_WIDTH


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/letters/{slug}/",
        "{site}/letters/no-such-letter/",
        "{site}/recipients/{slug}/",
        "{site}/letters/{slug}/signatures.csv",
        "{site}/",
    ],
)
def test_oembed_knows_only_this_sites_letters(client, letter, url):
    response, body = oembed(client, url=url.format(site=SITE, slug=letter.slug))

    assert response.status_code == 404
    assert body == {
        "error": "url is not the address of a published letter on this site.",
        "parameter": "url",
    }


def test_oembed_says_nothing_of_a_draft(client):
    draft = make_letter(status=Letter.Status.DRAFT, title="Unannounced draft")

    response, body = oembed(client, url=f"{SITE}{draft.get_absolute_url()}")

    assert response.status_code == 404
    assert "Unannounced" not in response.content.decode()


def test_oembed_in_xml_is_not_implemented(client, letter):
    response, body = oembed(client, url=f"{SITE}{letter.get_absolute_url()}", format="xml")

    assert response.status_code == 501
    assert body == {"error": "Only format=json is available.", "parameter": "format"}


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({}, "url"),
        ({"url": "not a url at all"}, "url"),
        ({"url": "{site}/letters/{slug}/", "maxwidth": "wide"}, "maxwidth"),
        ({"url": "{site}/letters/{slug}/", "maxheight": "0"}, "maxheight"),
        ({"url": "{site}/letters/{slug}/", "maxwidth": "-5"}, "maxwidth"),
    ],
)
def test_bad_oembed_parameters_get_a_400_naming_them(client, letter, params, parameter):
    params = {k: v.format(site=SITE, slug=letter.slug) for k, v in params.items()}

    response, body = oembed(client, **params)

    assert response.status_code == 400
    assert body["parameter"] == parameter
    assert body["error"].startswith(f"{parameter}: ")


def test_oembed_is_cached_a_minute(client, letter):
    response, _ = oembed(client, url=f"{SITE}{letter.get_absolute_url()}")

    assert cache_control(response) == set(PUBLIC.split(", "))
    assert response["ETag"]


def test_oembed_runs_the_same_queries_for_few_and_many_signatures(client):
    letter = make_letter()
    make_many_signatures(letter, FEW)
    url = f"{reverse('letters:oembed')}?url={SITE}{letter.get_absolute_url()}"
    few, _ = measure(client, url)

    make_many_signatures(letter, MANY - FEW, countries=many_countries())
    make_letter()
    many, _ = measure(client, url)

    assert_same_count(few, many)
    assert len(few) == 1

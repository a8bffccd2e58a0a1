"""Cross-origin reads: a script on another site may read the public data, never a page
with a form, a signed link or the admin. Checked on the headers a browser decides by
(``Access-Control-Allow-Origin``), for every URL pattern the site has."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from signatories.models import Display
from tests.factories import make_addressee, make_letter, make_person, make_signature

pytestmark = pytest.mark.django_db

OTHER_SITE = "https://newsroom.example"

# Every named URL outside the admin, and whether another site's script may read it.
# A new URL fails test_every_url_pattern_has_a_cross_origin_decision until it is added.
READABLE_CROSS_ORIGIN = {
    "signatories:letter_count": True,
    "signatories:letter_csv": True,
    "api:index": True,
    "api:letters": True,
    "api:letter-detail": True,
    "api:letter-signatures": True,
    "api:recipients": True,
    "api:recipient-detail": True,
    "api:countries": True,
    "api:schema": True,
    "api:docs": True,  # under /api/v1/ with the rest; a page of static files, nothing private
    "letters:feed": True,
    "letters:letter_feed": True,
    "letters:recipient_feed": True,
    "letters:oembed": True,
    "signatories:delivered_file": True,
    "signatories:delivered": False,  # the page about it; its file is the public read
    "letters:embed": False,  # framed, not fetched: its headers are about framing
    "healthz": False,
    "choose_language": False,  # a redirect that sets a cookie: nothing for a script to read
    "robots": False,
    "favicon": False,
    "sitemap": False,
    "sitemap_section": False,
    "signatories:sign": False,
    "signatories:sign_sent": False,
    "signatories:confirm": False,
    "signatories:withdraw": False,
    "signatories:unfollow": False,
    "signatories:privacy": False,
    "signatories:detail": False,
    "signatories:country_list": False,
    "signatories:country_detail": False,
    "letters:home": False,
    "letters:list": False,
    "letters:detail": False,
    "letters:share_image": False,
    "letters:recipient_list": False,
    "letters:recipient_detail": False,
}


def named_patterns(patterns=None, namespace=None):
    """(name, pattern) of every URL the site routes, the admin's excepted."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            yield from named_patterns(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern


@pytest.fixture
def public_data():
    letter = make_letter(slug="open-letter")
    make_addressee(letter)
    signatory = make_person(name="Grace Hopper", slug="grace-hopper", country="GB")
    make_signature(letter=letter, signatory=signatory, display=Display.FULL)
    return letter


def example_url(name: str, pattern: URLPattern, letter) -> str:
    """An address the pattern serves, filled from the fixture's letter and signatory."""
    values = {
        "slug": letter.slug,
        "token": "not-a-real-token",
        "code": "GB",
        "section": "letters",
    }
    if name == "signatories:detail":
        values["slug"] = "grace-hopper"
    if name in ("letters:recipient_detail", "letters:recipient_feed", "api:recipient-detail"):
        values["slug"] = letter.addressees.get().recipient.slug
    kwargs = {key: values[key] for key in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


def test_every_url_pattern_has_a_cross_origin_decision():
    assert {name for name, _ in named_patterns()} == set(READABLE_CROSS_ORIGIN)


@pytest.mark.parametrize("name", sorted(READABLE_CROSS_ORIGIN))
def test_cross_origin_reading_follows_the_decision(client, public_data, name):
    pattern = dict(named_patterns())[name]
    url = example_url(name, pattern, public_data)

    response = client.get(url, headers={"origin": OTHER_SITE})

    assert response.status_code < 500, url
    if READABLE_CROSS_ORIGIN[name]:
        assert response["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response, url
    else:
        assert "Access-Control-Allow-Origin" not in response, url


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/signatories/signature/",
        "/admin/letters/letter/",
        "/admin/password_change/",
    ],
)
def test_admin_is_never_readable_cross_origin(admin_client, url):
    response = admin_client.get(url, headers={"origin": OTHER_SITE})

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_a_public_read_is_preflighted_for_gets_with_revalidation_only(client, public_data):
    url = reverse("signatories:letter_count", args=[public_data.slug])

    response = client.options(
        url,
        headers={
            "origin": OTHER_SITE,
            "access-control-request-method": "GET",
            "access-control-request-headers": "if-none-match",
        },
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "if-none-match" in response["Access-Control-Allow-Headers"]


def test_the_sign_form_answers_no_preflight(client, public_data):
    """A script elsewhere may not be told it can post to the sign form."""
    url = reverse("signatories:sign", args=[public_data.slug])

    response = client.options(
        url,
        headers={"origin": OTHER_SITE, "access-control-request-method": "POST"},
    )

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_a_revalidated_read_keeps_its_cors_header(client, public_data):
    """A 304 must carry the header too, or the browser hides the cached copy's answer."""
    url = reverse("signatories:letter_count", args=[public_data.slug])
    etag = client.get(url)["ETag"]

    response = client.get(url, headers={"origin": OTHER_SITE, "if-none-match": etag})

    assert response.status_code == 304
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]

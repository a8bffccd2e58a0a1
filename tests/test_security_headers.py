"""Security headers on every kind of response (docs/deploy.md, "Security headers"): a
strict Content-Security-Policy, Permissions-Policy, Cross-Origin-Opener-Policy,
Referrer-Policy, nosniff and X-Frame-Options; and pages with nothing that policy would
block (no inline script or style, no third-party resources)."""

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from signatories.links import Purpose, make_token
from signatories.models import Display
from tests.factories import make_addressee, make_letter, make_person, make_signature

pytestmark = pytest.mark.django_db

DENIED_FEATURES = [
    "browsing-topics",
    "camera",
    "geolocation",
    "interest-cohort",
    "microphone",
    "payment",
    "usb",
]


@pytest.fixture
def site():
    letter = make_letter(accepts_public_signatures=True)
    addressee = make_addressee(letter)
    signature = make_signature(letter, make_person("Ada Lovelace", country="GB"))
    make_signature(letter, make_person("Frida Kahlo", country="MX"), display=Display.FIRST_NAME)
    return letter, addressee.recipient, signature


def public_urls(letter, recipient, signature) -> dict[str, tuple[str, int]]:
    slug = letter.slug
    return {
        "home": (reverse("letters:home"), 200),
        "letters list": (reverse("letters:list"), 200),
        "letter page": (letter.get_absolute_url(), 200),
        "sign form": (reverse("signatories:sign", args=[slug]), 200),
        "sign sent": (reverse("signatories:sign_sent", args=[slug]), 200),
        "confirm link": (
            reverse("signatories:confirm", args=[slug, make_token(signature, Purpose.CONFIRM)]),
            200,
        ),
        "withdraw link": (
            reverse("signatories:withdraw", args=[slug, make_token(signature, Purpose.WITHDRAW)]),
            200,
        ),
        "broken link": (reverse("signatories:withdraw", args=[slug, "not-a-token"]), 400),
        "csv": (reverse("signatories:letter_csv", args=[slug]), 200),
        "count.json": (reverse("signatories:letter_count", args=[slug]), 200),
        "signatory": (reverse("signatories:detail", args=[signature.signatory.slug]), 200),
        "recipients": (reverse("letters:recipient_list"), 200),
        "recipient": (reverse("letters:recipient_detail", args=[recipient.slug]), 200),
        "countries": (reverse("signatories:country_list"), 200),
        "country": (reverse("signatories:country_detail", args=["GB"]), 200),
        "privacy": (reverse("signatories:privacy"), 200),
        "admin login": (reverse("admin:login"), 200),
        "healthz": ("/healthz", 200),
        "404 page": ("/no-such-page/", 404),
    }


def admin_urls(letter, signature) -> dict[str, tuple[str, int]]:
    return {
        "admin index": (reverse("admin:index"), 200),
        "admin changelist": (reverse("admin:signatories_signature_changelist"), 200),
        "admin change form": (reverse("admin:letters_letter_change", args=[letter.pk]), 200),
        "admin autocomplete form": (
            reverse("admin:signatories_signature_change", args=[signature.pk]),
            200,
        ),
        "admin import": (reverse("admin:letters_letter_import", args=[letter.pk]), 200),
        "admin history": (
            reverse("admin:signatories_signature_history", args=[signature.pk]),
            200,
        ),
    }


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def permissions(response) -> dict[str, str]:
    return dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))


def assert_security_headers(response, what: str):
    for name, value in {
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }.items():
        assert response.get(name) == value, f"{what}: {name} is {response.get(name)!r}"

    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"], what
    assert csp["object-src"] == ["'none'"], what
    assert csp["base-uri"] == ["'none'"], what
    assert csp["form-action"] == ["'self'"], what
    assert csp["frame-ancestors"] == ["'none'"], what
    # Scripts and styles fall back to default-src 'self': no inline code, no other origin.
    for directive in ("script-src", "style-src", "script-src-elem", "style-src-elem"):
        assert directive not in csp, f"{what}: {directive} {csp.get(directive)}"
    tokens = [token for values in csp.values() for token in values]
    for token in tokens:
        assert token not in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "https:"), what
        assert "://" not in token, f"{what}: third-party origin {token}"

    policy = permissions(response)
    for feature in DENIED_FEATURES:
        assert policy.get(feature) == "()", f"{what}: Permissions-Policy {feature}"


NAMING_LINK_RELS = {"canonical", "alternate"}


class InlineCode(HTMLParser):
    """What a page carries that a strict policy would block or that loads from elsewhere:
    inline scripts, <style> elements, style and event-handler attributes, javascript:
    URLs, and resources from another origin."""

    def __init__(self):
        super().__init__()
        self.inline_scripts, self.style_elements, self.style_attributes = [], [], []
        self.handlers, self.foreign = [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.style_attributes.append(value or "")
            elif name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            elif name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.handlers.append(f"<{tag} {name}={value}>")
        # A <link> the browser fetches (a stylesheet, an icon); a canonical address is
        # only named, never loaded.
        fetched_link = tag == "link" and attributes.get("rel") not in NAMING_LINK_RELS
        resource = attributes.get("src") or (attributes.get("href") if fetched_link else None)
        if resource and urlsplit(resource).netloc:
            self.foreign.append(resource)
        if tag == "style":
            self.style_elements.append(tag)
        # Executable only without src and with a JavaScript type (JSON data blocks run nothing).
        self._in_script = (
            tag == "script"
            and "src" not in attributes
            and attributes.get("type", "text/javascript") in ("text/javascript", "module")
        )

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def inline_code(response) -> InlineCode:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser


def sha256(value: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"


PUBLIC_KINDS = [
    "home",
    "letters list",
    "letter page",
    "sign form",
    "sign sent",
    "confirm link",
    "withdraw link",
    "broken link",
    "csv",
    "count.json",
    "signatory",
    "recipients",
    "recipient",
    "countries",
    "country",
    "privacy",
    "admin login",
    "healthz",
    "404 page",
]
ADMIN_KINDS = [
    "admin index",
    "admin changelist",
    "admin change form",
    "admin autocomplete form",
    "admin import",
    "admin history",
]


@pytest.mark.parametrize("kind", PUBLIC_KINDS)
def test_every_public_response_carries_the_security_headers(client, site, kind):
    url, status = public_urls(*site)[kind]

    response = client.get(url)

    assert response.status_code == status, f"{kind}: {url} answered {response.status_code}"
    assert_security_headers(response, kind)


@pytest.mark.parametrize("kind", ADMIN_KINDS)
def test_every_admin_page_carries_the_security_headers(admin_client, site, kind):
    letter, _, signature = site
    url, status = admin_urls(letter, signature)[kind]

    response = admin_client.get(url)

    assert response.status_code == status, f"{kind}: {url} answered {response.status_code}"
    assert_security_headers(response, kind)


def test_the_health_check_carries_the_headers_when_probed_by_ip(client, site):
    response = client.get("/healthz", headers={"host": "10.0.0.11:8000"})

    assert response.status_code == 200
    assert_security_headers(response, "healthz by IP")


@pytest.mark.parametrize(
    "kind", [kind for kind in PUBLIC_KINDS if kind not in ("csv", "count.json", "healthz")]
)
def test_public_pages_have_no_inline_code_or_foreign_resources(client, site, kind):
    url, _ = public_urls(*site)[kind]

    found = inline_code(client.get(url))

    assert found.inline_scripts == [], kind
    assert found.style_elements == [], kind
    assert found.style_attributes == [], kind
    assert found.handlers == [], kind
    assert found.foreign == [], kind


def test_the_letter_page_draws_its_bars_without_a_style_attribute(client, site):
    letter, _, _ = site

    html = client.get(letter.get_absolute_url()).content.decode()

    assert '<svg class="bar"' in html
    # Bars are scaled to the largest value: each of the two categories has the one signature.
    assert '<rect class="bar-fill" width="100.0%"' in html
    assert "style=" not in html


@pytest.mark.parametrize("kind", ADMIN_KINDS)
def test_admin_pages_have_no_inline_code_the_policy_would_block(admin_client, site, kind):
    letter, _, signature = site
    url, _ = admin_urls(letter, signature)[kind]
    response = admin_client.get(url)
    allowed_style_hashes = csp_directives(response).get("style-src-attr", [])

    found = inline_code(response)

    assert found.inline_scripts == [], kind
    assert found.style_elements == [], kind
    assert found.handlers == [], kind
    assert found.foreign == [], kind
    for style in found.style_attributes:
        assert "'unsafe-hashes'" in allowed_style_hashes, kind
        assert sha256(style) in allowed_style_hashes, f"{kind}: style={style!r} is blocked"

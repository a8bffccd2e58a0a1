"""Choosing a language: the URL decides (/fr/…; unprefixed is English), the switcher keeps
the visitor on the same page and remembers the choice, search engines get hreflang
alternates, and the browser's Accept-Language is only the home page's first guess."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import make_letter, make_signatory, make_signature
from tests.helpers import parse

pytestmark = pytest.mark.django_db

CODES = [code for code, _name in settings.LANGUAGES]


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def letter_url(letter, code: str) -> str:
    with translation.override(code):
        return reverse("letters:detail", args=[letter.slug])


def test_each_language_has_its_own_address_and_english_keeps_the_unprefixed_one(client):
    letter = make_letter(slug="one-letter")
    assert [letter_url(letter, code) for code in CODES] == [
        "/letters/one-letter/",
        "/fr/letters/one-letter/",
        "/de/letters/one-letter/",
        "/es/letters/one-letter/",
    ]
    for code in CODES:
        response = client.get(letter_url(letter, code))
        assert response.status_code == 200
        assert html_lang(response) == code
        assert response["Content-Language"] == code


def test_a_page_never_varies_with_the_browser_language_except_the_home_page(client):
    letter = make_letter()
    for url in (letter_url(letter, "en-gb"), letter_url(letter, "fr"), "/de/letters/", "/fr/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert response.status_code == 200
        assert html_lang(response) == (translation.get_language_from_path(url) or "en-gb")
        assert "Accept-Language" not in response.get("Vary", "")
    german = client.get(letter_url(letter, "en-gb"), HTTP_ACCEPT_LANGUAGE="de")
    assert html_lang(german) == "en-gb"


def test_an_unknown_language_prefix_is_not_found(client):
    letter = make_letter()
    assert client.get(f"/it/letters/{letter.slug}/").status_code == 404
    assert client.get(f"/xx/letters/{letter.slug}/").status_code == 404


def test_the_switcher_links_the_same_page_in_every_language_and_marks_the_current_one(client):
    letter = make_letter()
    response = client.get(letter_url(letter, "de") + "?kind=individual")
    page = parse(response)
    switcher = {words: href for words, href in page.links if href.startswith("/language/")}
    assert set(switcher) == {"English", "Français", "Deutsch", "Español"}
    html = response.content.decode()
    assert re.search(r'<a href="[^"]*" hreflang="de" lang="de" aria-current="true">Deutsch', html)
    for words, code in (("English", "en-gb"), ("Français", "fr"), ("Español", "es")):
        followed = client.get(switcher[words])
        assert followed.status_code == 302
        # Same page, same filter, in that language; the choice remembered for a year.
        assert followed["Location"] == letter_url(letter, code) + "?kind=individual"
        cookie = followed.cookies[settings.LANGUAGE_COOKIE_NAME]
        assert cookie.value == code
        assert int(cookie["max-age"]) == 365 * 24 * 60 * 60
        assert "no-store" in followed["Cache-Control"]


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:x"]
)
def test_the_switcher_never_sends_a_visitor_off_the_site(client, next_url):
    response = client.get(reverse("choose_language", args=["fr"]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/fr/"


def test_the_switcher_takes_a_page_from_any_language_to_any_other(client):
    letter = make_letter(slug="any")
    for start in ("/fr/letters/any/?page=2", "/letters/any/?page=2", "/es/letters/any/?page=2"):
        response = client.get(reverse("choose_language", args=["de"]), {"next": start})
        assert response["Location"] == "/de/letters/any/?page=2", start
    assert (
        client.get(reverse("choose_language", args=["en-gb"]), {"next": "/fr/"})["Location"] == "/"
    )
    assert letter.slug == "any"


def test_an_unknown_language_in_the_switcher_falls_back_to_english(client):
    response = client.get(reverse("choose_language", args=["xx"]), {"next": "/letters/"})
    assert response["Location"] == "/letters/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == settings.LANGUAGE_CODE


def test_pages_for_search_engines_carry_hreflang_alternates_forms_do_not(client):
    letter = make_letter(accepts_public_signatures=True)
    html = client.get(letter_url(letter, "fr")).content.decode()
    alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', html))
    base = settings.SITE_URL
    assert alternates == {
        "en": f"{base}/letters/{letter.slug}/",
        "fr": f"{base}/fr/letters/{letter.slug}/",
        "de": f"{base}/de/letters/{letter.slug}/",
        "es": f"{base}/es/letters/{letter.slug}/",
        "x-default": f"{base}/letters/{letter.slug}/",
    }
    with translation.override("fr"):
        sign_url = reverse("signatories:sign", args=[letter.slug])
    assert "hreflang=" not in re.sub(
        r'<nav class="languages".*?</nav>', "", client.get(sign_url).content.decode(), flags=re.S
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "/de/"),
        ("fr-CA", "/fr/"),
        ("es-419,es;q=0.9", "/es/"),
        ("it-IT,it;q=0.9,fr;q=0.8", "/fr/"),
    ],
)
def test_the_home_page_guesses_from_the_browser_language(client, header, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 302
    assert response["Location"] == expected
    # The guess depends on a cookie too: never stored by a shared cache.
    assert "private" in response["Cache-Control"]
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize("header", ["", "en-US,en;q=0.9", "it-IT", "en;q=0.9,de;q=0.8", "*"])
def test_the_home_page_stays_english_for_english_or_unknown_browser_languages(client, header):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200
    assert html_lang(response) == "en-gb"
    assert "Accept-Language" in response["Vary"]
    assert "Cookie" not in response["Vary"]


def test_a_chosen_language_beats_the_browser_language_at_the_home_page(client):
    client.get(reverse("choose_language", args=["en-gb"]), {"next": "/"})
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    assert html_lang(response) == "en-gb"
    client.get(reverse("choose_language", args=["es"]), {"next": "/"})
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="de")["Location"] == "/es/"


def test_the_prefixed_home_pages_never_redirect(client):
    for code in ("fr", "de", "es"):
        response = client.get(f"/{code}/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert html_lang(response) == code


def test_the_admin_stays_english_whatever_the_browser_or_the_choice(client, admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert html_lang(response) == "en-gb"
    assert client.get("/fr/admin/").status_code == 404


def test_one_signature_counts_once_on_every_language_page(client):
    letter = make_letter()
    make_signature(letter, make_signatory(name="Ada Example"))
    counts = set()
    for code in CODES:
        html = client.get(letter_url(letter, code)).content.decode()
        assert "Ada Example" in html
        counts.add(tuple(re.findall(r"<dd>(\d+)</dd>", html)))
    assert len(counts) == 1


def test_signing_in_french_gives_french_emails_and_one_signature_on_every_page(
    client, django_capture_on_commit_callbacks, settings
):
    """The shipped French catalogue, end to end: the sign form on /fr/, the email as an SMTP
    server would receive it (subject encoded, French text, /fr/ links, the summary in
    French), and once confirmed, one signature counted on every language's page."""
    from email import message_from_bytes
    from email.header import decode_header, make_header

    from django.core import mail

    from letters.models import LetterTranslation
    from tests.helpers import sign_data

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    letter = make_letter(title="Protect children", slug="protect", accepts_public_signatures=True)
    LetterTranslation.objects.create(letter=letter, language="fr", title="Protégez les enfants")
    with translation.override("fr"):
        sign_url = reverse("signatories:sign", args=[letter.slug])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sign_url, sign_data(name="Amélie Durand"))
    assert response.status_code == 302
    assert response["Location"].startswith("/fr/")
    [message] = mail.outbox
    wire = message_from_bytes(message.message().as_bytes())
    subject = str(make_header(decode_header(wire["Subject"])))
    assert subject == "Confirmez votre signature\u00a0: Protégez les enfants"
    body = wire.get_payload(decode=True).decode(wire.get_content_charset())
    assert "Protégez les enfants" in body
    confirm = re.search(r"http\S+/fr/letters/protect/confirm/\S+/", body).group(0)
    assert wire["Content-Language"] == "fr"
    confirm_page = client.get(confirm.removeprefix(settings.SITE_URL)).content.decode()
    assert "Protégez les enfants" in confirm_page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm.removeprefix(settings.SITE_URL))
    for code in CODES:
        html = client.get(letter_url(letter, code)).content.decode()
        assert html.count("Amélie Durand") == 1, code


def test_a_category_inside_a_sentence_is_lower_cased_in_english_only(client):
    """ "Anonymous survivor" in English; German nouns keep their capital."""
    letter = make_letter()
    make_signature(
        letter,
        make_signatory(name="Hidden Person", kind="individual", category="survivor"),
        display="anonymous",
    )
    english = client.get(letter_url(letter, "en-gb")).content.decode()
    german = client.get(letter_url(letter, "de")).content.decode()
    assert "Anonymous survivor" in english
    assert "Anonym (Betroffene Person)" in german
    assert "Hidden Person" not in english + german

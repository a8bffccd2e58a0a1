"""No English left: every public page, form, error and email in French, German and Spanish
draws its words from the catalogue.

The test compiles a marked copy of each language's catalogue: every entry's text (its
translation, or its English where a translator has not yet written one) wrapped in two
invisible marks. It then walks every public URL of a seeded site in that language, and the
emails a signer gets, and reads every text node and every attribute a person reads (alt,
title, aria-label, placeholder, meta descriptions). Whatever lies outside the marks must be
data (a name, a statement, a letter's own text, a number, a date), a name Django or
django-countries translates itself (a month, a country), or one of a few words that are the
same in every language (the site's name, the names of the languages in the switcher).
Anything else is a string missing from the catalogue, and the test names it and its page.
tests/test_catalogues.py then checks that every catalogue entry is translated.
"""

import datetime
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.core import mail
from django.core.cache import caches
from django.db import models
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import trans_real

from letters.models import (
    Addressee,
    AddresseeTranslation,
    Letter,
    LetterSource,
    LetterTranslation,
    RecipientTranslation,
    ResponseEvent,
)
from letters.responses import record_response_event
from signatories.delivered import freeze_delivered_list
from signatories.links import Purpose, make_token
from signatories.models import Signature
from signatories.tallies import refresh_tally
from tests.factories import (
    make_addressee,
    make_letter,
    make_recipient,
    make_signatory,
    make_signature,
)
from tests.helpers import sign_data

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROOT = Path(settings.BASE_DIR)
OPEN, CLOSE = "\u2063", "\u2064"
SHIPPED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# The same in every language: the site's name, the networks' names on the share links, and
# each language's name in itself (the switcher's and the letter's "Read this letter in").
SAME_EVERYWHERE = {
    "Undersigned",
    "X",
    "Bluesky",
    "Mastodon",
    "LinkedIn",
    "WhatsApp",
    *(name for _code, name in settings.LANGUAGES),
    *(info["name_local"] for info in LANG_INFO.values() if "name_local" in info),
    *(info["name_local"].capitalize() for info in LANG_INFO.values() if "name_local" in info),
}
# Code shown to be copied (the embed's HTML, the delivered list's check script): not prose.
CODE_ELEMENTS = {"code", "pre", "textarea", "script", "style"}
# Meta tags a person reads (in a shared link's preview); the others are addresses and types.
READ_META = {
    "description",
    "twitter:title",
    "twitter:description",
    "twitter:image:alt",
    "og:title",
    "og:description",
    "og:image:alt",
    "og:site_name",
}
# The parts of an Atom feed a reader shows; ids, dates and links are for machines.
FEED_TEXT = re.compile(r"<(title|subtitle|summary|content)\b[^>]*(?<!/)>(.*?)</\1>", re.S)
URL = re.compile(r"(?:https?://|/)\S*")
SEPARATORS = re.compile(r"\s*(?:·|,|:|\(|\)|—|–)\s*")
READ_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-description"}
# Stored text that is the site's own words (the consent sentence a signer agreed to, staff's
# reasons), not a signer's or an organiser's: it must come from the catalogue when shown.
NOT_DATA = {
    "consent_text",
    "moderation_reason",
    "rejection_reason",
    "email_error",
    "reason",
    "breakdown",
    "content",
    "mapping",
    "status",
    "kind",
    "category",
    "display",
    "verification",
    "source",
    "response_status",
    "made_by",
    "published_on_precision",
}
LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
INITIALS = re.compile(r"^(?:[^\W\d_]\.\s?)+$")


def marked_catalogue(code: str, into: Path) -> None:
    po = polib.pofile(str(ROOT / "locale" / code / "LC_MESSAGES" / "django.po"))
    for entry in po:
        if entry.fuzzy:  # a guess from another string: its text, not its translation
            entry.msgstr = ""
            entry.msgstr_plural = dict.fromkeys(entry.msgstr_plural, "")
            entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        if entry.msgid_plural:
            forms = entry.msgstr_plural or {0: "", 1: ""}
            entry.msgstr_plural = {
                form: OPEN + (text or (entry.msgid if form == 0 else entry.msgid_plural)) + CLOSE
                for form, text in forms.items()
            }
        else:
            entry.msgstr = OPEN + (entry.msgstr or entry.msgid) + CLOSE
    target = into / code / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    po.save_as_mofile(str(target / "django.mo"))


class Reader(HTMLParser):
    """Text nodes and read attributes, in order; code to be copied left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in CODE_ELEMENTS:
            self._skip += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if value and name in READ_ATTRIBUTES:
                self.pieces.append(value)
        meta = attributes.get("name") or attributes.get("property")
        if tag == "meta" and attributes.get("content") and meta in READ_META:
            self.pieces.append(attributes["content"])
        if (
            tag == "input"
            and attributes.get("type") in ("submit", "button")
            and attributes.get("value")
        ):
            self.pieces.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in CODE_ELEMENTS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.pieces.append(data)


def unmarked(pieces: list[str]) -> list[str]:
    """What lies outside the marks, piece by piece (a mark opened in one text node may close
    in a later one: a translated sentence with a link inside)."""
    out, depth = [], 0
    for piece in pieces:
        outside = []
        for char in piece:
            if char == OPEN:
                depth += 1
            elif char == CLOSE:
                depth = max(depth - 1, 0)
            elif depth == 0:
                outside.append(char)
        text = " ".join("".join(outside).split())
        if text:
            out.append(text)
    return out


class Allowed:
    """Words that may be shown unmarked: data, and what Django translates itself."""

    def __init__(self, code: str):
        values = set()
        for model in [
            *apps.get_app_config("letters").get_models(),
            *apps.get_app_config("signatories").get_models(),
        ]:
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField) and f.name not in NOT_DATA
            ]
            for row in model.objects.values_list(*fields):
                values.update(str(value) for value in row if value)
        self.data = {" ".join(v.split()) for v in values}
        self.blob = "\n".join(self.data)
        with translation.override(code):
            catalogue = trans_real.translation(code)._catalog
            self.catalogue = {
                " ".join(str(v).split()) for _key, v in catalogue.items() if OPEN not in str(v)
            }
        self.words = {word for text in self.catalogue for word in text.split()}

    def __contains__(self, text: str) -> bool:
        text = " ".join(URL.sub(" ", text).split())
        if self._allowed(text):
            return True
        # Data and translated names side by side ("Zmeta · Undersigned", "name, title").
        return all(self._allowed(part) for part in SEPARATORS.split(text) if part)

    def _allowed(self, text: str) -> bool:
        if not LETTERS.search(text) or text in SAME_EVERYWHERE or INITIALS.match(text):
            return True
        if text in self.data or text in self.catalogue or text in self.blob:
            return True
        # A date or a number beside a name Django translates ("3 décembre 2026").
        rest = [
            w
            for w in re.split(r"[\s,.;:()·–—/]+", text)
            if LETTERS.search(w) and w not in self.words and w not in SAME_EVERYWHERE
        ]
        return not rest


def read(body: bytes | str, content_type: str = "text/html") -> list[str]:
    text = body.decode() if isinstance(body, bytes) else body
    if "atom" in content_type or "xml" in content_type:
        # Each shown part of the feed, its escaped HTML read as a page.
        return [
            piece for _tag, part in FEED_TEXT.findall(text) for piece in read(html.unescape(part))
        ]
    if "html" in content_type:
        reader = Reader()
        reader.feed(text)
        reader.close()
        return reader.pieces
    return text.splitlines()


def seed() -> dict:
    """One of everything a public page can show."""
    letter = make_letter(
        title="Zephyr coalition letter",
        slug="zephyr",
        summary="Zephyr summary of the asks.",
        body="Zephyr **body** with [a link](https://example.org/zephyr).",
        organiser="Zephyr Network",
        accepts_public_signatures=True,
        published_on=datetime.date(2023, 9, 1),
        published_on_precision=Letter.DatePrecision.MONTH,
        delivered_on=datetime.date(2023, 9, 20),
        reported_signatories=100,
        reported_signatories_is_minimum=True,
        reported_countries=24,
        reported_figures_source="Zephyr press coverage",
    )
    LetterTranslation.objects.create(letter=letter, language="fr", summary="Zéphyr résumé.")
    LetterTranslation.objects.create(letter=letter, language="ar", title="رسالة زفير")
    LetterSource.objects.create(
        letter=letter, title="Zephyr coverage", url="https://example.org/news", publisher="Zed"
    )
    meta = make_recipient(name="Zmeta", slug="zmeta", description="Zmeta description.")
    RecipientTranslation.objects.create(recipient=meta, language="de", description="Zmeta DE.")
    answered = make_addressee(letter, meta, person_name="Zed Person", person_title="Zed CEO")
    AddresseeTranslation.objects.create(
        addressee=answered, language="es", response_summary="Zresumen."
    )
    ResponseEvent.objects.create(
        addressee=answered,
        kind=ResponseEvent.Kind.DELIVERED,
        date=datetime.date(2023, 9, 20),
        summary="Zephyr handed over.",
    )
    record_response_event(
        addressee=answered,
        kind=ResponseEvent.Kind.REPLIED,
        date=datetime.date(2023, 10, 2),
        summary="Zmeta replied in writing.",
        url="https://example.org/reply",
    )
    make_addressee(letter, make_recipient(name="Zsnap", slug="zsnap"), position=1)
    org = make_signatory(
        name="Zorg Charity",
        kind="organisation",
        category="charity",
        country="GB",
        website="https://example.org",
        description="Zorg description.",
    )
    make_signature(
        letter,
        org,
        statement="Zorg statement.",
        featured=True,
        verification=Signature.Verification.STAFF_VETTED,
        verified_at=timezone.now(),
    )
    for name, display, country in (
        ("Zelda Fullname", "full", "FR"),
        ("Zara Firstname", "first_name", "DE"),
        ("Zoe Initials", "initials", "ES"),
        ("Zack Anonymous", "anonymous", ""),
    ):
        make_signature(
            letter,
            make_signatory(name=name, kind="individual", category="survivor", country=country),
            display=display,
            statement=f"Zstatement of a {display} signer.",
        )
    closed = make_letter(title="Zclosed letter", slug="zclosed", status=Letter.Status.CLOSED)
    refresh_tally(letter.pk)
    refresh_tally(closed.pk)
    freeze_delivered_list(letter=letter)
    return {"letter": letter, "closed": closed, "org": org}


def pages(client, site, code) -> dict[str, tuple[bytes, str]]:
    """Every public page a visitor can reach, in ``code``: name → (body, content type)."""
    letter, closed, org = site["letter"], site["closed"], site["org"]
    with translation.override(code):
        urls = {
            "home": reverse("letters:home"),
            "letters": reverse("letters:list"),
            "letters, filtered": reverse("letters:list") + "?status=closed",
            "letter": letter.get_absolute_url(),
            "letter, filtered": letter.get_absolute_url() + "?kind=individual&country=FR",
            "letter, nothing found": letter.get_absolute_url() + "?q=nobody-at-all",
            "letter, other text": letter.get_absolute_url() + "?text=ar",
            "letter, page out of range": letter.get_absolute_url() + "?page=99",
            "recipients": reverse("letters:recipient_list"),
            "recipient": reverse("letters:recipient_detail", args=["zmeta"]),
            "countries": reverse("signatories:country_list"),
            "country": reverse("signatories:country_detail", args=["FR"]),
            "signatory": reverse("signatories:detail", args=[org.slug]),
            "privacy": reverse("signatories:privacy"),
            "sign": reverse("signatories:sign", args=[letter.slug]),
            "sign, individual": reverse("signatories:sign", args=[letter.slug])
            + "?kind=individual",
            "sign, organisation": reverse("signatories:sign", args=[letter.slug])
            + "?kind=organisation",
            "sign, closed": reverse("signatories:sign", args=[closed.slug]),
            "sign sent": reverse("signatories:sign_sent", args=[letter.slug]),
            "delivered": reverse("signatories:delivered", args=[letter.slug]),
            "embed": reverse("letters:embed", args=[letter.slug]),
            "letter feed": reverse("letters:letter_feed", args=[letter.slug]),
            "recipient feed": reverse("letters:recipient_feed", args=["zmeta"]),
            "letters feed": reverse("letters:feed"),
            "link refused": reverse("signatories:confirm", args=[letter.slug, "not-a-token"]),
            "not found": f"/{code}/letters/no-such-letter/",
        }
    found = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code < 500, (name, url, response.status_code)
        found[name] = (response.content, response["Content-Type"])
    # A form sent with errors, in that language.
    with translation.override(code):
        sign_url = reverse("signatories:sign", args=[letter.slug])
    response = client.post(sign_url, sign_data(name="", email="not-an-address", consent=None))
    assert response.status_code == 200
    found["sign, errors"] = (response.content, response["Content-Type"])
    return found


def signer_pages_and_emails(client, site, code) -> dict[str, tuple[bytes | str, str]]:
    """What a signer sees and receives, signing in ``code``: the confirm email, the confirm,
    withdraw and news-stopping pages, the email of a second signing and a follow-up."""
    letter = site["letter"]
    mail.outbox = []
    with translation.override(code):
        sign_url = reverse("signatories:sign", args=[letter.slug])
    email = f"zed-{code}@example.net"
    client.post(sign_url, sign_data(email=email, follow_up="on"), REMOTE_ADDR="203.0.113.9")
    signature = Signature.objects.filter(email_normalised=email).latest("pk")
    assert signature.language == code
    found = {}
    with translation.override(code):
        for purpose, name in (
            (Purpose.CONFIRM, "confirm"),
            (Purpose.WITHDRAW, "withdraw"),
            (Purpose.UNFOLLOW, "unfollow"),
        ):
            url = reverse(
                {
                    "confirm": "signatories:confirm",
                    "withdraw": "signatories:withdraw",
                    "unfollow": "signatories:unfollow",
                }[name],
                args=[letter.slug, make_token(signature, purpose)],
            )
            found[f"{name} page"] = (client.get(url).content, "text/html")
            if name == "confirm":
                done = client.post(url)
                found["confirmed page"] = (done.content, "text/html")
    # Signing again with a confirmed address: the "already signed" email.
    client.post(sign_url, sign_data(email=email), REMOTE_ADDR="203.0.113.10")
    addressee = Addressee.objects.get(letter=letter, recipient__slug="zsnap")
    record_response_event(
        addressee=addressee,
        kind=ResponseEvent.Kind.ACKNOWLEDGED,
        date=datetime.date(2023, 11, 1),
        summary="Zsnap acknowledged.",
    )
    return found


def emails() -> dict[str, tuple[str, str]]:
    """Every email sent so far: its subject and its text."""
    found = {}
    for number, message in enumerate(mail.outbox):
        found[f"email {number + 1}: subject"] = (message.subject, "text/plain")
        found[f"email {number + 1}: body"] = (message.body, "text/plain")
    # The confirmation link, "already signed" and the news of an answer.
    assert len(mail.outbox) >= 3, [m.subject for m in mail.outbox]
    return found


@pytest.mark.parametrize("code", SHIPPED)
def test_every_public_page_and_email_draws_its_words_from_the_catalogue(
    client, tmp_path, code, django_capture_on_commit_callbacks
):
    marked_catalogue(code, tmp_path)
    with override_settings(
        LOCALE_PATHS=[tmp_path],
        TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
    ):
        caches["pages"].clear()
        site = seed()
        allowed = Allowed(code)
        with django_capture_on_commit_callbacks(execute=True):
            found = pages(client, site, code)
            # A name its signatory chose to hide stays hidden in every language.
            for name, (body, _type) in found.items():
                for hidden in ("Zoe Initials", "Initials", "Firstname", "Zack", "Anonymous"):
                    assert hidden.encode() not in body, (name, hidden)
            found |= signer_pages_and_emails(client, site, code)
        found |= emails()
        allowed = Allowed(code)  # now with the signer's own details as data too
        missing = {}
        for name, (body, content_type) in found.items():
            left = [text for text in unmarked(read(body, content_type)) if text not in allowed]
            if left:
                missing[name] = left
        caches["pages"].clear()
    assert missing == {}, "\n".join(f"{name}: {left}" for name, left in missing.items())

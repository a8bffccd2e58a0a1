"""Signers get their emails in the language they signed in (issue 14, point 4): the sign
form records the page's language on the signature, and every email to the signer —
the confirmation link, the "already signed" reminder, the news of a recipient's answer —
is written in it, subject, text and links, whatever language the task runs in.

These tests install a small throwaway catalogue of their own (``tests.catalogues``) with
a few French and German messages, so that they test the mechanism whatever the shipped
wording; dates come in each language's own format from Django's locale data. The emails
are read as the bytes a mail server receives; a link reversed in French carries ``/fr/``.
"""

import datetime
import email
import email.policy
import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from letters.models import EventKind
from letters.responses import record_response_event
from signatories.models import Category, SignatoryKind, Signature
from signatories.retention import anonymise_closed
from signatories.signing import CONSENT_TEXT, SignerDetails, confirm_signature, sign_letter
from signatories.tasks import send_signature_email
from tests.catalogues import install_catalogues
from tests.factories import make_addressee, make_letter, make_recipient
from tests.helpers import sign

pytestmark = [pytest.mark.django_db]

FRENCH_CONSENT = "J’accepte que ma signature soit publiée et comptée."


@pytest.fixture(autouse=True)
def catalogues(settings, tmp_path):
    install_catalogues(
        settings,
        tmp_path / "locale",
        {
            "fr": {
                "Hello,": "Bonjour,",
                "Confirm your signature: %(title)s": "Signature à confirmer : %(title)s",
                "You have already signed: %(title)s": "Vous avez déjà signé : %(title)s",
                CONSENT_TEXT: FRENCH_CONSENT,
            },
            "de": {
                "Hello,": "Hallo,",
                (
                    "follow-up email subject",
                    "%(recipient)s: %(answered)s — %(title)s",
                ): "Neues von %(recipient)s: %(answered)s — %(title)s",
                ("follow-up email subject", "replied"): "hat geantwortet",
            },
        },
    )


@pytest.fixture
def signable():
    return make_letter(title="Safer chat apps", accepts_public_signatures=True)


def received(message) -> tuple[bytes, email.message.EmailMessage]:
    """The message as the bytes a mail server receives, and those bytes parsed back."""
    raw = message.message().as_bytes()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def header_section(raw: bytes) -> bytes:
    return raw.split(b"\n\n", 1)[0]


def text_of(parsed) -> str:
    return parsed.get_body(("plain",)).get_content()


def links_in(text: str) -> list[str]:
    return re.findall(rf"{re.escape(settings.SITE_URL)}/\S+", text)


def public_signer(letter, *, language: str, email_address: str = "ada@example.net"):
    """A signature made as the public form makes it, in ``language``, no email sent."""
    return sign_letter(
        letter=letter,
        details=SignerDetails(
            kind=SignatoryKind.INDIVIDUAL,
            name="Ada Lovelace",
            email=email_address,
            category=Category.SURVIVOR,
            country="GB",
            follow_up=True,
        ),
        ip_address="198.51.100.7",
        language=language,
        send_email=False,
    )


def test_the_throwaway_catalogue_is_the_one_django_reads():
    with translation.override("fr"):
        assert translation.gettext("Hello,") == "Bonjour,"
    assert translation.gettext("Hello,") == "Hello,"


# Signing records the page's language


def test_signing_in_french_records_french_on_the_signature(client, signable):
    with translation.override("fr"):
        response = sign(client, signable)

    assert response.status_code == 302
    signature = Signature.objects.get(letter=signable)
    assert signature.language == "fr"
    # The consent is kept as the form showed it: in French.
    assert signature.consent_text == FRENCH_CONSENT


def test_signing_in_the_default_language_records_it(client, signable):
    sign(client, signable)

    signature = Signature.objects.get(letter=signable)
    assert signature.language == settings.LANGUAGE_CODE
    assert signature.consent_text == CONSENT_TEXT


# The confirmation email


def test_confirmation_email_is_written_in_french_subject_text_and_links(client, signable):
    with translation.override("fr"):
        sign(client, signable)

    [message] = mail.outbox
    raw, parsed = received(message)
    # The subject as the server receives it: ASCII on the wire (an RFC 2047 encoded-word),
    # French once decoded.
    assert header_section(raw).isascii()
    assert b"=?utf-8?" in header_section(raw)
    assert parsed["Subject"] == "Signature à confirmer : Safer chat apps"
    assert parsed["Content-Language"] == "fr"
    text = text_of(parsed)
    assert text.startswith("Bonjour,\n")
    links = links_in(text)
    assert links and all(link.startswith(f"{settings.SITE_URL}/fr/") for link in links)
    assert f"{settings.SITE_URL}/fr/letters/{signable.slug}/confirm/" in text


def test_confirmation_email_keeps_the_signers_language_when_the_task_runs_in_another(
    signable,
):
    """A worker runs in the site's default language: the email is French all the same."""
    signature = public_signer(signable, language="fr")

    with translation.override("en-gb"):
        assert send_signature_email.call(signature.pk, "confirm") is True

    [message] = mail.outbox
    _raw, parsed = received(message)
    assert parsed["Subject"] == "Signature à confirmer : Safer chat apps"
    assert text_of(parsed).startswith("Bonjour,\n")
    assert all(link.startswith(f"{settings.SITE_URL}/fr/") for link in links_in(text_of(parsed)))


def test_a_signature_without_a_language_gets_english_even_from_a_french_context(signable):
    signature = public_signer(signable, language="")

    with translation.override("fr"):
        assert send_signature_email.call(signature.pk, "confirm") is True

    [message] = mail.outbox
    _raw, parsed = received(message)
    assert parsed["Subject"] == "Confirm your signature: Safer chat apps"
    assert parsed["Content-Language"] == settings.LANGUAGE_CODE
    text = text_of(parsed)
    assert text.startswith("Hello,\n")
    assert f"{settings.SITE_URL}/letters/{signable.slug}/confirm/" in text
    assert "/fr/" not in text


# Signing again


def test_signing_again_in_french_gets_the_reminder_in_french(client, signable):
    standing = public_signer(signable, language="en-gb")
    confirm_signature(signature_id=standing.pk)

    with translation.override("fr"):
        sign(client, signable, email="ada@example.net")

    [message] = mail.outbox
    _raw, parsed = received(message)
    assert parsed["Subject"] == "Vous avez déjà signé : Safer chat apps"
    assert text_of(parsed).startswith("Bonjour,\n")
    # The reminder answers the French submission (set aside); the signature that stands
    # keeps the language its signer chose.
    assert list(Signature.objects.filter(letter=signable)) == [standing]
    standing.refresh_from_db()
    assert standing.language == "en-gb"


# News of a recipient's answer


def test_news_of_an_answer_is_written_in_each_followers_language(
    signable, django_capture_on_commit_callbacks
):
    addressee = make_addressee(signable, make_recipient(name="Chatterbox"))
    for language, address in (("de", "de@example.net"), ("", "en@example.net")):
        follower = public_signer(signable, language=language, email_address=address)
        confirm_signature(signature_id=follower.pk)

    with django_capture_on_commit_callbacks(execute=True):
        record_response_event(
            addressee=addressee, kind=EventKind.REPLIED, date=datetime.date(2024, 3, 5)
        )

    by_address = {message.to[0]: received(message) for message in mail.outbox}
    raw, german = by_address["de@example.net"]
    assert header_section(raw).isascii()
    assert german["Subject"] == "Neues von Chatterbox: hat geantwortet — Safer chat apps"
    assert german["Content-Language"] == "de"
    text = text_of(german)
    assert text.startswith("Hallo,\n")
    assert "(5. März 2024)" in text  # German's own date format and month name
    assert all(link.startswith(f"{settings.SITE_URL}/de/") for link in links_in(text))
    assert german["List-Unsubscribe"].strip().startswith(f"<{settings.SITE_URL}/de/letters/")

    _raw, english = by_address["en@example.net"]
    assert english["Subject"] == "Chatterbox: replied — Safer chat apps"
    assert text_of(english).startswith("Hello,\n")
    assert "März" not in text_of(english) and "/de/" not in text_of(english)


# Where the language is kept, and where not


def test_the_language_is_in_no_public_output(client, signable):
    signature = public_signer(signable, language="fr")
    confirm_signature(signature_id=signature.pk)

    csv_header = b"".join(
        client.get(reverse("signatories:letter_csv", args=[signable.slug])).streaming_content
    ).splitlines()[0]
    api = client.get(reverse("api:letter-signatures", args=[signable.slug])).json()

    assert b"language" not in csv_header
    assert len(api["results"]) == 1
    assert "language" not in api["results"][0]
    assert "fr" not in api["results"][0].values()


def test_retention_erases_the_language_with_the_email(signable):
    signature = public_signer(signable, language="fr")
    confirm_signature(signature_id=signature.pk)
    signable.status, signable.closed_on = "closed", datetime.date(2024, 1, 1)
    signable.save()

    anonymise_closed(days=0, today=datetime.date(2024, 1, 2))

    signature.refresh_from_db()
    assert (signature.email, signature.language) == ("", "")
    assert not Signature.history.filter(id=signature.pk).exclude(language="").exists()

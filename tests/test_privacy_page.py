"""The privacy page says what data protection law asks a site collecting signers' details to
say: who is responsible and how to reach them, on what basis, for how long, and the
signer's rights with how to use them. Its figures and names come from the settings."""

import html
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def page_text(client) -> str:
    response = client.get(reverse("signatories:privacy"))
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", "", response.content.decode())
    return " ".join(html.unescape(text).split())


def test_privacy_page_names_the_data_controller_and_contact_from_settings(client, settings):
    settings.DATA_CONTROLLER = "Coalition Against Online Harm CIO"
    settings.DATA_CONTROLLER_CONTACT = "privacy@coalition.example"

    response = client.get(reverse("signatories:privacy"))
    text = page_text(client)

    assert (
        "The data controller, responsible for your details under data protection law, "
        "is Coalition Against Online Harm CIO." in text
    )
    assert "Contact Coalition Against Online Harm CIO: privacy@coalition.example" in text
    assert b'href="mailto:privacy@coalition.example"' in response.content


def test_privacy_page_shows_a_postal_contact_as_written_not_as_a_link(client, settings):
    settings.DATA_CONTROLLER = "Coalition Against Online Harm CIO"
    settings.DATA_CONTROLLER_CONTACT = "1 Example Street, London N1 1AA"

    response = client.get(reverse("signatories:privacy"))

    assert "1 Example Street, London N1 1AA" in page_text(client)
    assert b"mailto:" not in response.content


def test_privacy_page_says_plainly_when_no_controller_is_configured(client, settings):
    settings.DATA_CONTROLLER = ""
    settings.DATA_CONTROLLER_CONTACT = ""

    text = page_text(client)

    assert "has not yet published its name here as the data controller" in text
    assert "No contact address for the data controller has been published here yet" in text


@pytest.mark.parametrize("days", [30, 365])
def test_privacy_page_states_the_retention_period_from_settings(client, settings, days):
    settings.RETENTION_DAYS = days

    text = page_text(client)

    assert f"{days} days after a letter closes, we erase the email addresses" in text
    assert f"before the {days} days are up" in text


def test_privacy_page_states_consent_as_the_lawful_basis_and_how_to_withdraw_it(client):
    text = page_text(client)

    assert "the lawful basis is your consent" in text
    assert "withdraw your consent at any time" in text
    assert "with the withdraw link in every email we send you" in text


def test_privacy_page_lists_the_signers_rights_and_how_to_use_them(client, settings):
    settings.DATA_CONTROLLER_CONTACT = "privacy@coalition.example"

    text = page_text(client)

    for right in ["Access", "Correction", "Erasure", "Objection and restriction", "Complaint"]:
        assert f"{right}:" in text
    assert "supervisory authority" in text
    assert "Information Commissioner's Office" in text
    assert "To use any of these rights, write to us at the address below" in text
    assert "We answer within one month" in text

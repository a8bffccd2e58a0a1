"""Machine-readable outputs keep stable codes and English labels whatever the language
(issue 14): the public CSV, the JSON API, a letter's count.json and its delivered list are
the same when asked for in French, and a list frozen or checked while French is active
reads its rows in English (else every row would look changed and be redacted).

French is active in each request (``translation.override("fr")``, the addresses reversed
under it: ``/fr/…`` with the site's language prefixes), and a
throwaway French catalogue (``tests.catalogues``) translates the labels these outputs
carry, so that a French label would show if one slipped through; country names come in
French from django-countries itself.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_countries.fields import Country

from signatories.delivered import freeze_delivered_list, redact_stale_rows
from signatories.exports import PROFILE_SLUG_PLACEHOLDER, public_row_maker
from signatories.filters import UNKNOWN_KIND
from signatories.models import Category, DeliveredList, Signature, Verification
from signatories.tallies import refresh_tally
from tests.catalogues import install_catalogues
from tests.factories import make_addressee, make_letter, make_person, make_recipient, make_signature
from tests.helpers import csv_rows, csv_url

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def french(settings, tmp_path):
    install_catalogues(
        settings,
        tmp_path / "locale",
        {
            "fr": {
                ("kind of signatory", "Individual"): "Personne",
                ("category of signatory", "Survivor"): "Survivante",
                ("how a signer's name is shown", "Full name"): "Nom complet",
                ("verification of a signature", "Confirmed by email"): "Confirmée par e-mail",
                ("kind of signatory, after a category", "individual"): "personne",
                ("recipient's response status", "Awaiting response"): "En attente de réponse",
                "No answer yet": "Pas encore de réponse",
                str(UNKNOWN_KIND): "« %(value)s » n’est pas un type de signataire.",
            }
        },
    )


@pytest.fixture
def letter(db):
    """A public letter with one signer in Germany, named in full, confirmed by email,
    and a recipient yet to answer."""
    letter = make_letter(title="Safer chat apps")
    make_signature(
        letter,
        make_person("Grete Beispiel", country="DE", category=Category.SURVIVOR),
        verification=Verification.EMAIL_CONFIRMED,
        verified_at=timezone.now(),
    )
    make_addressee(letter, make_recipient(name="Chatterbox"))
    refresh_tally(letter.pk)
    return letter


ENGLISH_ROW = {
    "name": "Grete Beispiel",
    "name_shown_as": "Full name",
    "kind": "Individual",
    "category": "Survivor",
    "country_code": "DE",
    "country": "Germany",
    "verification": "Confirmed by email",
}


def test_the_french_catalogue_translates_these_labels():
    """What the tests below would catch: in French, the labels are French."""
    with translation.override("fr"):
        labels = [str(Category.SURVIVOR.label), str(Verification.EMAIL_CONFIRMED.label)]
        assert labels == ["Survivante", "Confirmée par e-mail"]
        assert Country("DE").name == "Allemagne"


def test_csv_asked_for_in_french_has_codes_and_english_labels(client, letter):
    with translation.override("fr"):
        url = csv_url(letter)
        response = client.get(url)
        # Streamed after the view returned, still in the request's language.
        [row] = csv_rows(response)

    assert url.startswith("/fr/")
    assert response["Content-Language"] == "en-gb"
    assert {column: row[column] for column in ENGLISH_ROW} == ENGLISH_ROW
    assert row["profile_url"].startswith("http")
    assert "/fr/" not in row["profile_url"]


def test_api_asked_for_in_french_has_codes_and_english_labels(client, letter):
    with translation.override("fr"):
        detail = client.get(reverse("api:letter-detail", args=[letter.slug]))
        signatures = client.get(reverse("api:letter-signatures", args=[letter.slug]))

    assert detail["Content-Language"] == "en-gb"
    counts = detail.json()["counts"]
    assert {row["kind"]: row["label"] for row in counts["by_kind"]}["individual"] == "Individual"
    assert counts["by_category"] == [
        {"category": "survivor", "label": "Survivor (individual)", "count": 1}
    ]
    assert counts["by_country"] == [{"country_code": "DE", "country": "Germany", "count": 1}]
    verified = {row["verification"]: row["label"] for row in counts["by_verification"]}
    assert verified["email_confirmed"] == "Confirmed by email"
    [addressee] = detail.json()["addressees"]
    assert addressee["response"]["status"] == "awaiting"
    assert addressee["response"]["status_label"] == "Awaiting response"
    assert addressee["response"]["answer"] == "No answer yet"
    assert "/fr/" not in detail.json()["url"]
    [row] = signatures.json()["results"]
    assert {column: row[column] for column in ENGLISH_ROW} == ENGLISH_ROW


def test_api_error_asked_for_in_french_is_in_english(client, letter):
    with translation.override("fr"):
        response = client.get(
            reverse("api:letter-signatures", args=[letter.slug]), {"kind": "robot"}
        )

    assert response.status_code == 400
    assert response.json()["errors"]["kind"] == [
        "“robot” is not a kind of signatory here. Choose Organisation or Individual, "
        "or clear the filter."
    ]


def test_count_json_asked_for_in_french_is_the_same_as_in_english(client, letter):
    english = client.get(reverse("signatories:letter_count", args=[letter.slug]))
    with translation.override("fr"):
        url = reverse("signatories:letter_count", args=[letter.slug])
        french = client.get(url)

    assert url.startswith("/fr/")
    assert french["Content-Language"] == "en-gb"
    assert french.json() == english.json()
    assert "/fr/" not in french.json()["url"]


def test_a_list_frozen_in_french_holds_english_rows_and_its_file_is_the_same(client, letter):
    with translation.override("fr"):
        freeze_delivered_list(letter=letter)
        url = reverse("signatories:delivered_file", args=[letter.slug])
        french = client.get(url)
        body = b"".join(french.streaming_content)
    english = client.get(reverse("signatories:delivered_file", args=[letter.slug]))

    assert url.startswith("/fr/")
    assert french["Content-Language"] == "en-gb"
    assert body == b"".join(english.streaming_content)
    text = body.decode()
    assert '"Survivor"' in text and '"Confirmed by email"' in text and '"Germany"' in text


def test_a_list_checked_in_french_keeps_the_rows_frozen_in_english(letter):
    delivered = freeze_delivered_list(letter=letter)
    ids = list(Signature.objects.filter(letter=letter).values_list("pk", flat=True))

    with translation.override("fr"):
        redacted = redact_stale_rows(signature_ids=ids, letter_ids=[letter.pk])

    assert redacted == 0
    delivered = DeliveredList.objects.get(pk=delivered.pk)
    assert (delivered.shown, delivered.redacted) == (1, 0)


def test_public_rows_are_made_in_english_whatever_language_is_active(letter):
    values = ("full", "Grete Beispiel", "grete", "individual", "survivor", "DE")
    values += ("", "", "", datetime.date(2026, 12, 3), "email_confirmed", "")

    with translation.override("fr"):
        row = public_row_maker(profile_url=PROFILE_SLUG_PLACEHOLDER)(values)

    # Text already, not labels translated later in whatever language is active then.
    assert all(type(cell) is str for cell in row)
    assert row[:6] == ["Grete Beispiel", "Full name", "Individual", "Survivor", "DE", "Germany"]
    assert row[9:11] == ["2026-12-03", "Confirmed by email"]

"""A letter's translations, entered in the letter admin beside the original, shown on the
page in the visitor's language with what they are, and refused when they make no sense."""

import pytest
from django.urls import reverse
from django.utils import translation

from letters.models import LetterTranslation
from tests.factories import make_letter
from tests.helpers import letter_admin_form, parse, text_of

pytestmark = pytest.mark.django_db


def translations_inline(*rows) -> dict:
    data = {"translations-TOTAL_FORMS": str(len(rows)), "translations-INITIAL_FORMS": "0"}
    for number, row in enumerate(rows):
        data |= {f"translations-{number}-{field}": value for field, value in row.items()}
    return data


def change_url(letter) -> str:
    return reverse("admin:letters_letter_change", args=[letter.pk])


def page_in(client, letter, code: str, query: str = ""):
    with translation.override(code):
        return client.get(letter.get_absolute_url() + query)


def test_staff_add_a_translation_beside_the_original_and_the_page_shows_it(admin_client, client):
    letter = make_letter(title="Protect children", summary="We ask.", body="Our **text**.")
    german = {
        "language": "de",
        "made_by": "organisers",
        "title": "Schützt Kinder",
        "summary": "Wir bitten.",
        "body": "Unser **Text**.",
    }
    response = admin_client.post(
        change_url(letter), letter_admin_form(letter) | translations_inline(german)
    )
    assert response.status_code == 302
    [saved] = LetterTranslation.objects.filter(letter=letter)
    assert (saved.language, saved.made_by, saved.title) == ("de", "organisers", "Schützt Kinder")

    page = page_in(client, letter, "de")
    html = page.content.decode()
    assert '<h1 dir="auto" lang="de">Schützt Kinder</h1>' in html
    assert "<strong>Text</strong>" in html
    text = text_of(page)
    # Who made it, and the original's language, in German; and a link to the original.
    assert (
        "Dies ist eine Übersetzung, die von den Organisierenden des Briefs veröffentlicht "
        "wurde. Der Brief wurde auf Englisch verfasst."
    ) in text
    links = dict(parse(page).links)
    assert links["English"] == letter.get_absolute_url().replace("/de/", "/")
    # English and French visitors read the original, which links the German.
    for code in ("en-gb", "fr"):
        other = page_in(client, letter, code)
        assert '<h1 dir="auto" lang="en">Protect children</h1>' in other.content.decode()
        assert dict(parse(other).links)["Deutsch"] == "/de/letters/" + letter.slug + "/"


def test_a_summary_alone_is_shown_in_translation_and_the_rest_in_the_original(client):
    letter = make_letter(title="Protect children", summary="We ask.")
    LetterTranslation.objects.create(letter=letter, language="fr", summary="Nous demandons.")
    html = page_in(client, letter, "fr").content.decode()
    assert '<p class="lede" dir="auto" lang="fr">Nous demandons.</p>' in html
    assert '<h1 dir="auto" lang="en">Protect children</h1>' in html
    assert "traduction réalisée pour ce site" in html


def test_a_translation_into_a_language_the_site_is_not_in_opens_with_text(client):
    letter = make_letter(title="Protect children")
    LetterTranslation.objects.create(letter=letter, language="ar", title="احموا الأطفال")
    english = page_in(client, letter, "en-gb")
    arabic_link = dict(parse(english).links)["العربيّة"]
    assert arabic_link == letter.get_absolute_url() + "?text=ar"
    html = client.get(arabic_link).content.decode()
    assert '<h1 dir="auto" lang="ar">احموا الأطفال</h1>' in html
    # A language that is not a language shows the original, never an error.
    assert client.get(letter.get_absolute_url() + "?text=zz-nope").status_code == 200


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"language": "en", "made_by": "site", "title": "Again"}, "letter's own language"),
        ({"language": "fr", "made_by": "site"}, "needs a title, a summary or a text"),
    ],
)
def test_a_translation_that_makes_no_sense_is_refused_and_nothing_is_saved(
    admin_client, row, message
):
    letter = make_letter(language="en")
    row = {"title": "", "summary": "", "body": ""} | row
    response = admin_client.post(
        change_url(letter), letter_admin_form(letter) | translations_inline(row)
    )
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not LetterTranslation.objects.exists()


def test_two_translations_into_one_language_are_refused(admin_client):
    letter = make_letter()
    rows = [{"language": "de", "made_by": "site", "summary": f"Text {n}"} for n in (1, 2)]
    response = admin_client.post(
        change_url(letter), letter_admin_form(letter) | translations_inline(*rows)
    )
    assert response.status_code == 200
    assert not LetterTranslation.objects.exists()


def test_pages_that_list_a_letter_show_its_title_in_the_visitors_language(client):
    """The recipient list and page, a country's page and a signatory's page name each
    letter in the page's language where it has a translated title, else in the original."""
    from letters.models import Recipient
    from tests.factories import make_addressee, make_signatory, make_signature

    letter = make_letter(title="Protect children")
    LetterTranslation.objects.create(letter=letter, language="es", title="Protejan a los niños")
    recipient = make_addressee(letter, Recipient.objects.create(name="Meta", slug="meta")).recipient
    signatory = make_signatory(name="Fundación Ejemplo", country="ES")
    make_signature(letter, signatory)
    with translation.override("es"):
        urls = [
            reverse("letters:recipient_list"),
            reverse("letters:recipient_detail", args=[recipient.slug]),
            reverse("signatories:country_detail", args=["ES"]),
            reverse("signatories:detail", args=[signatory.slug]),
        ]
    for url in urls:
        spanish = client.get(url).content.decode()
        assert "Protejan a los niños" in spanish, url
        assert "Protect children" not in spanish, url
        english = client.get(url.removeprefix("/es")).content.decode()
        assert "Protect children" in english and "Protejan" not in english, url

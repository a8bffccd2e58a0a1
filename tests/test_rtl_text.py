"""Right-to-left text (issue 14, point 6): a name or statement written in Arabic or Hebrew
is isolated on every public page that shows it (``dir="auto"`` on the element that holds
it, or ``<bdi>`` inside a sentence), so it runs in its own direction and cannot reorder the
words and punctuation around it."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from signatories.models import Display
from tests.factories import make_letter, make_person, make_signature

pytestmark = pytest.mark.django_db

ARABIC_NAME = "ليلى حداد"
HEBREW_STATEMENT = "אנחנו דורשים שינוי, עכשיו."
HEBREW_NAME = "נועה לוי"
HEBREW_FIRST_NAME = "נועה"


class Isolation(HTMLParser):
    """The body's text, split into what sits inside an isolating element (``<bdi>`` or
    ``dir="auto"``: each such element's whole text, whitespace squashed) and what does not."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    CODE = {"script", "style", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.isolated: list[str] = []
        self.loose: list[str] = []
        self._open: list[tuple[str, list[str] | None]] = []  # (tag, text if isolating)
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self._in_body = True
        if tag in self.VOID:
            return
        isolating = tag == "bdi" or dict(attrs).get("dir") == "auto"
        self._open.append((tag, [] if isolating else None))

    def handle_endtag(self, tag):
        if tag not in (name for name, _text in self._open):
            return
        while True:
            name, text = self._open.pop()
            if text is not None:
                self.isolated.append(" ".join("".join(text).split()))
            if name == tag:
                break

    def handle_data(self, data):
        if not self._in_body or any(tag in self.CODE for tag, _text in self._open):
            return  # <title> cannot hold markup; embed code to copy is not read as text
        collecting = [text for _tag, text in self._open if text is not None]
        for text in collecting:
            text.append(data)
        if not collecting:
            self.loose.append(data)


def isolation(response) -> Isolation:
    assert response.status_code == 200
    parser = Isolation()
    parser.feed(response.content.decode())
    parser.close()
    return parser


def assert_isolated(response, text: str) -> None:
    """``text`` is shown, each time as the whole of an isolating element, never loose."""
    page = isolation(response)
    assert text in page.isolated, f"{text!r} is not the whole text of any isolating element"
    assert text not in " ".join(page.loose), f"{text!r} also appears outside an isolating element"


@pytest.fixture
def letter():
    return make_letter()


@pytest.fixture
def arabic_signature(letter):
    signatory = make_person(ARABIC_NAME, slug="layla-haddad", country="LB")
    return make_signature(letter, signatory, statement=HEBREW_STATEMENT, featured=True)


def test_letter_page_isolates_an_arabic_name_and_a_hebrew_statement(client, arabic_signature):
    response = client.get(arabic_signature.letter.get_absolute_url())

    assert_isolated(response, ARABIC_NAME)
    assert_isolated(response, HEBREW_STATEMENT)


def test_signatory_page_isolates_an_arabic_name_and_a_hebrew_statement(client, arabic_signature):
    response = client.get(arabic_signature.signatory.get_absolute_url())

    assert_isolated(response, ARABIC_NAME)
    assert_isolated(response, HEBREW_STATEMENT)


def test_country_page_isolates_an_arabic_name(client, arabic_signature):
    response = client.get(reverse("signatories:country_detail", args=["LB"]))

    assert_isolated(response, ARABIC_NAME)


def test_a_hebrew_first_name_shown_alone_is_isolated_on_the_letter_and_country_pages(
    client, letter
):
    signatory = make_person(HEBREW_NAME, slug="noa-levi", country="IL")
    make_signature(letter, signatory, display=Display.FIRST_NAME)

    for url in (letter.get_absolute_url(), reverse("signatories:country_detail", args=["IL"])):
        response = client.get(url)
        assert_isolated(response, HEBREW_FIRST_NAME)
        assert HEBREW_NAME not in response.content.decode()  # the surname stays hidden


def test_an_arabic_letter_title_and_summary_are_isolated_on_the_letter_page_and_its_card(client):
    letter = make_letter(title="رسالة مفتوحة", summary="نطالب بالتغيير الآن.")

    for url in (letter.get_absolute_url(), reverse("letters:list")):
        response = client.get(url)
        assert_isolated(response, "رسالة مفتوحة")
        assert_isolated(response, "نطالب بالتغيير الآن.")

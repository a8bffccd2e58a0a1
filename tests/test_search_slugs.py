"""The name search ignores accents, case and typographic apostrophes, on SQLite and
PostgreSQL alike, and still reads only the name as shown; signatory slugs keep the letters
of every script, resolve to the right page, and never carry a name kept hidden.

Checked as a visitor meets them: the letter page's list and its CSV, links followed as the
page gives them (percent-encoded), the sign form and the admin used as people use them.
"""

import csv
import io
import re
import time
from html import unescape
from urllib.parse import unquote, urlencode

import pytest
from django.core import mail
from django.urls import reverse

from letters.models import Letter
from signatories.abuse import form_stamp
from signatories.models import Display, Signatory, SignatoryKind, Signature
from signatories.slugs import slug_base
from tests.factories import make_letter, make_person, make_signatory, make_signature
from tests.helpers import table_rows

pytestmark = pytest.mark.django_db

HIDDEN_DISPLAYS = [Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS]


def search_url(letter: Letter, q: str) -> str:
    return f"{letter.get_absolute_url()}?{urlencode({'q': q})}"


def csv_search_url(letter: Letter, q: str) -> str:
    return f"{reverse('signatories:letter_csv', args=[letter.slug])}?{urlencode({'q': q})}"


def found(client, letter: Letter, q: str) -> list[str]:
    """The names a search lists on the letter's page, checked against its CSV."""
    page = [row[0] for row in table_rows(client.get(search_url(letter, q)))]
    response = client.get(csv_search_url(letter, q))
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    in_csv = [row["name"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    assert in_csv == page, q
    return page


def person(letter: Letter, name: str, display: str = Display.FULL) -> Signatory:
    signatory = make_person(name, slug=slug_base(name))
    make_signature(letter, signatory, display=display)
    return signatory


def organisation(letter: Letter, name: str) -> Signatory:
    signatory = make_signatory(name=name, slug=slug_base(name))
    make_signature(letter, signatory)
    return signatory


def page_text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode()


# Slugs


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Zoë Žižek", "zoe-zizek"),
        ("张伟", "张伟"),
        ("محمد علي", "محمد-علي"),
        ("हिन्दी लेखक", "हिन्दी-लेखक"),
        ("Straße Øst Łódź", "strasse-ost-lodz"),
        ("The Children’s Society", "the-childrens-society"),
        ("🌈", "signatory"),
    ],
)
def test_slug_base_keeps_every_script_and_drops_latin_accents(name, slug):
    assert slug_base(name) == slug


def test_slug_base_is_cut_to_fit_the_field_without_parting_a_letter_from_its_mark():
    slug = slug_base("कि" * 150)

    assert len(slug) <= 200
    assert slug.endswith("कि")


def admin_signatory_form(**fields) -> dict:
    data = {
        "name": "",
        "slug": "",
        "kind": SignatoryKind.INDIVIDUAL,
        "category": "survivor",
        "country": "",
        "role": "",
        "affiliation": "",
        "website": "",
        "description": "",
        "email": "",
        "notes": "",
        "signatures-TOTAL_FORMS": "0",
        "signatures-INITIAL_FORMS": "0",
        "signatures-MIN_NUM_FORMS": "0",
        "signatures-MAX_NUM_FORMS": "1000",
    }
    return data | fields


def admin_add(admin_client, name: str) -> Signatory:
    response = admin_client.post(
        reverse("admin:signatories_signatory_add"), admin_signatory_form(name=name)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Signatory.objects.get(name=name)


def signatory_links(response) -> list[str]:
    """The hrefs of a page's links to signatory pages, as the page gives them."""
    prefix = reverse("signatories:detail", args=["x"]).removesuffix("x/")
    return [
        unescape(href)
        for href in re.findall(r'href="([^"]+)"', page_text(response))
        if href.startswith(prefix)
    ]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("张伟", "张伟"),
        ("محمد علي", "محمد-علي"),
        ("हिन्दी लेखक", "हिन्दी-लेखक"),
        ("Zoë Žižek", "zoe-zizek"),
    ],
)
def test_signatory_added_by_staff_gets_a_readable_slug_and_its_page_opens_from_the_letter(
    admin_client, client, letter, name, slug
):
    signatory = admin_add(admin_client, name)
    make_signature(letter, signatory)

    [link] = signatory_links(client.get(letter.get_absolute_url()))
    response = client.get(link)

    assert signatory.slug == slug
    assert unquote(link) == f"/signatories/{slug}/"
    assert response.status_code == 200
    assert f"<h1>{name}</h1>" in page_text(response)


def test_two_staff_added_signatories_with_one_non_latin_name_get_two_pages(
    admin_client, client, letter
):
    first = admin_add(admin_client, "张伟")
    admin_client.post(reverse("admin:signatories_signatory_add"), admin_signatory_form(name="张伟"))
    second = Signatory.objects.exclude(pk=first.pk).get(name="张伟")
    make_signature(letter, first, statement="First")
    make_signature(letter, second, statement="Second")

    assert (first.slug, second.slug) == ("张伟", "张伟-2")
    for link in signatory_links(client.get(letter.get_absolute_url())):
        assert client.get(link).status_code == 200


def test_csv_profile_link_of_a_non_latin_slug_opens_the_page(client, letter):
    person(letter, "张伟")
    response = client.get(reverse("signatories:letter_csv", args=[letter.slug]))
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    [row] = csv.DictReader(io.StringIO(text, newline=""))
    [profile] = [value for value in row.values() if "/signatories/" in value]

    assert client.get(profile).status_code == 200


def test_a_slug_typed_by_staff_may_be_in_any_script_but_not_punctuation(admin_client):
    ok = admin_client.post(
        reverse("admin:signatories_signatory_add"),
        admin_signatory_form(name="Priya Sharma", slug="प्रिया"),
    )
    refused = admin_client.post(
        reverse("admin:signatories_signatory_add"),
        admin_signatory_form(name="Other Person", slug="other/person"),
    )

    assert ok.status_code == 302
    assert Signatory.objects.get(name="Priya Sharma").slug == "प्रिया"
    assert refused.status_code == 200
    assert not Signatory.objects.filter(name="Other Person").exists()


def sign_data(name: str, email: str, display: str, kind: str = "individual") -> dict:
    return {
        "kind": kind,
        "name": name,
        "email": email,
        "category": "survivor" if kind == "individual" else "charity",
        "country": "GB",
        "display": display,
        "role": "",
        "affiliation": "",
        "website": "",
        "statement": "",
        "consent": "on",
        "homepage": "",
        "stamp": form_stamp(now=time.time() - 60),
    }


def sign_and_confirm(client, letter: Letter, name: str, email: str, display: str) -> Signatory:
    response = client.post(
        reverse("signatories:sign", args=[letter.slug]), sign_data(name, email, display)
    )
    assert response.status_code == 302
    [message] = [m for m in mail.outbox if m.to == [email]]
    [confirm] = re.findall(r"https?://\S+/confirm/\S+/", message.body)
    client.post(confirm[confirm.index("/letters/") :])
    signature = Signature.objects.get(letter=letter, signatory__name=name)
    assert signature.status == Signature.Status.PUBLISHED
    return signature.signatory


HIDDEN_SIGNERS = [
    ("Jürgen Müller", Display.FIRST_NAME, ["jurgen", "muller", "müller", "jürgen"]),
    ("Zoë Žižek", Display.INITIALS, ["zoe", "zoë", "zizek", "žižek"]),
    ("محمد علي", Display.ANONYMOUS, ["محمد", "علي"]),
    ("张伟", Display.FIRST_NAME, ["张伟"]),
]


def test_public_signers_who_hide_their_name_get_a_slug_without_any_of_it(client):
    letter = make_letter(accepts_public_signatures=True)
    for n, (name, display, parts) in enumerate(HIDDEN_SIGNERS):
        signatory = sign_and_confirm(client, letter, name, f"hidden{n}@example.net", display)

        assert not any(part in signatory.slug.casefold() for part in parts), signatory.slug
        assert client.get(signatory.get_absolute_url()).status_code == 404


def test_a_public_signer_named_in_full_gets_a_readable_page(client):
    letter = make_letter(accepts_public_signatures=True)
    signatory = sign_and_confirm(client, letter, "محمد علي", "m@example.net", Display.FULL)

    [link] = signatory_links(client.get(letter.get_absolute_url()))

    assert re.fullmatch(r"محمد-علي-[0-9a-f]{8}", signatory.slug)
    assert unquote(link) == f"/signatories/{signatory.slug}/"
    assert client.get(link).status_code == 200


@pytest.mark.parametrize("display", HIDDEN_DISPLAYS)
def test_a_person_with_a_hidden_name_has_no_page_and_no_link(client, letter, display):
    signatory = person(letter, "Jürgen Müller", display)

    assert signatory_links(client.get(letter.get_absolute_url())) == []
    assert client.get(signatory.get_absolute_url()).status_code == 404


def test_every_slug_on_a_public_page_belongs_to_someone_named_in_full_there(client, letter):
    for name, display, _parts in HIDDEN_SIGNERS:
        person(letter, name, display)
    shown = person(letter, "Zoë Adams")
    other = make_letter()
    make_signature(other, Signatory.objects.get(name="Jürgen Müller"), display=Display.FIRST_NAME)

    links = []
    for url in [letter.get_absolute_url(), other.get_absolute_url(), search_url(letter, "z")]:
        links += signatory_links(client.get(url))

    assert set(links) == {shown.get_absolute_url()}

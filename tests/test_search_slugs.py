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
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from letters.models import Letter
from signatories.abuse import form_stamp
from signatories.editing import update_signatory
from signatories.list_keys import stale_list_keys
from signatories.models import Display, ListMark, Signatory, SignatoryKind, Signature
from signatories.slugs import slug_base
from signatories.tallies import list_marks
from tests.factories import make_letter, make_person, make_signatory, make_signature
from tests.helpers import migrated_back_to, table_rows

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


# Searching


@pytest.mark.parametrize("q", ["zoe", "ZOE", "Zoë", "zoë", "ZOË", "Zoe\u0308", "zo"])
def test_search_finds_a_name_with_an_accent_typed_without_it_or_in_any_case(client, letter, q):
    person(letter, "Zoë Adams")
    person(letter, "Adam Smith")

    assert found(client, letter, q) == ["Zoë Adams"]


@pytest.mark.parametrize("q", ["zizek", "ŽIŽEK", "Žižek", "slavoj zizek"])
def test_search_finds_zizek_whatever_accents_are_typed(client, letter, q):
    person(letter, "Slavoj Žižek")
    person(letter, "Zoë Adams")

    assert found(client, letter, q) == ["Slavoj Žižek"]


def test_search_with_accents_finds_a_name_written_without_them(client, letter):
    person(letter, "Zoe Ball")

    assert found(client, letter, "Zoë") == ["Zoe Ball"]


@pytest.mark.parametrize("q", ["o'brien", "O’Brien", "o‘brien"])
def test_search_folds_typographic_apostrophes(client, letter, q):
    person(letter, "Siobhán O’Brien")
    person(letter, "Niamh O'Brien")

    assert found(client, letter, q) == ["Niamh O'Brien", "Siobhán O’Brien"]


@pytest.mark.parametrize("q", ["the children", "The Children’s", "children's soc", "CHILDREN"])
def test_search_finds_a_name_sorted_without_its_leading_the(client, letter, q):
    organisation(letter, "The Children's Society")
    organisation(letter, "Barnardo's")

    assert found(client, letter, q) == ["The Children's Society"]


def test_search_matches_non_latin_names_as_written(client, letter):
    person(letter, "张伟")
    person(letter, "محمد علي")
    person(letter, "Ярослав Мудрый")

    assert found(client, letter, "张") == ["张伟"]
    assert found(client, letter, "محمد") == ["محمد علي"]
    assert found(client, letter, "ярослав") == ["Ярослав Мудрый"]


def test_search_never_matches_a_hidden_surname_even_with_its_accents_folded(client, letter):
    person(letter, "Jürgen Müller", Display.FIRST_NAME)

    for q in ["muller", "Müller", "MULLER", "jurgen muller", "Jürgen Müller"]:
        assert found(client, letter, q) == [], q
    assert found(client, letter, "jurgen") == ["Jürgen"]


@pytest.mark.parametrize("display", [Display.INITIALS, Display.ANONYMOUS])
def test_search_never_matches_initials_or_anonymous_signers(client, letter, display):
    person(letter, "Zoë Quimby", display)
    person(letter, "Zoe Ball")

    for q in ["zoe", "zoë", "quimby", "z", "Z. Q.", "z. q."]:
        assert "Zoë Quimby" not in found(client, letter, q), q
        assert Signature.objects.search_public_name(q).filter(display=display).count() == 0, q


def test_an_organisation_shown_other_than_by_full_name_is_not_found_by_its_name(letter):
    # Forms and imports refuse this, but a signatory's kind can change after it signed.
    signatory = person(letter, "Zoë Quimby", Display.ANONYMOUS)
    update_signatory(signatory=signatory, kind=SignatoryKind.ORGANISATION, category="charity")

    assert Signature.objects.get(signatory=signatory).sort_name == ""
    assert not Signature.objects.search_public_name("quimby").exists()


def test_a_search_of_accents_alone_finds_nobody_rather_than_everybody(client, letter):
    person(letter, "Zoë Adams")
    person(letter, "Anon Ymous", Display.ANONYMOUS)

    assert found(client, letter, "\u0308") == []
    assert found(client, letter, " \u0301\u0308 ") == []


def test_names_sort_by_their_letters_whatever_their_accents(client, letter):
    for name in ["Zoey Lin", "Zoë Adams", "Zoe Ball", "Émile Zola", "Eve Fox"]:
        person(letter, name)

    names = [row[0] for row in table_rows(client.get(letter.get_absolute_url()))]

    assert names == ["Émile Zola", "Eve Fox", "Zoë Adams", "Zoe Ball", "Zoey Lin"]


def test_the_database_refuses_a_sort_name_for_a_name_shown_by_initials(letter):
    signature = make_signature(letter, make_person("Zoë Quimby"), display=Display.INITIALS)

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(sort_name="zoe quimby")


def test_a_search_runs_as_many_queries_as_an_unfiltered_page_and_a_count(client, letter):
    for i in range(3):
        person(letter, f"Zoë Person{i}")

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    # The search's one extra query counts its matches (the tally can't).
    assert queries(search_url(letter, "zoe")) == queries(letter.get_absolute_url()) + 1


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
    assert f'<h1 dir="auto">{name}</h1>' in page_text(response)


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


def test_renaming_a_person_gives_their_page_a_slug_without_the_former_name(
    admin_client, client, letter
):
    signatory = admin_add(admin_client, "Jane Müller")
    make_signature(letter, signatory)
    assert signatory.slug == "jane-muller"

    response = admin_client.post(
        reverse("admin:signatories_signatory_change", args=[signatory.pk]),
        admin_signatory_form(name="Jane Moss", slug=signatory.slug),
    )
    assert response.status_code == 302
    signatory.refresh_from_db()
    [link] = signatory_links(client.get(letter.get_absolute_url()))

    assert signatory.slug == "jane-moss"
    assert link == "/signatories/jane-moss/"
    assert "müller" not in page_text(client.get(link)).casefold()
    assert "muller" not in page_text(client.get(link)).casefold()
    assert client.get("/signatories/jane-muller/").status_code == 404
    assert found(client, letter, "muller") == []
    assert found(client, letter, "moss") == ["Jane Moss"]


def test_renaming_keeps_a_slug_staff_chose_themselves(admin_client):
    admin_client.post(
        reverse("admin:signatories_signatory_add"),
        admin_signatory_form(
            name="National Society", slug="nspcc", kind="organisation", category="charity"
        ),
    )
    signatory = Signatory.objects.get(slug="nspcc")

    admin_client.post(
        reverse("admin:signatories_signatory_change", args=[signatory.pk]),
        admin_signatory_form(
            name="National Society for Children",
            slug="nspcc",
            kind="organisation",
            category="charity",
        ),
    )
    signatory.refresh_from_db()

    assert (signatory.name, signatory.slug) == ("National Society for Children", "nspcc")


# The migration that folds the existing sort names


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_migration_folds_existing_sort_names_and_marks_the_lists_again():
    before = [("signatories", "0032_unicode_signatory_slugs")]
    with migrated_back_to(before) as (old, forward):
        letter = old.get_model("letters", "Letter").objects.create(
            title="Old letter", slug="old-letter", summary="s", body="b", status="open"
        )
        Old = old.get_model("signatories", "Signatory")
        OldSignature = old.get_model("signatories", "Signature")
        rows = [("Zoë Adams", "individual", "full", 1, "zoë adams")]
        rows += [("Jürgen Müller", "individual", "first_name", 1, "jürgen")]
        rows += [("The Élan Society", "organisation", "full", 0, "élan society")]
        rows += [("Zoë Quimby", "organisation", "anonymous", 0, "zoë quimby")]
        rows += [
            (f"Aa Person {i:04}", "individual", "full", 1, f"aa person {i:04}") for i in range(600)
        ]
        signatories = Old.objects.bulk_create(
            Old(
                name=name,
                slug=f"old-{i}",
                kind=kind,
                category="survivor" if kind == "individual" else "charity",
                name_key=name.casefold(),  # any key: the database wants one
            )
            for i, (name, kind, *_rest) in enumerate(rows)
        )
        OldSignature.objects.bulk_create(
            OldSignature(
                letter=letter,
                signatory=signatory,
                display=display,
                status="published",
                list_rank=rank,
                sort_name=sort_name,
            )
            for signatory, (_name, _kind, display, rank, sort_name) in zip(
                signatories, rows, strict=True
            )
        )
        old.get_model("signatories", "ListMark").objects.create(
            letter=letter, position=500, list_rank=1, sort_name="stale", signature_id=1
        )

        forward()

        names = dict(Signature.objects.values_list("signatory__name", "sort_name"))
        assert names["Zoë Adams"] == "zoe adams"
        assert names["Jürgen Müller"] == "jurgen"
        assert names["The Élan Society"] == "elan society"
        assert names["Zoë Quimby"] == ""
        marks = ListMark.objects.filter(letter_id=letter.pk).order_by("position")
        expected = list_marks(letter.pk)
        assert [(m.position, m.sort_name) for m in marks] == [
            (m.position, m.sort_name) for m in expected
        ]
        assert [m.sort_name for m in marks] != ["stale"]
        assert list(stale_list_keys()) == []  # the frozen copy computed what the app does

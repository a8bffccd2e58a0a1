"""A signatory's name shows only in the form they chose, and private data never leaves
the admin: checked through every public page and the CSV, as a visitor reads them."""

import datetime
import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import IntegrityError, transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.text import slugify

from letters.models import Letter, Recipient
from letters.sharing import absolute_url
from signatories.models import Category, Display, Signatory, Signature
from tests.factories import (
    make_addressee,
    make_letter,
    make_person,
    make_signatory,
    make_signature,
)
from tests.helpers import csv_rows, csv_url, table_rows

pytestmark = pytest.mark.django_db

DELIVERED_URL_NAMES = ["signatories:delivered", "signatories:delivered_file"]
HIDDEN_DISPLAYS = [Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS]
UNPUBLISHED_STATUSES = [
    Signature.Status.PENDING,
    Signature.Status.HIDDEN,
    Signature.Status.WITHDRAWN,
]


def listed_names(response) -> list[str]:
    """The Name column of a page's signatory table, top to bottom."""
    return [row[0] for row in table_rows(response)]


def response_text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode()


def letter_url(letter: Letter, **params) -> str:
    return _with_query(letter.get_absolute_url(), params)


def _with_query(url: str, params: dict) -> str:
    return f"{url}?{urlencode(params)}" if params else url


def country_url(code: str) -> str:
    return reverse("signatories:country_detail", args=[code])


def public_pages(client) -> dict[str, str]:
    """The text of every public page and CSV that can show what is in the database, by
    URL: lists, every letter (drafts included, which must 404), its CSV, every recipient,
    every country a signatory is from, and every signatory's page (404s included)."""
    urls = [
        reverse("letters:home"),
        reverse("letters:list"),
        reverse("letters:recipient_list"),
        reverse("signatories:country_list"),
    ]
    for letter in Letter.objects.order_by("pk"):
        urls += [letter.get_absolute_url(), csv_url(letter)]
        # The delivered list (issue 12, point 5): its page and file, 404 when not frozen.
        urls += [reverse(name, args=[letter.slug]) for name in DELIVERED_URL_NAMES]
    urls += [recipient.get_absolute_url() for recipient in Recipient.objects.order_by("pk")]
    codes = Signatory.objects.exclude(country="").values_list("country", flat=True)
    urls += [country_url(code) for code in sorted(set(codes))]
    urls += [signatory.get_absolute_url() for signatory in Signatory.objects.order_by("pk")]
    urls += api_urls()  # JSON API (issue 12)
    # Feeds and embeds (letters/feeds.py, letters/embeds.py)
    urls.append(reverse("letters:feed"))
    for letter in Letter.objects.order_by("pk"):
        urls += [
            reverse("letters:letter_feed", args=[letter.slug]),
            reverse("letters:embed", args=[letter.slug]),
            _with_query(
                reverse("letters:oembed"), {"url": absolute_url(letter.get_absolute_url())}
            ),
        ]
    urls += [
        reverse("letters:recipient_feed", args=[slug])
        for slug in Recipient.objects.order_by("pk").values_list("slug", flat=True)
    ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        pages[url] = response_text(response)
    return pages


def api_urls() -> list[str]:
    """Every API and JSON address: for every letter (drafts 404), its count.json, its
    detail and its signatures, whole and filtered; every recipient's."""
    urls = [reverse(f"api:{name}") for name in ("index", "letters", "recipients", "countries")]
    urls += [reverse("api:schema"), reverse("api:docs")]
    for letter in Letter.objects.order_by("pk"):
        signatures = reverse("api:letter-signatures", args=[letter.slug])
        urls += [
            reverse("signatories:letter_count", args=[letter.slug]),
            reverse("api:letter-detail", args=[letter.slug]),
            signatures,
            f"{signatures}?kind=individual",
        ]
    urls += [
        reverse("api:recipient-detail", args=[recipient.slug])
        for recipient in Recipient.objects.order_by("pk")
    ]
    return urls


# Public URL patterns that public_pages() does not scan, and why. Any other pattern
# fails test_public_pages_scan_every_public_url_pattern until it is scanned or listed.
NOT_SCANNED = {
    "healthz",  # "ok" or the database's failure, never a row of data
    "robots",
    "favicon",
    "sitemap",  # addresses only (slugs of public letters, recipients and named signatories)
    "sitemap_section",
    "bench_hello",  # only with DJANGO_BENCH_HELLO, never in production
    "letters:share_image",  # a PNG of the title and the count: no text to scan
    "signatories:privacy",  # the privacy notice: nothing from the database
    "signatories:sign",  # the sign form and the emailed-link pages: tests/test_signing_privacy
    "signatories:sign_sent",
    "signatories:confirm",
    "signatories:withdraw",
    "signatories:unfollow",
    "choose_language",  # the language switcher's redirect: no page, nothing from the database
}


def pages_containing(pages: dict[str, str], text: str) -> list[str]:
    """URLs whose text contains ``text``, ignoring case (a slug is a lower-cased name)."""
    return sorted(url for url, body in pages.items() if text.casefold() in body.casefold())


def make_named_person(name: str, **fields) -> Signatory:
    """A person whose slug is made from their name, as the admin makes it, so a leaked
    link would give the name away too."""
    return make_person(name, slug=slugify(name), **fields)


def stat(response, label: str) -> int:
    """A figure from the letter page's statistics, e.g. "Signatories listed here"."""
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>([\d,]+)</dd>", response.content.decode())
    assert match, label
    return int(match.group(1).replace(",", ""))


def _page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def recorded_counts(response) -> list[int]:
    """Every "N signatories recorded" on a page (letter cards, recipient pages)."""
    found = re.findall(r"([\d,]+) signator(?:y|ies) (?:recorded|listed here)", _page_text(response))
    return [int(n.replace(",", "")) for n in found]


def card_counts(response) -> list[tuple[int, int]]:
    """(signatories, countries) of every letter card: "N signatories recorded from M
    countries"."""
    found = re.findall(
        r"([\d,]+) signator(?:y|ies) (?:recorded|listed here) from ([\d,]+) countr",
        _page_text(response),
    )
    return [(int(n.replace(",", "")), int(m.replace(",", ""))) for n, m in found]


def showing_count(response) -> int:
    """How many signatories the list says it has in all: "Showing 7 signatories" on one
    page, "Showing 1–2 of 7 signatories" or "Showing 2 of 7 signatories" on several."""
    match = re.search(
        r"Showing (?:[\d,]+(?:–[\d,]+)? of )?([\d,]+) signator", response.content.decode()
    )
    assert match
    return int(match.group(1).replace(",", ""))


# A name shows only in the form its signatory chose


def test_full_name_signature_shows_full_name_on_letter_country_signatory_pages_and_csv(
    client, letter
):
    signatory = make_named_person("Grace Hopper", country="US")
    make_signature(letter, signatory, display=Display.FULL)

    assert listed_names(client.get(letter_url(letter))) == ["Grace Hopper"]
    assert listed_names(client.get(country_url("US"))) == ["Grace Hopper"]
    assert [row["name"] for row in csv_rows(client.get(csv_url(letter)))] == ["Grace Hopper"]
    assert "Grace Hopper" in client.get(signatory.get_absolute_url()).content.decode()


def test_first_name_signature_shows_only_the_first_word(client, letter):
    make_signature(letter, make_named_person("Frida Wolstenholme"), display=Display.FIRST_NAME)

    assert listed_names(client.get(letter_url(letter))) == ["Frida"]
    assert listed_names(client.get(country_url("GB"))) == ["Frida"]
    assert [row["name"] for row in csv_rows(client.get(csv_url(letter)))] == ["Frida"]


@pytest.mark.parametrize(
    "raw_name", [" Jane Doe", "Jane Doe ", "Jane  Doe", "Jane\tDoe", "Jane\nDoe", "Jane\u00a0Doe"]
)
def test_database_refuses_a_name_whose_whitespace_would_hide_the_first_word(raw_name):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_person(raw_name)


def test_admin_form_normalises_whitespace_so_first_name_hides_the_surname(admin_client, letter):
    response = admin_client.post(
        reverse("admin:signatories_signatory_add"),
        {
            "name": "Jane\u00a0Doe\t",
            "kind": "individual",
            "category": Category.SURVIVOR,
            "country": "GB",
            "signatures-TOTAL_FORMS": "1",
            "signatures-INITIAL_FORMS": "0",
            "signatures-0-letter": letter.pk,
            "signatures-0-display": Display.FIRST_NAME,
            "signatures-0-status": Signature.Status.PUBLISHED,
        },
    )
    assert response.status_code == 302
    assert Signatory.objects.get().name == "Jane Doe"

    assert listed_names(client_get(admin_client, letter_url(letter))) == ["Jane"]
    assert [row["name"] for row in csv_rows(client_get(admin_client, csv_url(letter)))] == ["Jane"]


def client_get(client, url):
    client.logout()
    return client.get(url)


def test_first_name_signature_surname_appears_on_no_public_page(client, letter):
    make_addressee(letter)
    make_signature(
        letter,
        make_named_person("Frida Wolstenholme"),
        display=Display.FIRST_NAME,
        statement="We were not heard.",
        featured=True,
    )

    pages = public_pages(client)

    assert letter.get_absolute_url() in pages_containing(pages, "Frida")
    assert pages_containing(pages, "Wolstenholme") == []


def test_initials_signature_shows_initials(client, letter):
    make_signature(letter, make_named_person("Jonah Dunmore"), display=Display.INITIALS)

    assert listed_names(client.get(letter_url(letter))) == ["J. D."]
    assert listed_names(client.get(country_url("GB"))) == ["J. D."]
    assert [row["name"] for row in csv_rows(client.get(csv_url(letter)))] == ["J. D."]


def test_initials_signature_name_appears_on_no_public_page(client, letter):
    make_addressee(letter)
    make_signature(
        letter,
        make_named_person("Jonah Dunmore"),
        display=Display.INITIALS,
        statement="Listen to survivors.",
        featured=True,
    )

    pages = public_pages(client)

    assert letter.get_absolute_url() in pages_containing(pages, "J. D.")
    assert pages_containing(pages, "Jonah") == []
    assert pages_containing(pages, "Dunmore") == []


def test_anonymous_signature_shows_only_category_and_country(client, letter):
    make_signature(
        letter,
        make_named_person("Marisol Okonkwo", category=Category.SURVIVOR, country="FR"),
        display=Display.ANONYMOUS,
    )

    [row] = table_rows(client.get(letter_url(letter)))
    assert row == ["Anonymous survivor", "Survivor", "France", "", ""]
    assert listed_names(client.get(country_url("FR"))) == ["Anonymous survivor"]
    [csv_row] = csv_rows(client.get(csv_url(letter)))
    assert csv_row["name"] == ""
    assert (csv_row["category"], csv_row["country_code"], csv_row["country"]) == (
        "Survivor",
        "FR",
        "France",
    )


def test_anonymous_signature_name_appears_on_no_public_page(client, letter):
    make_addressee(letter)
    make_signature(
        letter,
        make_named_person("Marisol Okonkwo", category=Category.FAMILY, country="FR"),
        display=Display.ANONYMOUS,
        statement="For my daughter.",
        featured=True,
    )

    pages = public_pages(client)

    assert letter.get_absolute_url() in pages_containing(pages, "Anonymous family member")
    assert pages_containing(pages, "Marisol") == []
    assert pages_containing(pages, "Okonkwo") == []


# Private data never reaches a public page or the CSV


@pytest.mark.parametrize("display", list(Display))
def test_emails_and_private_notes_reach_no_public_page_or_csv(client, display):
    letter = make_letter(staff_notes="Staff-note-QX41: the funder asked us to wait.")
    make_addressee(letter)
    signatory = make_named_person(
        "Ines Harrow",
        email="private-inbox-7731@example.org",
        notes="Signatory-note-QX42: lives near her abuser.",
    )
    make_signature(
        letter,
        signatory,
        display=display,
        notes="Signature-note-QX43: verified by phone.",
        statement="Public statement.",
        featured=True,
    )

    pages = public_pages(client)

    assert letter.get_absolute_url() in pages_containing(pages, "Public statement.")
    assert csv_url(letter) in pages_containing(pages, "Public statement.")
    for secret in ["private-inbox-7731", "QX41", "QX42", "QX43"]:
        assert pages_containing(pages, secret) == [], secret


# The signatory page exists only for those named in full, and lists only those letters


@pytest.mark.parametrize("display", HIDDEN_DISPLAYS)
def test_signatory_page_404s_for_someone_who_signed_without_full_name(client, letter, display):
    signatory = make_named_person("Ines Harrow")
    make_signature(letter, signatory, display=display)

    response = client.get(signatory.get_absolute_url())

    assert response.status_code == 404
    assert "Harrow" not in response.content.decode()


def test_signatory_page_shows_someone_named_in_full(client, letter):
    signatory = make_named_person("Ines Harrow")
    make_signature(letter, signatory, display=Display.FULL)

    response = client.get(signatory.get_absolute_url())

    assert response.status_code == 200
    assert letter.title in response.content.decode()


def test_signatory_page_lists_only_letters_signed_by_full_name(client):
    named_on = make_letter(title="Letter signed by name")
    anonymous_on = make_letter(title="Letter signed anonymously")
    signatory = make_named_person("Ines Harrow")
    make_signature(named_on, signatory, display=Display.FULL, statement="Named statement.")
    make_signature(
        anonymous_on, signatory, display=Display.ANONYMOUS, statement="Anonymous statement."
    )

    content = client.get(signatory.get_absolute_url()).content.decode()

    assert named_on.get_absolute_url() in content
    assert "Named statement." in content
    assert anonymous_on.get_absolute_url() not in content
    assert anonymous_on.title not in content
    assert "Anonymous statement." not in content


def test_letter_page_links_no_signatory_page_for_non_full_signature(client):
    named_on = make_letter()
    anonymous_on = make_letter()
    signatory = make_named_person("Ines Harrow")
    make_signature(named_on, signatory, display=Display.FULL)
    make_signature(anonymous_on, signatory, display=Display.ANONYMOUS)

    assert signatory.get_absolute_url() in client.get(letter_url(named_on)).content.decode()
    assert signatory.get_absolute_url() not in client.get(letter_url(anonymous_on)).content.decode()
    assert [row["profile_url"] for row in csv_rows(client.get(csv_url(anonymous_on)))] == [""]


@pytest.mark.parametrize("status", UNPUBLISHED_STATUSES)
def test_signatory_page_404s_when_the_full_name_signature_is_unpublished(client, letter, status):
    signatory = make_named_person("Ines Harrow")
    make_signature(letter, signatory, display=Display.FULL, status=status)

    assert client.get(signatory.get_absolute_url()).status_code == 404


def test_signatory_page_404s_when_named_in_full_only_on_a_draft_letter(client):
    signatory = make_named_person("Ines Harrow")
    make_signature(make_letter(status=Letter.Status.DRAFT), signatory, display=Display.FULL)

    assert client.get(signatory.get_absolute_url()).status_code == 404


# Role, affiliation and website belong to full-name signatures only


def test_role_affiliation_and_website_show_for_full_name_signature(client, letter):
    signatory = make_named_person(
        "Grace Hopper",
        role="Rear Admiral",
        affiliation="Navy Yard Lab",
        website="https://grace.example.org/",
    )
    make_signature(letter, signatory, display=Display.FULL)

    [row] = table_rows(client.get(letter_url(letter)))
    assert row[3] == "Rear Admiral, Navy Yard Lab"
    [csv_row] = csv_rows(client.get(csv_url(letter)))
    assert (csv_row["role"], csv_row["affiliation"], csv_row["website"]) == (
        "Rear Admiral",
        "Navy Yard Lab",
        "https://grace.example.org/",
    )
    profile = client.get(signatory.get_absolute_url()).content.decode()
    assert "Rear Admiral, Navy Yard Lab" in profile
    assert 'href="https://grace.example.org/"' in profile


@pytest.mark.parametrize("display", HIDDEN_DISPLAYS)
def test_role_affiliation_and_website_appear_nowhere_for_non_full_signature(
    client, letter, display
):
    make_addressee(letter)
    make_signature(
        letter,
        make_named_person(
            "Ines Harrow",
            role="Night Nurse Supervisor",
            affiliation="Quietwater Clinic",
            website="https://quietwater-clinic.example.org/",
        ),
        display=display,
    )

    pages = public_pages(client)

    assert len(table_rows(client.get(letter_url(letter)))) == 1
    assert pages_containing(pages, "Night Nurse") == []
    assert pages_containing(pages, "Quietwater") == []
    assert pages_containing(pages, "quietwater-clinic.example.org") == []


# Name search never matches a hidden name


@pytest.mark.parametrize("display", HIDDEN_DISPLAYS)
def test_search_by_hidden_surname_finds_nothing(client, letter, display):
    make_signature(letter, make_named_person("Grace Hopper"))
    make_signature(letter, make_named_person("Frida Wolstenholme"), display=display)

    page = client.get(letter_url(letter, q="Wolstenholme"))

    assert showing_count(page) == 0
    assert table_rows(page) == []
    assert csv_rows(client.get(csv_url(letter, q="Wolstenholme"))) == []


@pytest.mark.parametrize("display", [Display.INITIALS, Display.ANONYMOUS])
def test_search_by_hidden_first_name_finds_nothing(client, letter, display):
    make_signature(letter, make_named_person("Grace Hopper"))
    make_signature(letter, make_named_person("Frida Wolstenholme"), display=display)

    page = client.get(letter_url(letter, q="Frida"))

    assert showing_count(page) == 0
    assert csv_rows(client.get(csv_url(letter, q="Frida"))) == []


def test_search_count_includes_only_signatures_whose_visible_name_matches(client, letter):
    visible = make_signature(letter, make_named_person("Ann Tremlett"), display=Display.FULL)
    for display in HIDDEN_DISPLAYS:
        make_signature(letter, make_named_person(f"Bea Tremlett {display}"), display=display)

    page = client.get(letter_url(letter, q="Tremlett"))

    assert showing_count(page) == 1
    assert listed_names(page) == [visible.public_name]
    assert [row["name"] for row in csv_rows(client.get(csv_url(letter, q="Tremlett")))] == [
        visible.public_name
    ]


def test_search_by_first_name_finds_first_name_signature(client, letter):
    make_signature(letter, make_named_person("Grace Hopper"))
    make_signature(letter, make_named_person("Frida Wolstenholme"), display=Display.FIRST_NAME)

    page = client.get(letter_url(letter, q="frida"))

    assert showing_count(page) == 1
    assert listed_names(page) == ["Frida"]


def test_search_by_surname_finds_full_name_signature(client, letter):
    make_signature(letter, make_named_person("Grace Hopper"))
    make_signature(letter, make_named_person("Frida Wolstenholme"), display=Display.FIRST_NAME)

    page = client.get(letter_url(letter, q="hopper"))

    assert showing_count(page) == 1
    assert listed_names(page) == ["Grace Hopper"]


# List order never reveals a hidden name


def _signed_in_order(letter, names_and_countries, display):
    """Signatures made one after the other, each a day later than the one before."""
    start = datetime.date(2024, 1, 1)
    return [
        make_signature(
            letter,
            make_named_person(name, category=Category.SURVIVOR, country=country),
            display=display,
            signed_on=start + datetime.timedelta(days=n),
        )
        for n, (name, country) in enumerate(names_and_countries)
    ]


def test_anonymous_signatures_are_listed_in_signing_order_not_by_hidden_name(client, letter):
    # Hidden names sort in reverse signing order; country names in yet another order.
    signed = _signed_in_order(
        letter,
        [("Zachary Young", "DE"), ("Mia Moreau", "AT"), ("Aaron Abbott", "FR")],
        Display.ANONYMOUS,
    )
    in_signing_order = [signature.signatory.country.name for signature in signed]

    page_countries = [row[2] for row in table_rows(client.get(letter_url(letter)))]
    csv_countries = [row["country"] for row in csv_rows(client.get(csv_url(letter)))]

    assert page_countries == in_signing_order
    assert csv_countries == in_signing_order


def test_initials_signatures_are_listed_in_signing_order_not_by_hidden_name(client, letter):
    signed = _signed_in_order(
        letter,
        [("Zoe Zimmer", "GB"), ("Mia Moreau", "GB"), ("Amy Adams", "GB")],
        Display.INITIALS,
    )

    assert listed_names(client.get(letter_url(letter))) == [s.public_name for s in signed]
    assert [row["name"] for row in csv_rows(client.get(csv_url(letter)))] == [
        s.public_name for s in signed
    ]


def test_first_name_signatures_sharing_a_first_name_are_not_ordered_by_hidden_surname(
    client, letter
):
    signed = _signed_in_order(
        letter,
        [("Anna Zulu", "DE"), ("Anna Moreau", "AT"), ("Anna Able", "FR")],
        Display.FIRST_NAME,
    )
    in_signing_order = [signature.signatory.country.name for signature in signed]

    assert [row[2] for row in table_rows(client.get(letter_url(letter)))] == in_signing_order


def test_country_page_lists_anonymous_signatures_in_signing_order_not_by_hidden_name(
    client, letter
):
    signed = [
        make_signature(
            letter,
            make_named_person(name, category=category, country="GB"),
            display=Display.ANONYMOUS,
        )
        for name, category in [
            ("Zachary Young", Category.SURVIVOR),
            ("Mia Moreau", Category.FAMILY),
            ("Aaron Abbott", Category.EXPERT),
        ]
    ]

    assert listed_names(client.get(country_url("GB"))) == [
        f"Anonymous {s.signatory.get_category_display().lower()}" for s in signed
    ]


# Only published signatures on published letters show or count


@pytest.mark.parametrize("status", UNPUBLISHED_STATUSES)
def test_unpublished_signature_appears_on_no_public_page(client, letter, status):
    make_addressee(letter)
    make_signature(letter, make_named_person("Grace Hopper"))
    make_signature(
        letter,
        make_named_person("Ines Harrow", country="NZ"),
        status=status,
        statement="Unpublished statement.",
        featured=True,
    )

    pages = public_pages(client)

    assert letter.get_absolute_url() in pages_containing(pages, "Grace Hopper")
    assert pages_containing(pages, "Harrow") == []
    assert pages_containing(pages, "Unpublished statement.") == []


@pytest.mark.parametrize("status", UNPUBLISHED_STATUSES)
def test_unpublished_signature_never_counts(client, status):
    letter = make_letter()
    recipient = make_addressee(letter).recipient
    published = [
        make_signature(letter, make_signatory(country="GB")),
        make_signature(letter, make_named_person("Grace Hopper", country="GB")),
    ]
    make_signature(letter, make_named_person("Ines Harrow", country="NZ"), status=status)
    individuals = [s for s in published if not s.signatory.is_organisation]

    page = client.get(letter_url(letter))
    assert stat(page, "Signatories listed here") == len(published)
    assert stat(page, "Individuals") == len(individuals)
    assert stat(page, "Countries") == 1
    assert showing_count(page) == len(published)
    assert len(csv_rows(client.get(csv_url(letter)))) == len(published)
    assert card_counts(client.get(reverse("letters:home"))) == [(len(published), 1)]
    assert card_counts(client.get(reverse("letters:list"))) == [(len(published), 1)]
    assert recorded_counts(client.get(recipient.get_absolute_url())) == [len(published)]
    countries = table_rows(client.get(reverse("signatories:country_list")), "listing")
    assert countries == [["United Kingdom", str(len(published)), "1"]]
    assert table_rows(client.get(country_url("NZ"))) == []
    assert "0 signatures" in client.get(country_url("NZ")).content.decode()


def test_draft_letter_page_404s(client):
    draft = make_letter(status=Letter.Status.DRAFT)
    make_signature(draft, make_named_person("Grace Hopper"))

    assert client.get(letter_url(draft)).status_code == 404


def test_draft_letter_csv_404s(client):
    draft = make_letter(status=Letter.Status.DRAFT)
    make_signature(draft, make_named_person("Grace Hopper"))

    response = client.get(csv_url(draft))

    assert response.status_code == 404
    assert not response.streaming


def test_signatures_on_a_draft_letter_appear_and_count_nowhere(client):
    draft = make_letter(status=Letter.Status.DRAFT, title="Secret draft letter")
    make_addressee(draft)
    make_signature(draft, make_named_person("Ines Harrow", country="NZ"))

    pages = public_pages(client)

    assert pages_containing(pages, "Harrow") == []
    assert pages_containing(pages, "Secret draft letter") == []
    assert pages_containing(pages, "New Zealand") == [country_url("NZ")]
    assert table_rows(client.get(reverse("signatories:country_list")), "listing") == [
        ["No signatures recorded yet."]
    ]


# Names are text, never markup


def test_html_in_a_full_name_is_escaped(client, letter):
    signatory = make_person("<script>alert(1)</script> Smith", country="GB")
    make_signature(letter, signatory, statement="<script>alert(2)</script>", featured=True)

    for url in [letter_url(letter), country_url("GB"), signatory.get_absolute_url()]:
        content = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Smith" in content, url
        assert "<script>" not in content, url
    assert (
        "&lt;script&gt;alert(2)&lt;/script&gt;" in client.get(letter_url(letter)).content.decode()
    )


def test_html_in_a_first_name_is_escaped(client, letter):
    make_signature(
        letter, make_person("<b>Bold</b> Smith", country="GB"), display=Display.FIRST_NAME
    )

    for url in [letter_url(letter), country_url("GB")]:
        content = client.get(url).content.decode()
        assert "&lt;b&gt;Bold&lt;/b&gt;" in content, url
        assert "<b>Bold" not in content, url


# The scan covers every public address


def _view_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":  # staff only, behind a login
                yield from _view_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_public_pages_scan_every_public_url_pattern(client, letter):
    """A new public address fails here until public_pages() scans it (or NOT_SCANNED
    says why it need not)."""
    make_addressee(letter)
    make_signature(letter, make_named_person("Grace Hopper", country="US"))

    scanned = {resolve(urlsplit(url).path).view_name for url in public_pages(client)}
    patterns = set(_view_names(get_resolver().url_patterns))

    assert patterns - scanned - NOT_SCANNED == set()
    assert NOT_SCANNED - {"bench_hello"} <= patterns, "NOT_SCANNED names a pattern that is gone"

"""What the public sees on each page: published letters only, honest counts, safe text,
pages and filters that survive any input."""

import re
from datetime import date
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django_countries.fields import Country

from letters.models import Addressee, Letter
from signatories.models import Category, Display, Signature
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_person,
    make_recipient,
    make_signatory,
    make_signature,
)
from tests.helpers import csv_rows, link_href, table, text_of

pytestmark = pytest.mark.django_db

UNPUBLISHED = [status for status in Signature.Status if status != Signature.Status.PUBLISHED]


def section(html: str, css_class: str) -> str:
    """The markup of the first ``<section class="…">`` (sections here do not nest)."""
    match = re.search(rf'<section[^>]*class="{css_class}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section of class {css_class}"
    return match.group(1)


def cards(html: str) -> dict[str, str]:
    """Letter cards (home, letter list, recipient page): readable text by title."""
    result = {}
    for card in re.findall(r'<article class="card[^"]*">(.*?)</article>', html, re.S):
        title = text_of(re.search(r"<h([23])[^>]*>(.*?)</h\1>", card, re.S).group(2))
        result[title] = text_of(card)
    return result


def stats(html: str) -> dict[str, str]:
    """The letter page's figures: "Signatories listed here" → "3", and so on."""
    block = re.search(r'<dl class="stats[^"]*">(.*?)</dl>', html, re.S).group(1)
    return {
        text_of(term): text_of(value)
        for term, value in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block, re.S)
    }


def get(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, f"{url} answered {response.status_code}"
    return response


def page_html(client, url: str) -> str:
    return get(client, url).content.decode()


def letter_url(letter: Letter, query: str = "") -> str:
    return reverse("letters:detail", args=[letter.slug]) + query


def signatory_rows(html: str) -> list[list[str]]:
    return table(html, css_class="signatories")


def recorded(count: int, countries: int) -> str:
    """A letter card's recorded figures, as the card words them."""
    noun = "signatory" if count == 1 else "signatories"
    place = "country" if countries == 1 else "countries"
    return f"{count} {noun} listed here from {countries} {place}"


def make_draft() -> Letter:
    return make_letter(status=Letter.Status.DRAFT, title="Unpublished draft letter")


# Home and letter list


def test_home_lists_open_letter_with_recorded_counts(client, letter):
    make_signature(letter, make_signatory(country="GB"))
    make_signature(letter, make_signatory(country="GB"))
    make_signature(letter, make_person("Ada Lovelace", country="FR"))

    home = cards(page_html(client, reverse("letters:home")))

    assert recorded(3, 2) in home[letter.title]


def test_home_lists_closed_letter_as_recently_closed(client):
    closed = make_letter(status=Letter.Status.CLOSED)

    html = page_html(client, reverse("letters:home"))

    assert closed.title in text_of(html.split('id="recent-heading"', 1)[1])


def test_home_lists_letters_newest_first(client):
    older = make_letter(published_on=date(2020, 1, 1))
    newer = make_letter(published_on=date(2024, 1, 1))

    titles = list(cards(page_html(client, reverse("letters:home"))))

    assert titles.index(newer.title) < titles.index(older.title)


def test_letter_list_shows_open_and_closed_letters(client):
    open_letter = make_letter(status=Letter.Status.OPEN)
    closed = make_letter(status=Letter.Status.CLOSED)

    listed = cards(page_html(client, reverse("letters:list")))

    assert open_letter.title in listed
    assert closed.title in listed


def test_letter_list_lists_letters_newest_first(client):
    older = make_letter(published_on=date(2020, 1, 1))
    newer = make_letter(published_on=date(2024, 1, 1))

    titles = list(cards(page_html(client, reverse("letters:list"))))

    assert titles.index(newer.title) < titles.index(older.title)


def test_letter_list_filters_by_status(client):
    open_letter = make_letter(status=Letter.Status.OPEN)
    closed = make_letter(status=Letter.Status.CLOSED)

    listed = cards(page_html(client, reverse("letters:list") + "?status=closed"))

    assert closed.title in listed
    assert open_letter.title not in listed


def test_letter_list_filters_by_recipient(client):
    meta = make_recipient(name="Meta", slug="meta")
    to_meta = make_letter()
    make_addressee(to_meta, meta)
    to_others = make_letter()
    make_addressee(to_others)

    listed = cards(page_html(client, reverse("letters:list") + f"?recipient={meta.slug}"))

    assert to_meta.title in listed
    assert to_others.title not in listed


def test_letter_list_filtered_by_recipient_keeps_recorded_counts(client):
    meta = make_recipient()
    letter = make_letter()
    make_addressee(letter, meta)
    make_addressee(letter)
    make_many_signatures(letter, 3, countries=("GB",))

    listed = cards(page_html(client, reverse("letters:list") + f"?recipient={meta.slug}"))

    assert recorded(3, 1) in listed[letter.title]


@pytest.mark.parametrize("query", ["?status=bogus", "?status=draft", "?recipient=nope"])
def test_letter_list_with_unknown_filter_value_is_a_normal_page_listing_nothing(client, query):
    letter = make_letter()
    make_draft()

    html = page_html(client, reverse("letters:list") + query)

    assert "No letters match." in text_of(html)
    assert letter.title not in cards(html)


# Drafts


def test_draft_letter_page_is_not_found(client):
    draft = make_draft()

    get(client, letter_url(draft), status=404)


def test_draft_letter_csv_is_not_found(client):
    draft = make_draft()

    get(client, reverse("signatories:letter_csv", args=[draft.slug]), status=404)


@pytest.mark.parametrize("url_name", ["letters:home", "letters:list"])
def test_draft_letter_is_not_listed(client, url_name):
    draft = make_draft()
    make_letter()

    assert draft.title not in page_html(client, reverse(url_name))


def test_draft_letter_is_not_listed_on_its_recipient_page(client):
    recipient = make_recipient()
    published = make_letter()
    make_addressee(published, recipient)
    draft = make_draft()
    make_addressee(draft, recipient)

    html = page_html(client, reverse("letters:recipient_detail", args=[recipient.slug]))

    assert published.title in cards(html)
    assert draft.title not in html


def test_recipient_addressed_only_by_drafts_has_no_page(client):
    recipient = make_recipient(name="Secret Recipient Ltd")
    make_addressee(make_draft(), recipient)

    response = get(client, reverse("letters:recipient_detail", args=[recipient.slug]), status=404)

    assert "Secret Recipient Ltd" not in response.content.decode()


def test_recipient_addressed_by_no_letter_has_no_page(client):
    recipient = make_recipient()

    get(client, reverse("letters:recipient_detail", args=[recipient.slug]), status=404)


def test_recipient_page_appears_once_a_letter_to_it_is_published(client):
    recipient = make_recipient()
    draft = make_draft()
    make_addressee(draft, recipient)
    url = reverse("letters:recipient_detail", args=[recipient.slug])
    get(client, url, status=404)

    Letter.objects.filter(pk=draft.pk).update(status=Letter.Status.OPEN)

    assert draft.title in cards(page_html(client, url))


def test_recipient_addressed_only_by_drafts_is_not_a_letter_list_filter(client):
    public = make_recipient(name="Public Recipient", slug="public-recipient")
    make_addressee(make_letter(), public)
    secret = make_recipient(name="Secret Recipient Ltd", slug="secret-recipient")
    make_addressee(make_draft(), secret)

    html = page_html(client, reverse("letters:list"))
    filtered = page_html(client, reverse("letters:list") + f"?recipient={secret.slug}")

    assert 'value="public-recipient"' in html
    assert "Secret Recipient Ltd" not in html
    assert 'value="secret-recipient"' not in html
    assert "Secret Recipient Ltd" not in filtered
    assert "No letters match." in text_of(filtered)


def test_recipient_list_does_not_count_draft_letters(client):
    recipient = make_recipient()
    make_addressee(make_letter(), recipient)
    make_addressee(make_draft(), recipient)

    rows = table(page_html(client, reverse("letters:recipient_list")), css_class="listing")

    assert [row[0] for row in rows] == [recipient.name]
    assert rows[0][2] == "1"


def test_recipient_list_leaves_out_recipients_of_draft_letters_only(client):
    recipient = make_recipient()
    make_addressee(make_draft(), recipient)

    html = page_html(client, reverse("letters:recipient_list"))

    assert recipient.name not in html


def test_country_list_does_not_count_signatures_on_draft_letters(client):
    make_signature(make_letter(), make_signatory(country="GB"))
    make_signature(make_draft(), make_signatory(country="GB"))
    make_signature(make_draft(), make_signatory(country="FR"))

    rows = table(page_html(client, reverse("signatories:country_list")), css_class="listing")

    assert rows == [[Country("GB").name, "1", "1"]]


def test_country_page_does_not_count_signatures_on_draft_letters(client):
    published = make_signature(make_letter(), make_signatory(country="GB"))
    hidden = make_signature(make_draft(), make_signatory(name="Draft Signer", country="GB"))

    html = page_html(client, reverse("signatories:country_detail", args=["GB"]))

    assert "1 signature: 1 from organisations, 0 from individuals." in text_of(html)
    assert published.signatory.name in html
    assert hidden.signatory.name not in html
    assert hidden.letter.title not in html


def test_signatory_of_draft_letters_only_has_no_page(client):
    signature = make_signature(make_draft())

    get(client, reverse("signatories:detail", args=[signature.signatory.slug]), status=404)


def test_signatory_page_does_not_list_draft_letters(client):
    signatory = make_signatory()
    published = make_signature(make_letter(), signatory).letter
    draft = make_signature(make_draft(), signatory).letter

    html = page_html(client, reverse("signatories:detail", args=[signatory.slug]))

    assert published.title in html
    assert draft.title not in html


# Signatures that are not published


def letter_with_one_unpublished_of_each_kind(status: str) -> Letter:
    """A letter with a published organisation (GB) and person (US), and an
    organisation (FR, NGO) and a person (DE, expert) whose signatures are ``status``."""
    letter = make_letter()
    make_signature(letter, make_signatory(country="GB"))
    make_signature(letter, make_person("Ada Lovelace", country="US"))
    make_signature(letter, make_signatory(country="FR", category=Category.NGO), status=status)
    make_signature(
        letter,
        make_person("Grace Hopper", country="DE", category=Category.EXPERT),
        status=status,
    )
    return letter


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_counted_in_letter_totals(client, status):
    letter = letter_with_one_unpublished_of_each_kind(status)

    figures = stats(page_html(client, letter_url(letter)))

    assert figures == {
        "Signatories listed here": "2",
        "Organisations": "1",
        "Individuals": "1",
        "Countries": "2",
    }


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_in_letter_breakdowns(client, status):
    letter = letter_with_one_unpublished_of_each_kind(status)

    breakdown = section(page_html(client, letter_url(letter)), "breakdown")

    assert [row[:2] for row in table(breakdown, caption="By country")] == [
        [Country("GB").name, "1"],
        [Country("US").name, "1"],
    ]
    assert sorted(row[:2] for row in table(breakdown, caption="By category")) == [
        ["Charity (organisation)", "1"],
        ["Survivor (individual)", "1"],
    ]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_listed_on_letter_page(client, status):
    letter = letter_with_one_unpublished_of_each_kind(status)

    rows = signatory_rows(page_html(client, letter_url(letter)))

    assert [row[2] for row in rows] == [Country("GB").name, Country("US").name]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_counted_on_home_page(client, status):
    letter = letter_with_one_unpublished_of_each_kind(status)

    home = cards(page_html(client, reverse("letters:home")))

    assert recorded(2, 2) in home[letter.title]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_counted_on_recipient_page(client, status):
    letter = letter_with_one_unpublished_of_each_kind(status)
    recipient = make_addressee(letter).recipient

    html = page_html(client, reverse("letters:recipient_detail", args=[recipient.slug]))

    assert "2 signatories recorded" in cards(html)[letter.title]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_counted_on_country_list(client, status):
    letter_with_one_unpublished_of_each_kind(status)

    rows = table(page_html(client, reverse("signatories:country_list")), css_class="listing")

    assert [row[:2] for row in rows] == [[Country("GB").name, "1"], [Country("US").name, "1"]]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_unpublished_signatures_are_not_counted_on_country_page(client, status):
    letter_with_one_unpublished_of_each_kind(status)

    html = page_html(client, reverse("signatories:country_detail", args=["FR"]))

    assert "0 signatures: 0 from organisations, 0 from individuals." in text_of(html)
    assert f"No published signatures from {Country('FR').name} yet." in text_of(html)


# The letter page


def test_letter_page_leads_with_reported_figure_while_it_is_larger(client):
    letter = make_letter(
        reported_signatories=100,
        reported_signatories_is_minimum=True,
        reported_countries=24,
        reported_figures_source="Press coverage, September 2023",
    )
    make_many_signatures(letter, 3, countries=("GB",))

    html = page_html(client, letter_url(letter))

    assert text_of(section(html, "figures")).startswith(
        "Support and answers at a glance More than 100 signatories from 24 countries, "
        "as reported by the organisers (source: Press coverage, September 2023)"
    )
    assert stats(html)["Signatories listed here"] == "3"
    assert stats(html)["Countries"] == "1"


def test_letter_page_shows_exact_reported_figure_without_more_than(client):
    letter = make_letter(reported_signatories=1500, reported_countries=24)

    text = text_of(page_html(client, letter_url(letter)))

    assert "1,500 signatories from 24 countries, as reported by the organisers" in text
    assert "more than" not in text.lower()


def test_letter_body_markdown_is_rendered(client):
    letter = make_letter(body="We ask for **bold** action.\n\n- first\n- second")

    html = section(page_html(client, letter_url(letter)), "letter-text")

    assert "<strong>bold</strong>" in html
    assert "<li>first</li>" in html


def test_letter_body_script_is_removed(client):
    letter = make_letter(body='Before.\n\n<script>alert("owned")</script>\n\nAfter.')

    html = page_html(client, letter_url(letter))

    assert "<script" not in html
    assert "owned" not in html
    assert "After." in text_of(section(html, "letter-text"))


def test_letter_body_event_handler_attribute_is_removed(client):
    letter = make_letter(body='Look: <img src="https://example.org/x.png" onerror="alert(1)">')

    html = section(page_html(client, letter_url(letter)), "letter-text")

    assert "onerror" not in html
    assert "alert(1)" not in html


def test_letter_body_javascript_link_is_removed(client):
    letter = make_letter(body="[Click](javascript:alert(1))")

    html = section(page_html(client, letter_url(letter)), "letter-text")

    assert "javascript:" not in html
    assert "Click" in text_of(html)


def test_letter_body_that_is_a_summary_says_so(client):
    letter = make_letter(body_is_summary=True)

    text = text_of(page_html(client, letter_url(letter)))

    assert "This is a summary of the letter written for this site" in text


def test_letter_body_that_is_the_full_text_has_no_summary_notice(client):
    letter = make_letter(body_is_summary=False)

    text = text_of(page_html(client, letter_url(letter)))

    assert "This is a summary of the letter" not in text


def test_letter_page_shows_addressees_with_their_response_status(client, letter):
    make_addressee(
        letter,
        make_recipient(name="Meta"),
        person_name="Mark Zuckerberg",
        person_title="Chief Executive Officer",
        response_status=Addressee.ResponseStatus.DECLINED,
        response_summary="Meta said it would not change course.",
    )
    make_addressee(letter, make_recipient(name="Snap"), position=1)

    html = page_html(client, letter_url(letter))
    items = [
        text_of(item) for item in re.findall(r'<li class="addressee"[^>]*>(.*?)</li>', html, re.S)
    ]

    assert items == [
        "Meta Mark Zuckerberg, Chief Executive Officer Declined "
        "Meta said it would not change course.",
        "Snap No answer yet",
    ]


def test_recipient_page_shows_each_letter_with_its_response_status(client):
    recipient = make_recipient(name="Apple")
    committed = make_letter()
    make_addressee(
        committed,
        recipient,
        response_status=Addressee.ResponseStatus.COMMITTED,
        response_date=date(2024, 3, 5),
    )
    awaiting = make_letter()
    make_addressee(awaiting, recipient)

    letters = cards(page_html(client, reverse("letters:recipient_detail", args=[recipient.slug])))

    assert "Committed to act 5 March 2024" in letters[committed.title]
    assert "No answer yet" in letters[awaiting.title]


def test_recipient_list_counts_letters_awaiting_a_response_and_says_each_answer(client):
    recipient = make_recipient()
    silent = make_letter(published_on=date(2024, 2, 1))
    make_addressee(silent, recipient)
    answered = make_letter(published_on=date(2024, 1, 1))
    make_addressee(answered, recipient, response_status=Addressee.ResponseStatus.RESPONDED)

    rows = table(page_html(client, reverse("letters:recipient_list")), css_class="listing")

    assert rows == [
        [
            recipient.name,
            "Company",
            "2",
            "1",
            f"{silent.title}: No answer yet {answered.title}: Replied",
        ]
    ]


# Signatory list on the letter page: pages and filters


def test_letter_page_lists_fifty_signatories_per_page(client, letter):
    make_many_signatures(letter, 51)

    first = page_html(client, letter_url(letter))
    second = page_html(client, letter_url(letter, "?page=2"))

    assert len(signatory_rows(first)) == 50
    assert len(signatory_rows(second)) == 1
    assert "Page 2 of 2" in text_of(second)


def test_letter_page_next_link_keeps_filters(client, letter):
    make_many_signatures(letter, 2 * settings.SIGNATURES_PER_PAGE + 2, countries=("GB", "FR"))
    url = letter_url(letter, "?kind=organisation&country=gb")

    next_href = link_href(page_html(client, url), "Next →")
    second = page_html(client, urljoin(url, next_href))

    query = parse_qs(urlsplit(next_href).query)
    # The filters, and a cursor where the page continues (keyset paging, not ?page=).
    assert {key: value for key, value in query.items() if key != "after"} == {
        "kind": ["organisation"],
        "country": ["gb"],
    }
    assert query["after"]
    assert {row[1] for row in signatory_rows(second)} == {"NGO"}
    assert "Page 2 of 2" in text_of(second)


def test_letter_page_previous_link_keeps_filters(client, letter):
    make_many_signatures(letter, 2 * settings.SIGNATURES_PER_PAGE + 2)

    html = page_html(client, letter_url(letter, "?kind=organisation&page=2"))

    query = parse_qs(urlsplit(link_href(html, "← Previous")).query)
    assert {key: value for key, value in query.items() if key != "before"} == {
        "kind": ["organisation"]
    }
    assert query["before"]


def test_letter_page_csv_link_carries_current_filters(client, letter):
    make_signature(letter, make_person("Ada Lovelace", country="GB"))
    make_signature(letter, make_person("Alan Turing", country="US"))
    make_signature(letter, make_signatory(name="Ada Charity", country="GB"))

    html = page_html(client, letter_url(letter, "?kind=individual&country=gb&q=Ada&page=1"))
    csv_href = link_href(html, "Download as CSV")

    assert urlsplit(csv_href).path == reverse("signatories:letter_csv", args=[letter.slug])
    assert parse_qs(urlsplit(csv_href).query) == {
        "kind": ["individual"],
        "country": ["gb"],
        "q": ["Ada"],
    }
    assert [row["name"] for row in csv_rows(get(client, csv_href))] == ["Ada Lovelace"]


def test_letter_page_csv_link_without_filters_has_no_query(client, letter):
    csv_href = link_href(page_html(client, letter_url(letter)), "Download as CSV")

    assert urlsplit(csv_href).path == reverse("signatories:letter_csv", args=[letter.slug])
    assert urlsplit(csv_href).query == ""


def test_letter_page_country_filter_accepts_lowercase_code(client, letter):
    make_signature(letter, make_person("Ada Lovelace", country="GB"))
    make_signature(letter, make_person("Alan Turing", country="US"))

    html = page_html(client, letter_url(letter, "?country=gb"))

    assert [row[0] for row in signatory_rows(html)] == ["Ada Lovelace"]
    assert "Showing 1 signatory matching your filters." in text_of(html)


def test_letter_page_filters_by_kind(client, letter):
    make_signature(letter, make_person("Ada Lovelace"))
    make_signature(letter, make_signatory(name="Barnardo's"))

    html = page_html(client, letter_url(letter, "?kind=individual"))

    assert [row[0] for row in signatory_rows(html)] == ["Ada Lovelace"]


def test_letter_page_name_search_matches_only_names_as_shown(client, letter):
    make_signature(letter, make_person("Frida Kahlo"), display=Display.FIRST_NAME)

    by_first_name = page_html(client, letter_url(letter, "?q=frida"))
    by_hidden_surname = page_html(client, letter_url(letter, "?q=Kahlo"))

    assert [row[0] for row in signatory_rows(by_first_name)] == ["Frida"]
    assert "No signatories match." in text_of(by_hidden_surname)


BAD_LETTER_QUERIES = {
    "kind": "?kind=bogus",
    "category": "?category=x",
    "country": "?country=ZZ",
    "long-q": "?q=" + "a" * 5000,
    "all-at-once": "?kind=bogus&category=x&country=ZZ&q=" + "a" * 5000 + "&page=abc",
}


@pytest.mark.parametrize("query", BAD_LETTER_QUERIES.values(), ids=BAD_LETTER_QUERIES.keys())
def test_letter_page_with_invalid_filter_says_so_and_lists_nobody(client, letter, query):
    make_signature(letter, make_person("Ada Lovelace"))

    html = page_html(client, letter_url(letter, query))

    assert "Some filters were not understood" in text_of(html)
    assert "Ada Lovelace" not in html


@pytest.mark.parametrize("page", ["abc", "999999", "-1", "0", "1.5", ""])
def test_letter_page_with_out_of_range_page_shows_a_page_of_signatories(client, letter, page):
    make_signature(letter, make_person("Ada Lovelace"))

    html = page_html(client, letter_url(letter, f"?page={page}"))

    assert [row[0] for row in signatory_rows(html)] == ["Ada Lovelace"]


@pytest.mark.parametrize("page", ["abc", "999999", "-1"])
def test_country_page_with_out_of_range_page_is_a_normal_page(client, letter, page):
    make_signature(letter, make_person("Ada Lovelace", country="GB"))

    html = page_html(client, reverse("signatories:country_detail", args=["GB"]) + f"?page={page}")

    assert "Ada Lovelace" in text_of(html)


@pytest.mark.parametrize("page", ["abc", "999999", "-1"])
def test_letter_list_with_out_of_range_page_is_not_a_server_error(client, page):
    """The letter list is a generic ListView, which answers 404 for a page that does
    not exist; a normal page would do as well. A 500 would not."""
    make_letter()

    response = client.get(reverse("letters:list") + f"?page={page}")

    assert response.status_code in (200, 404)


# Not found and redirects


@pytest.mark.parametrize(
    "url_name",
    [
        "letters:detail",
        "signatories:letter_csv",
        "signatories:detail",
        "letters:recipient_detail",
    ],
)
def test_unknown_slug_is_not_found(client, url_name):
    make_signature(make_letter())

    response = get(client, reverse(url_name, args=["no-such-slug"]), status=404)

    assert "Page not found" in text_of(response.content)


@pytest.mark.parametrize("code", ["xx-invalid", "ZZ", "G", "GBR"])
def test_unknown_country_code_is_not_found(client, code):
    get(client, reverse("signatories:country_detail", args=[code]), status=404)


def test_lowercase_country_code_redirects_to_uppercase(client):
    response = get(client, reverse("signatories:country_detail", args=["gb"]), status=301)

    assert response["Location"] == reverse("signatories:country_detail", args=["GB"])


def test_signatory_named_only_by_initials_has_no_page(client, letter):
    signature = make_signature(letter, make_person("Ada Lovelace"), display=Display.INITIALS)

    get(client, reverse("signatories:detail", args=[signature.signatory.slug]), status=404)


def test_letter_page_sorts_signatories_by_name_as_shown(client, letter):
    make_signature(letter, make_person("Zoe Adams"), display=Display.FIRST_NAME)
    make_signature(letter, make_person("Bea Zimmer"))
    make_signature(letter, make_signatory(name="Youth Trust"))
    make_signature(letter, make_person("Alice Hidden"), display=Display.ANONYMOUS)

    names = [row[0] for row in signatory_rows(page_html(client, letter_url(letter)))]

    assert names == ["Youth Trust", "Bea Zimmer", "Zoe", "Anonymous survivor"]

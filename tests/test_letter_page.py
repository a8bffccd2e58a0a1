"""The letter page leads like a campaign; answers say what happened; the signatory list
says which rows it shows, pages land on the list, and links carry no empty parameters."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from letters.models import Addressee, ResponseEvent
from signatories.models import SignatoryKind, Signature
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_recipient,
    make_signatory,
    make_signature,
)
from tests.helpers import parse, table, table_rows, text_of
from tests.test_pages import (
    cards,
    letter_url,
    page_html,
    section,
    signatory_rows,
    stats,
)

pytestmark = pytest.mark.django_db


def headline(html: str) -> str:
    """The first figure of the letter page: its big number and what it says it is."""
    match = re.search(r'<p class="headline-figure">(.*?)</p>', html, re.S)
    if match:
        return text_of(match.group(1))
    lead = re.search(r'<div class="stat-listed"><dt>(.*?)</dt><dd>(.*?)</dd>', html, re.S)
    return f"{text_of(lead.group(2))} {text_of(lead.group(1))}"


def test_reported_figure_leads_while_larger_and_recorded_is_listed_here(client):
    letter = make_letter(
        reported_signatories=100,
        reported_signatories_is_minimum=True,
        reported_countries=24,
        reported_figures_source="press coverage, September 2023",
    )
    make_many_signatures(letter, 9)

    html = page_html(client, letter_url(letter))

    assert headline(html) == (
        "More than 100 signatories from 24 countries, as reported by the organisers "
        "(source: press coverage, September 2023)"
    )
    assert stats(html)["Signatories listed here"] == "9"
    assert "9 signatories listed here" in cards(page_html(client, "/"))[letter.title]
    assert cards(page_html(client, "/"))[letter.title].count("as reported by the organisers") == 1


def test_recorded_count_leads_once_it_passes_the_reported_figure(client):
    letter = make_letter(reported_signatories=5, reported_figures_source="organisers' site")
    make_many_signatures(letter, 6)

    html = page_html(client, letter_url(letter))

    assert headline(html) == "6 Signatories listed here"
    assert "as reported by the organisers" not in text_of(html)
    assert "The organisers reported 5 signatories (organisers' site)" in text_of(html)
    card = cards(page_html(client, "/"))[letter.title]
    assert card.startswith(f"{letter.title} Open")
    assert "6 signatories listed here" in card
    assert "as reported by the organisers" not in card


@pytest.mark.parametrize(
    ("status", "tone", "label"),
    [
        (Addressee.ResponseStatus.COMMITTED, "good", "Committed to act"),
        (Addressee.ResponseStatus.RESPONDED, "neutral", "Replied"),
        (Addressee.ResponseStatus.ACKNOWLEDGED, "neutral", "Acknowledged receipt"),
        (Addressee.ResponseStatus.DECLINED, "bad", "Declined"),
        (Addressee.ResponseStatus.AWAITING, "pending", "No answer yet"),
    ],
)
def test_each_answer_says_what_happened_in_words_and_tone(client, status, tone, label):
    letter = make_letter()
    make_addressee(letter, make_recipient(name="Meta"), response_status=status)

    html = page_html(client, letter_url(letter))

    summary = re.search(r'<ul class="answer-summary"[^>]*>(.*?)</ul>', html, re.S).group(1)
    assert f'<span class="answer answer-{tone}">{label}</span>' in summary
    assert text_of(summary).replace(" :", ":") == f"Meta: {label}"


def test_meeting_the_signatories_reads_as_good(client):
    letter = make_letter()
    addressee = make_addressee(letter, response_status=Addressee.ResponseStatus.RESPONDED)
    ResponseEvent.objects.create(addressee=addressee, kind="met", date=date(2024, 5, 1))

    html = page_html(client, letter_url(letter))

    assert '<span class="answer answer-good">Met the signatories</span>' in html


def test_silent_recipient_shows_days_since_delivery(client):
    delivered = timezone.localdate() - timedelta(days=1171)
    letter = make_letter(delivered_on=delivered)
    make_addressee(letter, make_recipient(name="Meta"))

    html = page_html(client, letter_url(letter))
    recipient_page = page_html(
        client, reverse("letters:recipient_detail", args=[letter.addressees.get().recipient.slug])
    )

    figures = text_of(section(html, "figures")).replace(" :", ":")
    assert "Meta: No answer 1,171 days after delivery" in figures
    assert "No answer 1,171 days after delivery" in cards(recipient_page)[letter.title]


def test_recipients_list_shows_each_letters_answer(client):
    meta = make_recipient(name="Meta")
    declined = make_letter(published_on=date(2024, 3, 1))
    make_addressee(declined, meta, response_status=Addressee.ResponseStatus.DECLINED)
    committed = make_letter(published_on=date(2023, 3, 1))
    make_addressee(committed, meta, response_status=Addressee.ResponseStatus.COMMITTED)

    html = page_html(client, reverse("letters:recipient_list"))

    assert table(html, css_class="listing")[0][-1] == (
        f"{declined.title}: Declined {committed.title}: Committed to act"
    )
    assert '<span class="answer answer-bad">Declined</span>' in html


def showing(html: str) -> str:
    return text_of(re.search(r'<span class="showing">(.*?)</span>', html, re.S).group(1))


def test_list_says_which_rows_it_shows_on_pages_one_and_two(client):
    letter = make_letter()
    make_many_signatures(letter, 120)

    first = page_html(client, letter_url(letter))
    second = page_html(client, letter_url(letter, "?page=2"))

    assert showing(first) == "Showing 1–50 of 120 signatories."
    assert showing(second) == "Showing 51–100 of 120 signatories."


def test_cursor_page_says_how_many_it_shows_not_where(client):
    letter = make_letter()
    make_many_signatures(letter, 120)
    next_href = [h for t, h in parse(page_html(client, letter_url(letter))).links if t == "Next →"]

    second = page_html(client, letter_url(letter, next_href[0].split("#")[0]))

    assert showing(second) == "Showing 50 of 120 signatories."


def test_next_and_previous_above_and_below_land_on_the_list_without_empty_params(client):
    letter = make_letter()
    make_many_signatures(letter, 120)
    url = letter_url(letter, "?kind=&category=&country=&verification=&q=")

    first = page_html(client, url)
    nexts = [h for t, h in parse(first).links if t == "Next →"]
    second = page_html(client, letter_url(letter, nexts[0].split("#")[0]))
    previous = [h for t, h in parse(second).links if t == "← Previous"]
    csv = [h for t, h in parse(first).links if t == "Download as CSV"]

    assert len(nexts) == 2 and len(previous) == 2
    for href in nexts + previous:
        parts = urlsplit(href)
        assert parts.fragment == "signatories"
        assert [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)] in (
            ["after"],
            ["before"],
        )
    assert urlsplit(csv[0]).query == ""


def test_names_sort_without_a_leading_the(client):
    letter = make_letter()
    for name in ("Barnardo's", "The Children's Society", "ECPAT", "Theatre Group"):
        make_signature(letter, make_signatory(name=name))

    names = [row[0] for row in signatory_rows(page_html(client, letter_url(letter)))]

    assert names == ["Barnardo's", "The Children's Society", "ECPAT", "Theatre Group"]


def test_unverified_rows_carry_no_badge_and_verified_ones_do(client):
    letter = make_letter()
    make_signature(letter, make_signatory(name="Barnardo's"))
    make_signature(
        letter,
        make_signatory(name="ECPAT"),
        verification=Signature.Verification.ORGANISATION_CONFIRMED,
        verified_at=timezone.now(),
    )

    html = page_html(client, letter_url(letter))
    rows = {row[0]: row for row in signatory_rows(html)}

    body = re.search(r'<table class="signatories">(.*?)</table>', html, re.S).group(1)
    assert "Not yet verified" not in body
    assert "badge-unverified" not in html
    assert rows["Barnardo's"][-1] == ""
    assert rows["ECPAT"][-1] == "Confirmed by the organisation"
    assert "No badge" in text_of(html)


def test_kind_is_said_once_per_group_not_after_every_category(client):
    letter = make_letter()
    make_signature(letter, make_signatory(name="Barnardo's"))
    make_signature(letter, make_signatory(name="ECPAT"))
    make_signature(letter, make_signatory(name="Ada Lovelace", kind=SignatoryKind.INDIVIDUAL))

    html = page_html(client, letter_url(letter))
    body = re.search(r'<table class="signatories">(.*?)</table>', html, re.S).group(1)

    assert "(organisation)" not in body
    assert re.findall(r'<tr class="group"><th scope="colgroup" colspan="5">(\w+)</th>', body) == [
        "Organisations",
        "Individuals",
    ]


def test_bad_filter_value_gets_a_plain_sentence_naming_it(client):
    letter = make_letter()

    html = page_html(client, letter_url(letter, "?kind=robot"))

    assert (
        "“robot” is not a kind of signatory here. Choose Organisation or Individual, "
        "or clear the filter."
    ) in text_of(html)
    assert "Select a valid choice" not in html


def test_invalid_filter_points_aria_describedby_at_its_message(client):
    letter = make_letter()

    html = page_html(client, letter_url(letter, "?kind=robot&country=zz"))

    for name in ("kind", "country"):
        described = re.search(rf'<select name="{name}"[^>]*aria-describedby="([^"]+)"', html)
        assert described, name
        assert f'<p class="error" id="{described.group(1)}">' in html


def test_letter_list_cards_are_headed_one_level_below_the_page(client):
    make_letter()

    html = page_html(client, reverse("letters:list"))

    assert re.search(r'<article class="card letter-card">\s*<h2 class="card-title">', html)
    assert "<h3" not in html


def test_countries_with_equal_counts_sort_by_name_not_code(client):
    letter = make_letter()
    make_signature(letter, make_signatory(country="CH"))  # Switzerland
    make_signature(letter, make_signatory(country="DE"))  # Germany

    # The tables, not the map: the map draws countries in the order of its geometry.
    letter_rows = table_rows(client.get(letter_url(letter)), "bars")
    countries_rows = table_rows(client.get(reverse("signatories:country_list")), "listing")

    for rows in (letter_rows, countries_rows):
        names = [row[0] for row in rows if row[0] in ("Germany", "Switzerland")]
        assert names == ["Germany", "Switzerland"]


# Parts drawn once per process (the "fragments" cache, keyed on what they draw)


def country_options(html: str) -> list[tuple[str, bool]]:
    """The country filter's options: (code, selected)."""
    select = re.search(r'<select name="country"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [
        (value, " selected" in rest)
        for value, rest in re.findall(r'<option value="([^"]*)"([^>]*)>', select)
    ]


def test_the_charts_and_filters_follow_new_signatures_whatever_was_drawn_before(client):
    letter = make_letter()
    make_signature(letter, make_signatory(country="GB"))
    url = letter.get_absolute_url()

    first = client.get(url).content.decode()
    make_signature(letter, make_signatory(country="FR"))
    make_signature(letter, make_signatory(country="GB"))
    second = client.get(url).content.decode()

    assert [code for code, _ in country_options(first)] == ["", "GB"]
    assert [code for code, _ in country_options(second)] == ["", "FR", "GB"]
    assert re.search(r">United Kingdom</a></th>\s*<td class=\"num\">1<", first)
    assert re.search(r">United Kingdom</a></th>\s*<td class=\"num\">2<", second)
    assert re.search(r">France</a></th>\s*<td class=\"num\">1<", second)


def test_a_filtered_page_never_leaves_its_choice_or_errors_on_the_unfiltered_form(client):
    letter = make_letter()
    make_signature(letter, make_signatory(country="GB"))
    make_signature(letter, make_signatory(country="FR"))
    url = letter.get_absolute_url()

    unfiltered_before = client.get(url).content.decode()
    filtered = client.get(url, {"country": "FR"}).content.decode()
    refused = client.get(url, {"kind": "robot"}).content.decode()
    unfiltered_after = client.get(url).content.decode()
    empty_params = client.get(url + "?country=&q=").content.decode()

    assert ("FR", True) in country_options(filtered)
    assert "Clear filters" in filtered
    assert "“robot” is not a kind of signatory here" in refused
    for html in (unfiltered_before, unfiltered_after, empty_params):
        assert [code for code, selected in country_options(html) if selected] in ([], [""])
        assert "is not a kind of signatory" not in html
        assert "Clear filters" not in html
    assert country_options(unfiltered_after) == country_options(unfiltered_before)

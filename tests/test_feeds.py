"""Atom feeds (letters/feeds.py): new letters, a letter's answers and news, a recipient's
answers. Read as a feed reader reads them (feedparser) and as XML against Atom's required
elements (RFC 4287); only what the pages show, newest first, capped, cached like a page,
in the same number of queries for few and many rows."""

import datetime
import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.urls import reverse

from letters.feeds import FEED_LENGTH
from letters.models import Addressee, EventKind, Letter, ResponseEvent
from letters.responses import record_response_event
from tests.factories import make_addressee, make_letter, make_recipient
from tests.test_http_cache import PUBLIC, cache_control
from tests.test_queries import assert_same_count, make_letters, measure

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
STAFF_NOTE = "Private: the Meta contact is on leave until March"
DRAFT_ANSWER = "Draft-only answer that must stay unpublished"


def feed_url(name: str, *args) -> str:
    return reverse(f"letters:{name}", args=args)


def read_feed(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def assert_valid_atom(body: bytes) -> None:
    """The elements RFC 4287 requires: the feed's id, title, updated and author (or an
    author on every entry); each entry's id, title, updated and an alternate link."""
    feed = ET.fromstring(body)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    entries = feed.findall(f"{ATOM}entry")
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None or all(
        entry.find(f"{ATOM}author") is not None for entry in entries
    )
    ids = []
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        links = entry.findall(f"{ATOM}link[@rel='alternate']")
        assert links and links[0].get("href").startswith("http"), "an absolute link"
        datetime.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids)), "entry ids are unique"


@pytest.fixture
def story():
    """An open letter with two recipients' answers, one given by hand, and a draft with
    an answer and private notes of its own."""
    letter = make_letter(
        title="Fix the reporting tools",
        published_on=datetime.date(2025, 3, 1),
        delivered_on=datetime.date(2025, 3, 10),
        staff_notes=STAFF_NOTE,
    )
    meta = make_addressee(letter, make_recipient(name="Meta", slug="meta"))
    snap = make_addressee(letter, make_recipient(name="Snap", slug="snap"))
    record_response_event(
        addressee=meta,
        kind=EventKind.ACKNOWLEDGED,
        date=datetime.date(2025, 3, 12),
        summary="Meta said it would reply <soon>.",
    )
    record_response_event(
        addressee=meta,
        kind=EventKind.COMMITTED,
        date=datetime.date(2025, 4, 2),
        summary="Meta committed to a review.",
        url="https://example.org/meta-review",
    )
    Addressee.objects.filter(pk=snap.pk).update(
        response_status=Addressee.ResponseStatus.DECLINED,
        response_date=datetime.date(2025, 3, 20),
        response_summary="Snap declined by email.",
    )
    draft = make_letter(title="Secret draft letter", status=Letter.Status.DRAFT)
    draft_meta = make_addressee(draft, meta.recipient)
    record_response_event(
        addressee=draft_meta,
        kind=EventKind.REPLIED,
        date=datetime.date(2025, 5, 1),
        summary=DRAFT_ANSWER,
    )
    return letter, draft


# The site's feed of new letters


def test_new_letters_feed_lists_published_letters_newest_first(client, story):
    letter, _ = story
    older = make_letter(title="Older letter", published_on=datetime.date(2024, 1, 5))
    closed = make_letter(
        title="Closed letter", status=Letter.Status.CLOSED, published_on=datetime.date(2024, 6, 1)
    )

    feed = read_feed(client, feed_url("feed"))

    assert [entry.title for entry in feed.entries] == [letter.title, closed.title, older.title]
    first = feed.entries[0]
    assert first.link == f"http://127.0.0.1:8000{letter.get_absolute_url()}"
    assert first.updated.startswith("2025-03-01")
    assert "Addressed to Meta, Snap." in first.summary
    assert feed.feed.links[0].href == "http://127.0.0.1:8000/letters/"


def test_new_letters_feed_is_valid_atom(client, story):
    assert_valid_atom(client.get(feed_url("feed")).content)


def test_new_letters_feed_holds_no_draft_or_staff_note(client, story):
    body = client.get(feed_url("feed")).content.decode()

    assert "Secret draft letter" not in body
    assert STAFF_NOTE not in body


def test_new_letters_feed_is_capped(client):
    make_letters(FEED_LENGTH + 5)

    feed = read_feed(client, feed_url("feed"))

    assert len(feed.entries) == FEED_LENGTH


# A letter's answers and news


def test_letter_feed_holds_its_answers_and_news_newest_first(client, story):
    letter, _ = story

    feed = read_feed(client, feed_url("letter_feed", letter.slug))

    assert [(entry.title, entry.updated[:10]) for entry in feed.entries] == [
        ("Meta: Committed to act", "2025-04-02"),
        ("Snap: Declined", "2025-03-20"),
        ("Meta: Acknowledged receipt", "2025-03-12"),
        ("Delivered to its recipients", "2025-03-10"),
        ("Published 1 March 2025", "2025-03-01"),
    ]
    committed = feed.entries[0]
    assert committed.link.endswith(f"{letter.get_absolute_url()}#answer-meta")
    assert "Meta committed to a review." in committed.summary
    assert 'href="https://example.org/meta-review"' in committed.summary
    assert [tag.term for tag in committed.tags] == ["committed"]


def test_letter_feed_says_when_the_letter_closed(client, story):
    letter, _ = story
    Letter.objects.filter(pk=letter.pk).update(
        status=Letter.Status.CLOSED, closed_on=datetime.date(2025, 6, 30)
    )

    feed = read_feed(client, feed_url("letter_feed", letter.slug))

    assert (feed.entries[0].title, feed.entries[0].updated[:10]) == (
        "Closed to new signatures",
        "2025-06-30",
    )


def test_letter_feed_is_valid_atom(client, story):
    letter, _ = story

    assert_valid_atom(client.get(feed_url("letter_feed", letter.slug)).content)


def test_an_answers_text_reaches_the_reader_as_text_not_markup(client, story):
    letter, _ = story

    feed = read_feed(client, feed_url("letter_feed", letter.slug))

    acknowledged = next(e for e in feed.entries if e.title == "Meta: Acknowledged receipt")
    assert "would reply &lt;soon&gt;." in acknowledged.summary


def test_a_draft_letter_has_no_feed(client, story):
    _, draft = story

    assert client.get(feed_url("letter_feed", draft.slug)).status_code == 404
    assert client.get(feed_url("letter_feed", "no-such-letter")).status_code == 404


def test_letter_feed_holds_no_staff_note(client, story):
    letter, _ = story

    body = client.get(feed_url("letter_feed", letter.slug)).content.decode()

    assert STAFF_NOTE not in body
    assert DRAFT_ANSWER not in body


def test_letter_feed_is_capped_newest_first(client, story):
    letter, _ = story
    meta = letter.addressees.get(recipient__slug="meta")
    ResponseEvent.objects.bulk_create(
        ResponseEvent(
            addressee=meta,
            kind=EventKind.REPLIED,
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=i),
        )
        for i in range(FEED_LENGTH + 10)
    )

    feed = read_feed(client, feed_url("letter_feed", letter.slug))

    assert len(feed.entries) == FEED_LENGTH
    days = [entry.updated[:10] for entry in feed.entries]
    assert days == sorted(days, reverse=True)
    assert days[0] == str(datetime.date(2026, 1, 1) + datetime.timedelta(days=FEED_LENGTH + 9))


def test_entry_ids_stay_when_the_letter_is_renamed(client, story):
    letter, _ = story
    before = read_feed(client, feed_url("letter_feed", letter.slug))
    Letter.objects.filter(pk=letter.pk).update(title="A new title", slug="a-new-slug")

    after = read_feed(client, feed_url("letter_feed", "a-new-slug"))

    assert [entry.id for entry in after.entries] == [entry.id for entry in before.entries]
    assert all(entry.id.startswith("tag:127.0.0.1,") for entry in after.entries)
    assert after.feed.id == before.feed.id


# A recipient's answers


def test_recipient_feed_holds_its_answers_on_published_letters(client, story):
    letter, _ = story

    feed = read_feed(client, feed_url("recipient_feed", "meta"))

    assert [entry.title for entry in feed.entries] == [
        f"Committed to act: {letter.title}",
        f"Acknowledged receipt: {letter.title}",
    ]
    assert DRAFT_ANSWER not in str(feed)
    assert_valid_atom(client.get(feed_url("recipient_feed", "meta")).content)


def test_an_answer_has_the_same_id_in_its_letters_and_its_recipients_feed(client, story):
    letter, _ = story

    by_letter = read_feed(client, feed_url("letter_feed", letter.slug))
    by_recipient = read_feed(client, feed_url("recipient_feed", "meta"))

    letter_ids = {entry.id for entry in by_letter.entries}
    assert {entry.id for entry in by_recipient.entries} <= letter_ids


def test_a_recipient_addressed_only_by_drafts_has_no_feed(client):
    draft = make_letter(status=Letter.Status.DRAFT)
    addressee = make_addressee(draft)

    response = client.get(feed_url("recipient_feed", addressee.recipient.slug))

    assert response.status_code == 404


# Linked from the pages, cached like them


def test_every_page_names_the_new_letters_feed(client, story):
    html = client.get(reverse("letters:home")).content.decode()

    assert (
        '<link rel="alternate" type="application/atom+xml" title="Undersigned: new letters" '
        f'href="{feed_url("feed")}">'
    ) in html


def test_the_letter_page_links_its_feed_in_its_head_and_for_readers(client, story):
    letter, _ = story
    url = feed_url("letter_feed", letter.slug)

    html = client.get(letter.get_absolute_url()).content.decode()

    assert (
        f'type="application/atom+xml" title="{letter.title}: answers and updates" href="{url}"'
        in html
    )
    assert f'<a href="{url}" type="application/atom+xml">Follow the answers' in html


def test_the_letter_list_and_recipient_page_link_their_feeds(client, story):
    letters = client.get(reverse("letters:list")).content.decode()
    recipient = client.get(reverse("letters:recipient_detail", args=["meta"])).content.decode()

    assert f'<a href="{feed_url("feed")}" type="application/atom+xml">Follow new letters' in letters
    url = feed_url("recipient_feed", "meta")
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        f'title="Meta: answers to open letters" href="{url}">' in recipient
    )
    assert f'<a href="{url}" type="application/atom+xml">Follow Meta' in recipient


@pytest.mark.parametrize("name", ["feed", "letter_feed", "recipient_feed"])
def test_feeds_are_cached_a_minute_and_answer_304(client, story, name):
    letter, _ = story
    url = feed_url(name, *{"feed": [], "letter_feed": [letter.slug]}.get(name, ["meta"]))

    response = client.get(url)
    again = client.get(url, headers={"if-none-match": response["ETag"]})

    assert cache_control(response) == set(PUBLIC.split(", "))
    assert again.status_code == 304


# Queries


def grow(letter: Letter) -> None:
    """More letters, recipients and answers around ``letter``."""
    for other in make_letters(30):
        for _ in range(2):
            addressee = make_addressee(other)
            record_response_event(
                addressee=addressee, kind=EventKind.REPLIED, date=datetime.date(2025, 1, 2)
            )
    meta = letter.addressees.get(recipient__slug="meta")
    for i in range(30):
        addressee = make_addressee(letter, position=i + 2)
        Addressee.objects.filter(pk=addressee.pk).update(
            response_status=Addressee.ResponseStatus.ACKNOWLEDGED,
            response_date=datetime.date(2025, 2, 1),
        )
        record_response_event(
            addressee=meta, kind=EventKind.MET, date=datetime.date(2025, 2, 1 + i % 20)
        )
        make_addressee(make_letter(), meta.recipient)


@pytest.mark.parametrize("name", ["feed", "letter_feed", "recipient_feed"])
def test_feeds_run_the_same_queries_for_few_and_many_rows(client, story, name):
    letter, _ = story
    url = feed_url(name, *{"feed": [], "letter_feed": [letter.slug]}.get(name, ["meta"]))
    few, _ = measure(client, url)

    grow(letter)
    many, body = measure(client, url)

    assert body.count(b"<entry>") > 30
    assert_same_count(few, many)
    assert len(few) <= 3

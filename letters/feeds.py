"""Atom feeds: new letters, and the recipients' answers and other news of one letter or of
one recipient across its letters.

What a feed holds is what the pages show, nothing more: published letters only (a draft's
feed is a 404, and a draft's answers appear in no feed), each answer's public summary and
link, never staff notes. Every feed is at most ``FEED_LENGTH`` entries, newest first, read
in a fixed number of queries whatever the number of letters and answers.

Each entry's id is a tag: URI (RFC 4151) made of the site's host, the day the row was
created and its primary key, so it survives a change of title or slug and the same answer
has the same id in a letter's feed and in its recipient's. The links go to the public site
(``SITE_URL``), never to whatever Host a request named.

Titles and descriptions are in the language of the feed's address (``/fr/…``), as its
pages are, and the feed says which (Atom's ``xml:lang``); its links keep that language.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext

from config.http import public_page
from letters.models import ANSWER_LABELS, Addressee, Letter, Recipient, ResponseEvent
from letters.sharing import SITE_NAME, absolute_url
from letters.translations import translated

FEED_LENGTH = 50


def tag_uri(day: datetime.date, specific: str) -> str:
    """A tag: URI on the public site's host (RFC 4151): ``tag:example.org,2026-12-04:letter-7``."""
    host = urlsplit(settings.SITE_URL).hostname
    return f"tag:{host},{day:%Y-%m-%d}:{specific}"


def _moment(day: datetime.date) -> datetime.datetime:
    """A day as the instant it began on the site's clock, which feeds need."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass(frozen=True)
class Entry:
    """One entry of a feed: a letter, a step in its life or a recipient's answer."""

    id: str
    title: str
    day: datetime.date
    link: str
    summary: str  # HTML, escaped
    category: str
    order: tuple = ()  # ties on the same day: the later step first

    @property
    def sort_key(self) -> tuple:
        return (self.day, *self.order)


def _newest_first(entries) -> list[Entry]:
    return sorted(entries, key=lambda entry: entry.sort_key, reverse=True)[:FEED_LENGTH]


def _summary(text: str, url: str = "") -> str:
    html = format_html("<p>{}</p>", text) if text else ""
    if url:
        html += format_html(
            '<p><a href="{}">{}</a></p>', url, pgettext("link to a source", "Source")
        )
    return html


def _answer_link(letter: Letter, recipient: Recipient) -> str:
    return absolute_url(f"{letter.get_absolute_url()}#answer-{recipient.slug}")


def event_entry(event: ResponseEvent, *, title: str) -> Entry:
    addressee = event.addressee
    return Entry(
        id=tag_uri(event.created_at.date(), f"response-event-{event.pk}"),
        title=title,
        day=event.date,
        link=_answer_link(addressee.letter, addressee.recipient),
        summary=_summary(str(event.text.summary), event.url),
        category=event.kind,
        order=(2, event.pk),
    )


def answer_label(addressee: Addressee) -> str:
    # Not ``addressee.answer``, which reads the addressee's events: one query per row.
    return str(ANSWER_LABELS[addressee.response_status])


def recipient_said(recipient: str, answer: str) -> str:
    """A letter's feed entry for an answer: "Meta: Replied"."""
    # Translators: a recipient (an organisation), then how it answered a letter.
    return pgettext("feed entry", "%(recipient)s: %(answer)s") % {
        "recipient": recipient,
        "answer": answer,
    }


def answer_to(answer: str, title: str) -> str:
    """A recipient's feed entry for an answer: "Replied: <the letter's title>"."""
    # Translators: how a recipient answered, then the title of the letter it answered.
    return pgettext("feed entry", "%(answer)s: %(title)s") % {"answer": answer, "title": title}


def answer_entry(addressee: Addressee, *, title: str) -> Entry:
    """An answer staff entered by hand on an addressee with no timeline."""
    return Entry(
        id=tag_uri(addressee.letter.created_at.date(), f"addressee-{addressee.pk}-answer"),
        title=title,
        day=addressee.response_date,
        link=_answer_link(addressee.letter, addressee.recipient),
        summary=_summary(str(addressee.text.response_summary), addressee.response_url),
        category=addressee.response_status,
        order=(2, 0, addressee.pk),
    )


def public_events(**filters):
    """The latest public steps of recipients' answers: on published letters only."""
    # Each summary in the reader's language where translated, in the same query.
    return (
        translated(
            ResponseEvent.objects.filter(addressee__letter__status__in=Letter.PUBLIC_STATUSES)
        )
        .filter(**filters)
        .select_related("addressee__recipient", "addressee__letter")
        .order_by("-date", "-pk")[:FEED_LENGTH]
    )


def hand_entered_answers(**filters):
    """Dated answers staff entered on an addressee that has no timeline (which the
    letter page shows); an addressee with events is covered by its events."""
    return (
        translated(Addressee.objects.filter(letter__status__in=Letter.PUBLIC_STATUSES))
        .filter(**filters)
        .exclude(response_status=Addressee.ResponseStatus.AWAITING)
        .exclude(response_date=None)
        .exclude(Exists(ResponseEvent.objects.filter(addressee=OuterRef("pk"))))
        .select_related("recipient", "letter")
        .order_by("-response_date", "-pk")[:FEED_LENGTH]
    )


def letter_milestones(letter: Letter) -> list[Entry]:
    """The letter's own news: published, delivered, closed, when their dates are known."""
    link = absolute_url(letter.get_absolute_url())
    created = letter.created_at.date()
    steps = [
        (
            "published",
            letter.published_on,
            # Translators: %(date)s is a date, a month and year, or a year.
            gettext("Published %(date)s") % {"date": letter.published_on_label},
            0,
        ),
        ("delivered", letter.delivered_on, gettext("Delivered to its recipients"), 1),
    ]
    if letter.status == Letter.Status.CLOSED:
        steps.append(("closed", letter.closed_on, gettext("Closed to new signatures"), 3))
    return [
        Entry(
            id=tag_uri(created, f"letter-{letter.pk}-{name}"),
            title=title,
            day=day,
            link=link,
            summary=_summary(letter.summary if name == "published" else ""),
            category=name,
            order=(rank,),
        )
        for name, day, title, rank in steps
        if day is not None
    ]


class AtomFeed(Feed):
    """Atom 1.0 over ``Entry`` items; subclasses say which entries and what they are about."""

    feed_type = Atom1Feed
    author_name = SITE_NAME
    item_guid_is_permalink = False

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_guid(self, item: Entry) -> str:
        return item.id

    def item_description(self, item: Entry) -> str:
        return item.summary

    def item_pubdate(self, item: Entry) -> datetime.datetime:
        return _moment(item.day)

    def item_updateddate(self, item: Entry) -> datetime.datetime:
        return _moment(item.day)

    def item_categories(self, item: Entry) -> list[str]:
        return [item.category]


class NewLettersFeed(AtomFeed):
    def title(self) -> str:
        return gettext("%(site)s: new letters") % {"site": SITE_NAME}

    def subtitle(self) -> str:
        return gettext("Open letters published on the site, newest first.")

    def link(self) -> str:
        return absolute_url(reverse("letters:list"))

    def feed_url(self) -> str:
        return absolute_url(reverse("letters:feed"))

    def feed_guid(self) -> str:
        return absolute_url(reverse("letters:feed"))

    def items(self) -> list[Entry]:
        letters = (
            Letter.objects.published()
            .in_language()
            .prefetch_related(
                Prefetch("addressees", queryset=Addressee.objects.select_related("recipient"))
            )[:FEED_LENGTH]
        )
        return [self.entry(letter) for letter in letters]

    @staticmethod
    def entry(letter: Letter) -> Entry:
        recipients = [addressee.recipient.name for addressee in letter.addressees.all()]
        summary = _summary(str(letter.text.summary))
        if recipients:
            addressed = gettext("Addressed to %(recipients)s.") % {
                "recipients": ", ".join(recipients)
            }
            summary += format_html("<p>{}</p>", addressed)
        if letter.organiser:
            organised = gettext("Organised by %(organiser)s.") % {"organiser": letter.organiser}
            summary += format_html("<p>{}</p>", organised)
        return Entry(
            id=tag_uri(letter.created_at.date(), f"letter-{letter.pk}"),
            title=str(letter.text.title),
            day=letter.published_on or letter.created_at.date(),
            link=absolute_url(letter.get_absolute_url()),
            summary=summary,
            category=letter.status,
        )


class LetterUpdatesFeed(AtomFeed):
    """A letter's news: published, delivered, each recipient's answers, closed."""

    def get_object(self, request, slug: str) -> Letter:
        return get_object_or_404(Letter.objects.published().in_language(), slug=slug)

    def title(self, letter: Letter) -> str:
        return gettext("%(title)s: answers and updates") % {"title": letter.text.title}

    def subtitle(self, letter: Letter) -> str:
        return gettext("How each recipient has answered the letter, and its other news.")

    def link(self, letter: Letter) -> str:
        return absolute_url(letter.get_absolute_url())

    def feed_url(self, letter: Letter) -> str:
        return absolute_url(reverse("letters:letter_feed", args=[letter.slug]))

    def feed_guid(self, letter: Letter) -> str:
        return tag_uri(letter.created_at.date(), f"letter-{letter.pk}-updates")

    def items(self, letter: Letter) -> list[Entry]:
        events = [
            event_entry(
                event,
                title=recipient_said(event.addressee.recipient.name, event.get_kind_display()),
            )
            for event in public_events(addressee__letter=letter)
        ]
        answers = [
            answer_entry(
                addressee,
                title=recipient_said(addressee.recipient.name, answer_label(addressee)),
            )
            for addressee in hand_entered_answers(letter=letter)
        ]
        return _newest_first([*letter_milestones(letter), *events, *answers])


class RecipientAnswersFeed(AtomFeed):
    """A recipient's answers to every published letter addressed to it."""

    def get_object(self, request, slug: str) -> Recipient:
        return get_object_or_404(Recipient.objects.public(), slug=slug)

    def title(self, recipient: Recipient) -> str:
        return gettext("%(recipient)s: answers to open letters") % {"recipient": recipient.name}

    def link(self, recipient: Recipient) -> str:
        return absolute_url(recipient.get_absolute_url())

    def feed_url(self, recipient: Recipient) -> str:
        return absolute_url(reverse("letters:recipient_feed", args=[recipient.slug]))

    def feed_guid(self, recipient: Recipient) -> str:
        return absolute_url(reverse("letters:recipient_feed", args=[recipient.slug]))

    def items(self, recipient: Recipient) -> list[Entry]:
        events = [
            event_entry(
                event, title=answer_to(event.get_kind_display(), event.addressee.letter.title)
            )
            for event in public_events(addressee__recipient=recipient)
        ]
        answers = [
            answer_entry(
                addressee, title=answer_to(answer_label(addressee), addressee.letter.title)
            )
            for addressee in hand_entered_answers(recipient=recipient)
        ]
        return _newest_first([*events, *answers])


new_letters = public_page(NewLettersFeed())
letter_updates = public_page(LetterUpdatesFeed())
recipient_answers = public_page(RecipientAnswersFeed())

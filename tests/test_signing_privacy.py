"""Signers seeded through the real sign form and emailed links, then every public page,
CSV and 404 scanned: no email address, IP address, private note or moderation reason
appears anywhere, nor any part of a name its signer chose to hide, nor anything of a
signature that is unconfirmed, withdrawn, pending, hidden or rejected.

The scan covers every public URL pattern there is (count.json, the feeds, the embed and
oEmbed among them), and ``test_scan_covers_every_public_url_pattern`` fails when one is added
without being scanned here.

Seeding and scanning take a few hundred requests, so they run once per test run (``site``,
shared by pytest-xdist's workers) inside a transaction that is rolled back; each test
asserts on the snapshot.
"""

import csv
import datetime
import fcntl
import functools
import html
import io
import itertools
import os
import pickle
import re
import time
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.tasks import TaskResultStatus
from django.tasks.signals import task_finished
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import translation
from django.utils.text import slugify
from PIL import Image

from config.sitemaps import SITEMAPS
from letters.models import Letter, ResponseEvent
from letters.responses import record_response_event
from letters.sharing import absolute_url
from signatories.abuse import form_stamp
from signatories.delivered import freeze_delivered_list
from signatories.emails import normalise_email
from signatories.links import Purpose, read_token
from signatories.models import (
    Category,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    SignatureStatus,
    initials_of,
    public_name_of,
)
from signatories.tasks import announce_response
from signatories.vetting import reject_signatures, set_status
from tests.factories import make_addressee, make_letter, make_recipient
from tests.helpers import table_rows
from tests.test_privacy import card_counts, recorded_counts, showing_count, stat

IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}
# Marked so that pytest-django sets up the test database, which ``site`` seeds.
pytestmark = pytest.mark.django_db

PER_PAGE = 2  # small pages, so that page 2 and later are scanned too

# What happens to a signature after its signer sends the form.
PUBLISHED = "published"  # confirmed by its signer, shown and counted
UNCONFIRMED = "unconfirmed"  # link never followed
WITHDRAWN = "withdrawn"  # confirmed, then withdrawn with the emailed link
WITHDRAWN_UNCONFIRMED = "withdrawn unconfirmed"  # withdrawn before ever confirming
PENDING = "pending"  # confirmed, held for a moderator
HIDDEN = "hidden"  # confirmed, then hidden by staff
HIDDEN_FIRST = "hidden first"  # hidden by staff, then confirmed by its signer
REJECTED = "rejected"  # confirmed, then rejected by staff
STAFF_PUBLISHED = "staff published"  # confirmed, held, then published by a moderator
SHOWN = (PUBLISHED, STAFF_PUBLISHED)

REJECTION_REASON = "Rejection-reason RX-19: sockpuppet of a known troll account"
STAFF_NOTE = "Staff-only letter note LX-77: the funder asked us to wait"


@dataclass(frozen=True)
class Signer:
    key: str
    name: str
    email: str
    ip: str
    fate: str
    display: str = Display.FULL
    kind: str = SignatoryKind.INDIVIDUAL
    category: str = Category.SURVIVOR
    country: str = ""
    role: str = ""
    affiliation: str = ""
    website: str = ""
    statement: str = ""
    follow_up: bool = True
    letter: str = "open"
    too_fast: bool = False
    signs_twice: bool = False
    old_name: str = ""  # the name first signed with, then withdrawn, before signing again

    @property
    def is_person(self) -> bool:
        return self.kind == SignatoryKind.INDIVIDUAL

    @property
    def public_name(self) -> str:
        return public_name_of(self.name, self.display)

    @property
    def name_words(self) -> list[str]:
        """Each word of a person's name, hyphenated parts too; an organisation's whole name
        (its words, "Network" or "Collective", are also category labels)."""
        if not self.is_person:
            return [self.name]
        words = [*re.split(r"[ -]", self.name), *self.name.split(" ")]
        return [self.name, *(word for word in words if len(word) >= 4)]

    @property
    def shown(self) -> bool:
        return self.fate in SHOWN

    @property
    def hidden_name_parts(self) -> list[str]:
        """What of the name must never appear publicly."""
        if not self.shown:
            return self.name_words
        if self.display == Display.FULL:
            return []
        first, _, rest = self.name.partition(" ")
        if self.display == Display.FIRST_NAME:
            return [self.name, rest, *(w for w in re.split(r"[ -]", rest) if len(w) >= 4)]
        hidden = list(self.name_words)
        if self.display == Display.ANONYMOUS:
            hidden.append(initials_of(self.name))
        return hidden

    @property
    def hidden_identity(self) -> list[str]:
        """Role, affiliation and website: public only with a full name, shown."""
        if self.shown and self.display == Display.FULL:
            return []
        host = urlsplit(self.website).hostname if self.website else None
        return [v for v in (self.role, self.affiliation, host) if v]

    @property
    def private_values(self) -> list[str]:
        """Never public, whoever the signer and whatever they chose."""
        local = self.email.rpartition("@")[0]
        normalised = normalise_email(self.email)
        return [
            self.email,
            local,
            normalised,
            normalised.rpartition("@")[0],
            self.ip,
            f"Signature note NX-{self.key}",
            f"Signatory note NS-{self.key}",
        ]


SIGNERS = [
    Signer(
        key="full",
        name="Bartholomew Xylander-Quince",
        email="bart.xq.7731@inbox-alpha.example",
        ip="198.51.100.11",
        fate=PUBLISHED,
        country="GB",
        role="Harbour Pilot",
        affiliation="Estuary Rowing Trust",
        statement="We owe children better than this, said the harbour.",
        signs_twice=True,
    ),
    Signer(
        key="first",
        name="Zephyrine Quasimodo-Ottoline",
        email="z.qo.private4412@inbox-beta.example",
        ip="198.51.100.23",
        fate=PUBLISHED,
        display=Display.FIRST_NAME,
        country="FR",
        role="Lighthouse Keeper Vantablack",
        affiliation="Obsidian Ferry Cooperative",
        statement="It happened to me at twelve, in a chat room.",
    ),
    Signer(
        key="initials",
        name="Wilhelmina Throckmorton",
        email="wt.secret.9920@inbox-gamma.example",
        ip="203.0.113.45",
        fate=PUBLISHED,
        display=Display.INITIALS,
        category=Category.ADVOCATE,
        country="DE",
        role="Glassblower Supreme",
        affiliation="Murano Kiln Guild",
        statement="Believe survivors the first time.",
    ),
    Signer(
        key="anonymous",
        name="Xanthe Yarborough-Pellegrini",
        email="xyp.hushmail.5561@inbox-delta.example",
        ip="2001:db8::4b1d",
        fate=PUBLISHED,
        display=Display.ANONYMOUS,
        category=Category.FAMILY,
        country="NZ",
        role="Cartographer Emeritus",
        affiliation="Fjordland Atlas Society",
        statement="For my brother, who never told anyone.",
    ),
    Signer(
        key="organisation",
        name="Quillfeather Survivors Network",
        email="press.office.8812@quillfeather.example.org",
        ip="198.51.100.77",
        fate=PUBLISHED,
        kind=SignatoryKind.ORGANISATION,
        category=Category.NGO,
        country="IE",
        website="https://quillfeather.example.org/",
        statement="Our members demand action now.",
    ),
    Signer(
        key="first-no-country",
        name="Ottavio Brunschwig-Lindqvist",
        email="ottavio.brunschwig+letters@gmail.com",
        ip="203.0.113.9",
        fate=PUBLISHED,
        display=Display.FIRST_NAME,
        category=Category.EXPERT,
        role="Quantum Beekeeper",
        statement="Platforms knew and did nothing.",
        follow_up=False,
    ),
    Signer(
        key="renamed",
        name="Perpetua G.",
        old_name="Perpetua Gallowglass-Reyes",
        email="perpetua.gr.5150@inbox-nu.example",
        ip="203.0.113.61",
        fate=PUBLISHED,
        country="GB",
        statement="I signed again with less of my name.",
        follow_up=False,
    ),
    Signer(
        key="unconfirmed",
        name="Octavian Fairweather-Nkemelu",
        email="octavian.fn.3318@inbox-epsilon.example",
        ip="198.51.100.101",
        fate=UNCONFIRMED,
        country="GB",
        statement="Marigold words that were never confirmed.",
        signs_twice=True,
    ),
    Signer(
        key="withdrawn",
        name="Philippa Brandywine-Osei",
        email="pbo.withdrawn.2207@inbox-zeta.example",
        ip="198.51.100.102",
        fate=WITHDRAWN,
        country="FR",
        statement="Saffron words I later took back.",
    ),
    Signer(
        key="withdrawn-unconfirmed",
        name="Cassius Umberfield-Drax",
        email="cud.never.6604@inbox-eta.example",
        ip="198.51.100.103",
        fate=WITHDRAWN_UNCONFIRMED,
        display=Display.INITIALS,
        country="DE",
        statement="Juniper words withdrawn before confirming.",
    ),
    Signer(
        key="rejected",
        name="Leopold Marchetti-Fenwick",
        email="lmf.rejected.1190@inbox-theta.example",
        ip="198.51.100.104",
        fate=REJECTED,
        country="GB",
        statement="Cobalt words from a sockpuppet.",
        signs_twice=True,
    ),
    Signer(
        key="pending-fast",
        name="Ingrid Soderqvist-Amadi",
        email="isa.toofast.4471@inbox-iota.example",
        ip="198.51.100.105",
        fate=PENDING,
        country="NZ",
        statement="Vermilion words sent too fast.",
        too_fast=True,
    ),
    Signer(
        key="pending-organisation",
        name="Harrowgate Oversight Collective",
        email="harrowgate.oversight.desk@gmail.com",
        ip="198.51.100.106",
        fate=PENDING,
        kind=SignatoryKind.ORGANISATION,
        category=Category.NETWORK,
        country="IE",
        website="https://harrowgate-oversight.example.org/",
        statement="Cerulean words from an unproven organisation.",
    ),
    Signer(
        key="hidden",
        name="Rosalind Abernathy-Kwame",
        email="rak.hidden.8830@inbox-kappa.example",
        ip="198.51.100.107",
        fate=HIDDEN,
        country="GB",
        statement="Magenta words that staff hid.",
    ),
    Signer(
        key="hidden-first",
        name="Evander Blackwood-Ishikawa",
        email="ebi.hiddenfirst.2718@inbox-xi.example",
        ip="198.51.100.110",
        fate=HIDDEN_FIRST,
        display=Display.FIRST_NAME,
        country="DE",
        statement="Umber words staff hid before I confirmed.",
        signs_twice=True,
    ),
    Signer(
        key="moderated-pending",
        name="Tobias Vandermeer-Achterberg",
        email="tva.moderated.5129@inbox-lambda.example",
        ip="198.51.100.108",
        fate=PENDING,
        letter="moderated",
        country="NO",
        statement="Ochre words awaiting a moderator.",
    ),
    Signer(
        key="moderated-published",
        name="Margarethe Ellingboe-Sandvik",
        email="mes.moderated.7342@inbox-mu.example",
        ip="198.51.100.109",
        fate=STAFF_PUBLISHED,
        letter="moderated",
        display=Display.INITIALS,
        country="NO",
        role="Fjord Ferrywoman",
        statement="A moderator let my initials through.",
    ),
]
BY_KEY = {signer.key: signer for signer in SIGNERS}
MODERATION_REASONS = [
    "form sent faster than a person fills it in",
    "organisation email not on its website's domain",
    "the letter asks for moderation",
]
FILTER_VALUES = {
    "kind": ["", SignatoryKind.INDIVIDUAL, SignatoryKind.ORGANISATION],
    "category": ["", Category.SURVIVOR, Category.FAMILY, Category.ADVOCATE, Category.NGO],
    "country": ["", "GB", "FR", "DE", "NZ", "IE", "nz"],
    "verification": ["", "email_confirmed", "organisation_confirmed", "unverified"],
}


@dataclass
class Email:
    to: list[str]
    subject: str
    body: str
    headers: dict
    withdraw_for: list[str]  # the email of the signature each withdraw link names


@dataclass(frozen=True)
class Fetched:
    """A page as fetched: what the page readers (``stat``, ``table_rows``…) read of a
    response, kept apart from the test client that made it."""

    status_code: int
    content: bytes


@dataclass
class Site:
    """What the public could see once the signers above had signed."""

    pages: dict[str, str] = field(default_factory=dict)  # URL → headers and body
    statuses: dict[str, int] = field(default_factory=dict)
    sent_pages: dict[str, str] = field(default_factory=dict)  # signer key → "check email"
    link_pages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    emails: list[Email] = field(default_factory=list)
    responses: dict[str, Fetched] = field(default_factory=dict)
    csv_rows: dict[str, list[dict]] = field(default_factory=dict)
    searched: dict[str, tuple[Fetched, list[dict]]] = field(default_factory=dict)
    recorded: dict[str, dict] = field(default_factory=dict)  # signer key → private fields
    profiles: dict[str, str] = field(default_factory=dict)  # signer key → signatory page
    failed_tasks: list[str] = field(default_factory=list)


def _path(url: str) -> str:
    assert url.startswith(settings.SITE_URL), url
    return url.removeprefix(settings.SITE_URL)


def _links(body: str, view: str) -> list[str]:
    return re.findall(rf"{re.escape(settings.SITE_URL)}/letters/[\w-]+/{view}/[^\s/]+/", body)


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type") == "image/png":
        return f"{response.headers}\n{_image_text(body)}"
    return f"{response.headers}\n{body.decode()}"


def _image_text(png: bytes) -> str:
    """What a share image says: it is drawn from exactly the text it carries in its
    text chunks (letters.sharing), which are read here, with its size checked so that
    nothing else (say, a list of names) is drawn beyond them."""
    image = Image.open(io.BytesIO(png))
    assert image.size == (1200, 630)
    return "\n".join(image.text.values())


def _csv_rows(text: str) -> list[dict]:
    body = text.partition("\ufeff")[2]
    return list(csv.DictReader(io.StringIO(body, newline="")))


def _with_query(url: str, **params) -> str:
    params = {name: value for name, value in params.items() if value != ""}
    return f"{url}?{urlencode(params)}" if params else url


def _sign(client: Client, letter: Letter, signer: Signer):
    shown = time.time() if signer.too_fast else time.time() - 60
    data = {
        "kind": signer.kind,
        "name": signer.name,
        "email": signer.email,
        "country": signer.country,
        "category": signer.category,
        "display": signer.display,
        "role": signer.role,
        "affiliation": signer.affiliation,
        "website": signer.website,
        "statement": signer.statement,
        "consent": "on",
        "homepage": "",
        "stamp": form_stamp(now=shown),
    }
    if signer.follow_up:
        data["follow_up"] = "on"
    response = client.post(
        reverse("signatories:sign", args=[letter.slug]),
        data,
        REMOTE_ADDR=signer.ip,
        follow=True,
    )
    assert response.redirect_chain == [
        (reverse("signatories:sign_sent", args=[letter.slug]), 302)
    ], signer.key
    return response


def _last_email_to(address: str) -> str:
    return [message for message in mail.outbox if message.to == [address]][-1].body


def _seed_letters() -> dict[str, Letter]:
    letters = {
        "open": make_letter(
            title="Open letter on grooming in chat apps",
            accepts_public_signatures=True,
            staff_notes=STAFF_NOTE,
        ),
        "moderated": make_letter(
            title="Moderated letter on age checks",
            accepts_public_signatures=True,
            moderate_public_signatures=True,
        ),
        "closed": make_letter(title="Closed letter on encryption", status=Letter.Status.CLOSED),
        "not-public": make_letter(title="Letter signed only on paper"),
        "draft": make_letter(
            title="Draft letter", status=Letter.Status.DRAFT, accepts_public_signatures=True
        ),
    }
    recipient = make_recipient(name="Chatterbox Platforms")
    for letter in letters.values():
        make_addressee(letter, recipient)
    return letters


def _sign_and_follow_links(client: Client, site: Site, letter: Letter, signer: Signer) -> None:
    """What a signer does, by their fate: sign (a renamed signer first signs under the old
    name, confirms and withdraws), then use the email's links, keeping the pages seen."""
    if signer.old_name:
        _sign(client, letter, replace(signer, name=signer.old_name))
        body = _last_email_to(signer.email)
        client.post(_path(_links(body, "confirm")[0]))
        client.post(_path(_links(body, "withdraw")[0]))
    response = _sign(client, letter, signer)
    site.sent_pages[signer.key] = _text(response)
    if signer.fate == UNCONFIRMED:
        return
    body = _last_email_to(signer.email)
    [confirm_url] = _links(body, "confirm")
    [withdraw_url] = _links(body, "withdraw")
    if signer.fate == WITHDRAWN_UNCONFIRMED:
        client.post(_path(withdraw_url))
        return
    if signer.fate == HIDDEN_FIRST:
        set_status(
            signatures=Signature.objects.filter(email=signer.email),
            status=SignatureStatus.HIDDEN,
            by=None,
        )
    before = client.get(_path(confirm_url))
    after = client.post(_path(confirm_url))
    site.link_pages[signer.key] = [
        ("confirm, before", _text(before)),
        ("confirm, after", _text(after)),
        ("confirm, again", _text(client.get(_path(confirm_url)))),
        ("withdraw, before", _text(client.get(_path(withdraw_url)))),
    ]
    if signer.fate == WITHDRAWN:
        site.link_pages[signer.key].append(
            ("withdraw, after", _text(client.post(_path(withdraw_url))))
        )


def _staff_notes_and_decisions(signatures: dict[str, Signature]) -> None:
    """Staff at work on every signature: private notes, and the decisions the fates ask."""
    for key, signature in signatures.items():
        # Staff notes, and the signatory's email as staff might copy it there.
        Signature.objects.filter(pk=signature.pk).update(
            notes=f"Signature note NX-{key}", featured=True
        )
        Signatory.objects.filter(pk=signature.signatory_id).update(
            notes=f"Signatory note NS-{key}", email=BY_KEY[key].email
        )
    by_fate = {
        fate: [s.pk for key, s in signatures.items() if BY_KEY[key].fate == fate]
        for fate in (REJECTED, HIDDEN, STAFF_PUBLISHED)
    }
    reject_signatures(
        signatures=Signature.objects.filter(pk__in=by_fate[REJECTED]),
        reason=REJECTION_REASON,
        by=None,
    )
    set_status(
        signatures=Signature.objects.filter(pk__in=by_fate[HIDDEN]),
        status=SignatureStatus.HIDDEN,
        by=None,
    )
    set_status(
        signatures=Signature.objects.filter(pk__in=by_fate[STAFF_PUBLISHED]),
        status=SignatureStatus.PUBLISHED,
        by=None,
    )


def _announce_response_and_unfollow(client: Client, site: Site, letter: Letter) -> None:
    """A response announced to the letter's followers; the first signer then unfollows."""
    event = record_response_event(
        addressee=letter.addressees.get(),
        kind=ResponseEvent.Kind.REPLIED,
        date=letter.created_at.date(),
        summary="Chatterbox promised a review.",
    )
    assert announce_response(event)

    first = BY_KEY["first"]
    [unfollow_url] = _links(_last_email_to(first.email), "news/stop")
    site.link_pages[first.key] += [
        ("unfollow, before", _text(client.get(_path(unfollow_url)))),
        ("unfollow, after", _text(client.post(_path(unfollow_url)))),
    ]


def _seed(client: Client, site: Site) -> dict[str, Letter]:
    letters = _seed_letters()
    for signer in SIGNERS:
        _sign_and_follow_links(client, site, letters[signer.letter], signer)

    signatures = {
        # The signer's last submission (one who withdrew and signed again has two).
        signer.key: Signature.objects.select_related("signatory")
        .filter(email=signer.email)
        .latest("pk")
        for signer in SIGNERS
    }
    for key, signature in signatures.items():
        site.recorded[key] = {
            "email": signature.email,
            "ip_address": signature.ip_address,
            "consent_text": signature.consent_text,
            "moderation_reason": signature.moderation_reason,
            "status": signature.status,
        }
    # Delivered before staff's decisions: the rows they hide or reject are then redacted.
    freeze_delivered_list(letter=letters["open"])
    _staff_notes_and_decisions(signatures)

    # Signing again after being confirmed, rejected or hidden: a reminder, nothing changed.
    for signer in SIGNERS:
        if signer.signs_twice:
            _sign(client, letters[signer.letter], signer)
    # After signing again, which gives an unconfirmed signer a new slug.
    for key, signature in signatures.items():
        signature.signatory.refresh_from_db()
        site.profiles[key] = signature.signatory.get_absolute_url()

    _announce_response_and_unfollow(client, site, letters["open"])
    return letters


def _filter_combinations() -> list[dict[str, str]]:
    """Each filter value alone, and every pair of filters with two values of each."""
    combinations = [{name: value} for name, values in FILTER_VALUES.items() for value in values]
    for (a, a_values), (b, b_values) in itertools.combinations(FILTER_VALUES.items(), 2):
        combinations += [
            {a: a_value, b: b_value}
            for a_value, b_value in itertools.product(a_values[1:3], b_values[1:3])
        ]
    return combinations


def _filtered_urls(letter: Letter, *, pairs: bool) -> list[str]:
    page = letter.get_absolute_url()
    csv_url = reverse("signatories:letter_csv", args=[letter.slug])
    combinations = _filter_combinations()
    if not pairs:
        combinations = [params for params in combinations if len(params) == 1]
    urls = []
    for params in combinations:
        urls += [_with_query(page, **params), _with_query(csv_url, **params)]
    for number in ["2", "3", "4", "99", "x"]:
        urls += [_with_query(page, page=number), _with_query(csv_url, page=number)]
    if pairs:
        urls += [_with_query(page, kind=SignatoryKind.INDIVIDUAL, page=n) for n in "234"]
    return urls


def _searched_for(signers: list[Signer]) -> list[str]:
    """What a visitor might search for to find a hidden name or detail."""
    terms = []
    for signer in signers:
        terms += [*signer.hidden_name_parts, *signer.hidden_identity]
    return [*dict.fromkeys(terms), signers[0].email, signers[-1].email]


HIDDEN_TERMS = _searched_for([s for s in SIGNERS if s.letter == "open"])
MODERATED_HIDDEN_TERMS = _searched_for([s for s in SIGNERS if s.letter == "moderated"])
SHOWN_TERMS = {"Zephyrine": "Zephyrine", "xylander": "Bartholomew Xylander-Quince"}


def _search_urls(letter: Letter, terms: list[str]) -> list[str]:
    csv_url = reverse("signatories:letter_csv", args=[letter.slug])
    urls = []
    for term in terms:
        urls += [_with_query(letter.get_absolute_url(), q=term), _with_query(csv_url, q=term)]
    return urls


def _public_urls(letters: dict[str, Letter]) -> list[str]:
    urls = [
        reverse("letters:home"),
        reverse("letters:list"),
        reverse("letters:recipient_list"),
        reverse("signatories:country_list"),
        reverse("signatories:privacy"),
        reverse("healthz"),
        reverse("admin:login"),
        reverse("robots"),
        reverse("favicon"),
        reverse("sitemap"),
        *(reverse("sitemap_section", args=[section]) for section in SITEMAPS),
        reverse("letters:feed"),
    ]
    letter_list = reverse("letters:list")
    for status in ["open", "closed", "draft", ""]:
        urls += [_with_query(letter_list, status=status, page=page) for page in ("", "2")]
    for recipient_slug in letters["open"].addressees.values_list("recipient__slug", flat=True):
        urls += [
            _with_query(letter_list, recipient=recipient_slug),
            _with_query(letter_list, recipient=recipient_slug, status="open"),
            reverse("letters:recipient_detail", args=[recipient_slug]),
            reverse("letters:recipient_feed", args=[recipient_slug]),
        ]
    for letter in letters.values():
        urls += [
            letter.get_absolute_url(),
            reverse("signatories:letter_csv", args=[letter.slug]),
            reverse("signatories:letter_count", args=[letter.slug]),
            reverse("letters:share_image", args=[letter.slug]),
            reverse("letters:letter_feed", args=[letter.slug]),
            reverse("letters:embed", args=[letter.slug]),
            reverse("letters:oembed") + "?url=" + absolute_url(letter.get_absolute_url()),
            reverse("signatories:sign", args=[letter.slug]),
            _with_query(reverse("signatories:sign", args=[letter.slug]), **{"as": "individual"}),
            _with_query(reverse("signatories:sign", args=[letter.slug]), **{"as": "organisation"}),
            reverse("signatories:sign_sent", args=[letter.slug]),
            reverse("signatories:delivered", args=[letter.slug]),
            reverse("signatories:delivered_file", args=[letter.slug]),
        ]
        urls += [
            reverse(view, args=[letter.slug, "not-a-real-token"])
            for view in ("signatories:confirm", "signatories:withdraw", "signatories:unfollow")
        ]
    urls += _filtered_urls(letters["open"], pairs=True)
    urls += _filtered_urls(letters["moderated"], pairs=False)
    urls += _search_urls(letters["open"], [*HIDDEN_TERMS, *SHOWN_TERMS])
    urls += _search_urls(letters["moderated"], MODERATED_HIDDEN_TERMS)
    for term in ("Quasimodo", "Throckmorton", "Fairweather"):
        urls += [
            _with_query(letters["open"].get_absolute_url(), q=term, page="2"),
            _with_query(letters["open"].get_absolute_url(), q=term, kind=SignatoryKind.INDIVIDUAL),
        ]
    codes = {signer.country for signer in SIGNERS if signer.country} | {"US"}
    country_list = reverse("signatories:country_list")
    urls.append(_with_query(country_list, page="2"))
    for code in sorted(codes):
        country = reverse("signatories:country_detail", args=[code])
        urls += [
            country,
            _with_query(country, page="2"),
            reverse("signatories:country_detail", args=[code.lower()]),
        ]
    urls.append(reverse("signatories:country_detail", args=["XX"]))
    urls += _api_urls(letters)
    urls += [signatory.get_absolute_url() for signatory in Signatory.objects.order_by("pk")]
    for signer in SIGNERS:
        guesses = {slugify(signer.name), slugify(signer.name.split(" ")[-1])}
        guesses |= {f"{slugify(signer.name)}-{n}" for n in range(2, 4)}
        urls += [reverse("signatories:detail", args=[slug]) for slug in sorted(guesses)]
        urls.append(reverse("letters:detail", args=[slugify(signer.name)]))
        urls.append(reverse("letters:recipient_detail", args=[slugify(signer.name)]))
    # The same pages in the other languages: each letter through the switcher (its
    # redirect followed), every country and signatory page under /fr/.
    for letter in letters.values():
        for code in ("fr", "de", "es"):
            switcher = reverse("choose_language", args=[code])
            urls.append(_with_query(switcher, next=letter.get_absolute_url()))
    urls += [f"/fr{url}" for url in urls if url.startswith(("/countries/", "/signatories/"))]
    return list(dict.fromkeys(urls))


def _api_urls(letters: dict[str, Letter]) -> list[str]:
    """The JSON API (issue 12): its lists, each letter and its signatures with every
    filter value and every search, each recipient, and guesses at hidden names."""
    urls = [reverse(f"api:{name}") for name in ("index", "letters", "recipients", "countries")]
    urls += [reverse("api:schema"), reverse("api:docs")]
    for letter in letters.values():
        signatures = reverse("api:letter-signatures", args=[letter.slug])
        urls += [reverse("api:letter-detail", args=[letter.slug]), signatures]
        urls += [
            _with_query(signatures, **{name: value})
            for name, values in FILTER_VALUES.items()
            for value in values[1:]
        ]
    for letter, terms in [
        (letters["open"], [*HIDDEN_TERMS, *SHOWN_TERMS]),
        (letters["moderated"], MODERATED_HIDDEN_TERMS),
    ]:
        signatures = reverse("api:letter-signatures", args=[letter.slug])
        urls += [_with_query(signatures, q=term, page_size="1") for term in terms]
    for recipient_slug in letters["open"].addressees.values_list("recipient__slug", flat=True):
        urls.append(reverse("api:recipient-detail", args=[recipient_slug]))
    for signer in SIGNERS:
        urls.append(reverse("api:letter-detail", args=[slugify(signer.name)]))
        urls.append(reverse("api:recipient-detail", args=[slugify(signer.name)]))
    return urls


def _view_name(path: str) -> str:
    """The view a path names, in the language of its prefix (/fr/… resolves in French)."""
    with translation.override(translation.get_language_from_path(path) or settings.LANGUAGE_CODE):
        return resolve(path).view_name


def _without_echoed_search(url: str, text: str) -> str:
    """A search page repeats what was searched for, in its search box and in its links
    (CSV, pages): that is the visitor's own words, not a leak. Take it out."""
    [term] = parse_qs(urlsplit(url).query).get("q", [""])
    if not term:
        return text
    text = text.replace(f'value="{html.escape(term)}"', 'value=""')
    # The language switcher's links carry the page's address, search included.
    text = re.sub(r'<nav class="languages".*?</nav>', "", text, flags=re.S)
    for encoded in {urlencode({"q": term}), urlencode({"q": term}).replace("+", "%20")}:
        text = text.replace(encoded, "q=").replace(html.escape(encoded), "q=")
    return text


def _scan(client: Client, letters: dict[str, Letter], site: Site) -> None:
    open_letter = letters["open"]
    kept = {
        "open": open_letter.get_absolute_url(),
        "moderated": letters["moderated"].get_absolute_url(),
        "home": reverse("letters:home"),
        "recipient": open_letter.addressees.get().recipient.get_absolute_url(),
        "countries": reverse("signatories:country_list"),
    }
    searches = {term: _search_urls(open_letter, [term]) for term in [*HIDDEN_TERMS, *SHOWN_TERMS]}
    wanted = {*kept.values(), *(page_url for page_url, _ in searches.values())}
    responses = {}
    for url in _public_urls(letters):
        response = client.get(url, follow=True)
        site.statuses[url] = response.status_code
        site.pages[url] = _without_echoed_search(url, _text(response))
        if url in wanted:
            responses[url] = Fetched(response.status_code, response.content)
        # A page in another language leaves it active in this thread: back to the default.
        translation.activate(settings.LANGUAGE_CODE)
    site.responses = {name: responses[url] for name, url in kept.items()}
    for name in ("open", "moderated"):
        site.csv_rows[name] = _csv_rows(
            site.pages[reverse("signatories:letter_csv", args=[letters[name].slug])]
        )
    for term, (page_url, csv_url) in searches.items():
        site.searched[term] = (responses[page_url], _csv_rows(site.pages[csv_url]))


def _collect_emails(site: Site) -> None:
    emails_of = dict(Signature.objects.values_list("pk", "email"))
    for message in mail.outbox:
        withdraw_for = [
            emails_of.get(read_token(url.rstrip("/").rpartition("/")[2], Purpose.WITHDRAW))
            for url in _links(message.body, "withdraw")
        ]
        site.emails.append(
            Email(
                to=message.to,
                subject=message.subject,
                body=message.body,
                headers=dict(message.extra_headers),
                withdraw_for=withdraw_for,
            )
        )


def _seed_and_scan(django_db_blocker) -> Site:
    snapshot = Site()

    def record_failure(sender, task_result, **kwargs):
        if task_result.status != TaskResultStatus.SUCCESSFUL:
            snapshot.failed_tasks.append(f"{task_result.task.name}{task_result.args}")

    task_finished.connect(record_failure)
    with (
        django_db_blocker.unblock(),
        # API_RATE: the scan makes hundreds of API requests from one address in a minute.
        override_settings(
            TASKS=IMMEDIATE_TASKS, SIGNATURES_PER_PAGE=PER_PAGE, API_RATE="100000/min"
        ),
    ):
        cache.clear()
        mail.outbox = []
        try:
            with transaction.atomic():
                letters = _seed(Client(), snapshot)
                _scan(Client(), letters, snapshot)
                _collect_emails(snapshot)
                transaction.set_rollback(True)
        finally:
            task_finished.disconnect(record_failure)
            cache.clear()
            mail.outbox = []
    return snapshot


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory) -> Site:
    """Seeded and scanned once per run. Under pytest-xdist (``make test``) the tests of
    this module are shared out among the workers, each with its own database: the first
    worker to need the snapshot makes it and leaves it, pickled, in the run's temporary
    directory; a worker that needs it meanwhile waits for it rather than make it again.
    Nothing of the seeded rows outlives the snapshot (they are rolled back), so which
    worker's database it was made in makes no difference to the pages it holds."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _seed_and_scan(django_db_blocker)
    # The directory of this run, shared by its workers (each has its own below it).
    made = tmp_path_factory.getbasetemp().parent / "signing-privacy-site.pickle"
    with open(made.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if made.exists():
            return pickle.loads(made.read_bytes())  # written by this run's first worker
        snapshot = _seed_and_scan(django_db_blocker)
        made.write_bytes(pickle.dumps(snapshot))
    return snapshot


@functools.cache
def _haystack(text: str) -> str:
    """A page as searched for secrets: as written, with HTML entities and URL escapes
    undone, in one case; random tokens (CSRF, signed links) blanked so that they can't
    spell a short name by chance."""
    text = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1", text)
    text = re.sub(r"/(confirm|withdraw|news/stop)/[^/\s]+/", r"/\1/token/", text)
    unescaped = html.unescape(text)
    return f"{unescaped}\n{unquote_plus(unescaped)}".casefold()


def _pages_containing(pages: dict[str, str], secret: str) -> list[str]:
    secret = secret.casefold()
    return sorted(url for url, text in pages.items() if secret in _haystack(text))


def _leaks(pages: dict[str, str], secrets: list[str]) -> dict[str, list[str]]:
    """Each secret found, with the first few pages it was found on."""
    found = {secret: _pages_containing(pages, secret) for secret in dict.fromkeys(secrets)}
    return {secret: urls[:5] for secret, urls in found.items() if urls}


# The scan reaches every public page, and sees what it should


@pytest.mark.slow
def test_scan_covers_every_public_url_pattern(site):
    def names(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    yield from names(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    scanned = {_view_name(urlsplit(url).path) for url in site.pages}
    scanned |= {
        _view_name(_path(url))
        for email in site.emails
        for url in re.findall(rf"{re.escape(settings.SITE_URL)}/\S+", email.body)
    }

    assert set(names(get_resolver().url_patterns)) - scanned == set()


@pytest.mark.slow
def test_scan_fetches_every_page_with_an_expected_status(site):
    unexpected = {
        url: code for url, code in site.statuses.items() if code not in (200, 400, 403, 404)
    }

    assert unexpected == {}
    assert len(site.pages) > 400
    assert sum(code == 200 for code in site.statuses.values()) > 300


@pytest.mark.slow
def test_each_signers_private_details_were_recorded_for_the_scan_to_look_for(site):
    for signer in SIGNERS:
        recorded = site.recorded[signer.key]
        assert recorded["email"] == signer.email, signer.key
        assert recorded["ip_address"] == signer.ip, signer.key
        assert recorded["consent_text"], signer.key
    assert {site.recorded[s.key]["status"] for s in SIGNERS if s.fate == PENDING} == {"pending"}
    held_for = " ".join(site.recorded[key]["moderation_reason"] for key in BY_KEY)
    assert all(reason in held_for for reason in MODERATION_REASONS)
    assert site.failed_tasks == []


@pytest.mark.slow
def test_only_signers_shown_by_full_name_have_a_public_page(site):
    assert {key for key, url in site.profiles.items() if site.statuses[url] == 200} == {
        "full",
        "organisation",
        "renamed",
    }
    assert {site.statuses[url] for url in site.profiles.values()} == {200, 404}


@pytest.mark.slow
def test_delivered_list_shows_signers_staff_took_off_it_by_their_hash_alone(site):
    [text] = [
        body
        for url, body in site.pages.items()
        if url.endswith("/delivered.txt") and site.statuses[url] == 200
    ]
    taken_off = [s for s in SIGNERS if s.letter == "open" and s.fate in (REJECTED, HIDDEN)]

    assert len(re.findall(r"^[0-9a-f]{64}$", text, re.MULTILINE)) == len(taken_off) > 0


@pytest.mark.slow
def test_scan_sees_each_shown_signer_as_they_chose(site):
    letter_pages = {
        url: text
        for url, text in site.pages.items()
        if _view_name(urlsplit(url).path) in ("letters:detail", "signatories:letter_csv")
    }
    for signer in SIGNERS:
        if signer.shown:
            shown_as = signer.public_name or f"Anonymous {signer.category.label.lower()}"
            assert _pages_containing(letter_pages, shown_as), signer.key
            assert _pages_containing(letter_pages, signer.statement), signer.key


@pytest.mark.slow
def test_csv_lists_each_shown_signer_with_the_public_name_they_chose(site):
    rows = {row["statement"]: row for row in site.csv_rows["open"]}

    assert {
        statement: (row["name"], row["role"], row["affiliation"], row["website"])
        for statement, row in rows.items()
    } == {
        BY_KEY["full"].statement: (
            "Bartholomew Xylander-Quince",
            "Harbour Pilot",
            "Estuary Rowing Trust",
            "",
        ),
        BY_KEY["first"].statement: ("Zephyrine", "", "", ""),
        BY_KEY["initials"].statement: ("W. T.", "", "", ""),
        BY_KEY["anonymous"].statement: ("", "", "", ""),
        BY_KEY["organisation"].statement: (
            "Quillfeather Survivors Network",
            "",
            "",
            "https://quillfeather.example.org/",
        ),
        BY_KEY["first-no-country"].statement: ("Ottavio", "", "", ""),
        BY_KEY["renamed"].statement: ("Perpetua G.", "", "", ""),
    }


# Nothing private reaches a public page, CSV or 404


@pytest.mark.slow
def test_no_email_address_or_its_local_part_appears_on_any_public_page(site):
    secrets = []
    for signer in SIGNERS:
        local = signer.email.rpartition("@")[0]
        normalised = normalise_email(signer.email)
        secrets += [signer.email, local, normalised, normalised.rpartition("@")[0]]

    assert _leaks(site.pages, secrets) == {}


@pytest.mark.slow
def test_no_ip_address_appears_on_any_public_page(site):
    assert _leaks(site.pages, [signer.ip for signer in SIGNERS]) == {}


@pytest.mark.slow
def test_first_name_signers_surnames_appear_on_no_public_page(site):
    first_name_signers = [s for s in SIGNERS if s.shown and s.display == Display.FIRST_NAME]
    surnames = [part for s in first_name_signers for part in s.hidden_name_parts]

    assert len(first_name_signers) == 2
    assert "Quasimodo" in surnames and "Ottoline" in surnames
    assert _leaks(site.pages, surnames) == {}
    for signer in first_name_signers:
        assert _pages_containing(site.pages, signer.public_name), signer.key


@pytest.mark.slow
def test_initials_and_anonymous_signers_names_appear_on_no_public_page(site):
    hidden = [s for s in SIGNERS if s.shown and s.display in (Display.INITIALS, Display.ANONYMOUS)]
    parts = [part for s in hidden for part in s.hidden_name_parts]

    assert {"Wilhelmina", "Throckmorton", "Xanthe", "X. Y.", "Margarethe"} <= set(parts)
    assert _leaks(site.pages, parts) == {}


@pytest.mark.slow
def test_roles_affiliations_and_websites_of_signers_not_named_in_full_appear_nowhere(site):
    hidden = [value for signer in SIGNERS for value in signer.hidden_identity]

    assert "Lighthouse Keeper Vantablack" in hidden
    assert _leaks(site.pages, hidden) == {}
    assert _pages_containing(site.pages, "Estuary Rowing Trust")


@pytest.mark.slow
def test_private_notes_and_reasons_appear_on_no_public_page(site):
    notes = [
        note
        for signer in SIGNERS
        for note in (f"Signature note NX-{signer.key}", f"Signatory note NS-{signer.key}")
    ]

    assert _leaks(site.pages, [*notes, STAFF_NOTE, REJECTION_REASON, *MODERATION_REASONS]) == {}


@pytest.mark.slow
def test_unpublished_signers_names_and_statements_appear_on_no_public_page(site):
    unpublished = [s for s in SIGNERS if not s.shown]
    secrets = [value for s in unpublished for value in [*s.name_words, s.statement]]

    assert {s.fate for s in unpublished} == {
        UNCONFIRMED,
        WITHDRAWN,
        WITHDRAWN_UNCONFIRMED,
        PENDING,
        HIDDEN,
        HIDDEN_FIRST,
        REJECTED,
    }
    assert _leaks(site.pages, secrets) == {}


@pytest.mark.slow
def test_a_name_shortened_on_signing_again_leaves_no_trace_of_the_longer_one(site):
    renamed = BY_KEY["renamed"]
    old_parts = ["Gallowglass", "Reyes", "Gallowglass-Reyes", renamed.old_name]

    assert _pages_containing(site.pages, "Perpetua G.")
    assert _leaks(site.pages, old_parts) == {}


# Searching a hidden name finds nothing


@pytest.mark.parametrize("term", HIDDEN_TERMS)
@pytest.mark.slow
def test_searching_a_hidden_name_or_detail_finds_no_rows(site, term):
    page, rows = site.searched[term]

    assert showing_count(page) == 0
    assert table_rows(page) == []
    assert rows == []


@pytest.mark.parametrize(("term", "shown_as"), SHOWN_TERMS.items())
@pytest.mark.slow
def test_searching_a_shown_name_finds_its_row(site, term, shown_as):
    page, rows = site.searched[term]

    assert showing_count(page) == 1
    assert [row["name"] for row in rows] == [shown_as]


# Only confirmed, published signatures count


@pytest.mark.slow
def test_unpublished_signatures_are_not_counted_on_the_letter_page_or_csv(site):
    shown = [s for s in SIGNERS if s.shown and s.letter == "open"]
    letter = site.responses["open"]

    assert len(shown) == 7
    assert stat(letter, "Signatories listed here") == 7
    assert stat(letter, "Organisations") == 1
    assert stat(letter, "Individuals") == 6
    assert stat(letter, "Countries") == len({s.country for s in shown if s.country}) == 5
    assert showing_count(letter) == 7
    assert len(site.csv_rows["open"]) == 7
    assert stat(site.responses["moderated"], "Signatories listed here") == 1
    assert len(site.csv_rows["moderated"]) == 1


@pytest.mark.slow
def test_unpublished_signatures_are_not_counted_on_lists_recipients_or_countries(site):
    assert sorted(card_counts(site.responses["home"])) == [(0, 0), (0, 0), (1, 1), (7, 5)]
    assert sorted(recorded_counts(site.responses["recipient"])) == [0, 0, 1, 7]
    assert sorted(table_rows(site.responses["countries"], "listing")) == [
        ["France", "1", "1"],
        ["Germany", "1", "1"],
        ["Ireland", "1", "1"],
        ["New Zealand", "1", "1"],
        ["Norway", "1", "1"],
        ["United Kingdom", "2", "1"],
    ]


# Pages reached by a signer's links, and the emails themselves


@pytest.mark.slow
def test_link_pages_show_no_other_signers_details(site):
    assert set(site.link_pages) >= {"first", "withdrawn", "initials", "anonymous"}
    for key, pages in site.link_pages.items():
        others = [s for s in SIGNERS if s.key != key]
        secrets = [
            value
            for s in others
            for value in [*s.name_words, s.statement, *s.private_values[:2], s.ip]
        ]
        own = BY_KEY[key].private_values
        assert _leaks(dict(pages), [*secrets, *own, *MODERATION_REASONS]) == {}, key


@pytest.mark.slow
def test_confirm_page_shows_the_signer_their_name_as_the_public_will_see_it(site):
    [(_, before)] = [p for p in site.link_pages["initials"] if p[0] == "confirm, before"]

    assert "W. T." in before
    assert "Wilhelmina" not in before
    assert "Throckmorton" not in before


@pytest.mark.slow
def test_check_your_email_page_does_not_echo_the_address(site):
    assert set(site.sent_pages) == set(BY_KEY)
    for key, text in site.sent_pages.items():
        assert "Check your email" in text, key
        assert _leaks({key: text}, BY_KEY[key].private_values) == {}, key


def _emails_to(site: Site, signer: Signer, subject_start: str) -> list[Email]:
    return [
        e for e in site.emails if e.to == [signer.email] and e.subject.startswith(subject_start)
    ]


@pytest.mark.slow
def test_confirm_email_for_an_initials_signer_shows_the_initials(site):
    [email] = _emails_to(site, BY_KEY["initials"], "Confirm your signature")

    assert "Your name would appear as: W. T.\n" in email.body
    assert "Throckmorton" not in email.body


@pytest.mark.slow
def test_confirm_email_for_an_anonymous_signer_shows_no_name(site):
    [email] = _emails_to(site, BY_KEY["anonymous"], "Confirm your signature")

    assert "Your name would appear as: Anonymous (no name)\n" in email.body
    assert "Xanthe" not in email.body
    assert "Yarborough" not in email.body


@pytest.mark.slow
def test_every_email_carries_a_withdraw_link_for_its_own_signature(site):
    subjects = {e.subject.split(":")[0] for e in site.emails}

    assert {"Confirm your signature", "You have already signed"} <= subjects
    assert any(e.subject.startswith("Chatterbox Platforms: replied") for e in site.emails)
    for email in site.emails:
        assert email.withdraw_for == email.to, email.subject


@pytest.mark.slow
def test_signing_again_after_confirming_emails_a_reminder_not_a_new_link(site):
    full = BY_KEY["full"]

    assert len(_emails_to(site, full, "Confirm your signature")) == 1
    [reminder] = _emails_to(site, full, "You have already signed")
    assert _links(reminder.body, "confirm") == []


@pytest.mark.slow
def test_no_email_carries_another_signers_details(site):
    for email in site.emails:
        [to] = email.to
        others = [s for s in SIGNERS if s.email != to]
        secrets = [
            value for s in others for value in [*s.name_words, s.statement, *s.private_values]
        ]
        assert _leaks({to: f"{email.subject}\n{email.body}"}, secrets) == {}, email.subject


@pytest.mark.slow
def test_follow_up_emails_reach_only_confirmed_signers_who_asked(site):
    answered = {e.to[0] for e in site.emails if e.subject.startswith("Chatterbox Platforms")}

    assert answered == {
        s.email
        for s in SIGNERS
        if s.letter == "open" and s.follow_up and s.fate in (PUBLISHED, PENDING)
    }


# A way out always works: the withdraw link in every email


@pytest.mark.parametrize(
    "change",
    [
        {"slug": "grooming-in-chat-apps"},
        {"status": Letter.Status.CLOSED, "closed_on": datetime.date(2024, 1, 1)},
        {"status": Letter.Status.DRAFT},
    ],
    ids=["slug changed", "closed", "back to draft"],
)
def test_withdraw_link_from_the_confirm_email_works_whatever_became_of_the_letter(client, change):
    letter = make_letter(accepts_public_signatures=True)
    signer = BY_KEY["first"]
    _sign(client, letter, signer)
    body = _last_email_to(signer.email)
    client.post(_path(_links(body, "confirm")[0]))
    Letter.objects.filter(pk=letter.pk).update(**change)

    response = client.post(_path(_links(body, "withdraw")[0]))

    assert response.status_code == 200
    assert "Your signature is withdrawn" in response.content.decode()
    assert Signature.objects.get(email=signer.email).status == SignatureStatus.WITHDRAWN

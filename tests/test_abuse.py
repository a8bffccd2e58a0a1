"""The public sign form's defences against scripted signatures: the honeypot, the form
stamp, per-IP limits and per-address email limits. Each test here fails if its defence is
taken away, and checks that a scripted sender sees nothing that tells it apart from a
person."""

import io
import re
import time
from secrets import token_hex

import django_ratelimit.core
import pytest
from django.conf import settings
from django.core import mail, signing
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from signatories import signing as signing_service
from signatories.abuse import (
    form_stamp,
    ip_limit_reason,
    over_email_limit,
    seconds_since_stamp,
)
from signatories.emails import normalise_email
from signatories.forms import SignForm
from signatories.models import (
    Signatory,
    Signature,
    UsedFormStamp,
    Verification,
    identity_values,
    list_sort_key,
)
from signatories.slugs import unique_slugs
from signatories.tasks import send_signature_email
from tests.factories import make_letter
from tests.helpers import csv_names, sign, sign_data

pytestmark = pytest.mark.django_db

HELD_FOR_SPEED = "form sent faster than a person fills it in"
HELD_FOR_IP = "many signatures from one network"
STAMP_REFUSED = "This form was open for more than a day, or it was changed on the way."
CONFIRM_LINK = re.compile(re.escape(settings.SITE_URL) + r"(/letters/[^/\s]+/confirm/[^/\s]+/)")
RECORDED = re.compile(r"<dt>Signatories listed here</dt><dd>([\d,]+)</dd>")
DAY = 24 * 60 * 60


class RateLimitClock:
    """Stands in for the ``time`` module inside django-ratelimit, whose windows end at a
    jittered second of each hour and day: a window can't roll over in the middle of a
    test, and a test can move on by an hour."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def rate_clock(monkeypatch) -> RateLimitClock:
    clock = RateLimitClock(time.time())
    monkeypatch.setattr(django_ratelimit.core, "time", clock)
    return clock


@pytest.fixture
def open_letter(db):
    return make_letter(accepts_public_signatures=True)


def old_stamp(seconds: float = 60) -> str:
    """The stamp of a form shown ``seconds`` ago."""
    return form_stamp(now=time.time() - seconds)


def confirm_paths() -> list[str]:
    """The confirm link of every email sent so far, as paths for the test client."""
    return [path for message in mail.outbox for path in CONFIRM_LINK.findall(message.body)]


def confirm(client, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 200


def sign_and_confirm(client, letter, email: str, **kwargs) -> Signature:
    sent_before = len(mail.outbox)
    response = sign(client, letter, email=email, **kwargs)
    assert response.status_code == 302
    (path,) = confirm_paths()[sent_before:]
    confirm(client, path)
    return Signature.objects.get(letter=letter, email=email)


def assert_check_your_email(response, letter) -> None:
    assert response.status_code == 302
    assert response["Location"] == reverse("signatories:sign_sent", args=[letter.slug])


def recorded_count(client, letter) -> int:
    """The count of signatories the letter page shows."""
    html = client.get(letter.get_absolute_url()).content.decode()
    return int(RECORDED.search(html).group(1).replace(",", ""))


def stamp_in(response) -> str:
    """The stamp the re-rendered form carries."""
    html = response.content.decode()
    (tag,) = re.findall(r'<input[^>]*name="stamp"[^>]*>', html)
    return re.search(r'value="([^"]*)"', tag).group(1)


# Honeypot


def test_filled_honeypot_writes_nothing_and_sends_no_email(client, open_letter):
    response = sign(client, open_letter, email="bot@example.org", homepage="https://spam.example")

    assert_check_your_email(response, open_letter)
    assert not Signature.objects.exists()
    assert not Signatory.objects.exists()
    assert mail.outbox == []


def test_same_form_with_empty_honeypot_is_signed(client, open_letter):
    response = sign(client, open_letter, email="ada@example.org", homepage="")

    assert_check_your_email(response, open_letter)
    assert Signature.objects.filter(letter=open_letter, email="ada@example.org").count() == 1
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]


# Form stamp: minimum fill time


def test_form_sent_back_at_once_is_held_for_a_moderator_after_confirming(client, open_letter):
    signature = sign_and_confirm(client, open_letter, "ada@example.org", stamp=form_stamp())

    signature.refresh_from_db()
    assert signature.confirmed_at is not None
    assert signature.status == Signature.Status.PENDING
    assert HELD_FOR_SPEED in signature.moderation_reason
    assert "Ada Lovelace" not in client.get(open_letter.get_absolute_url()).content.decode()
    assert recorded_count(client, open_letter) == 0


def test_form_sent_back_at_once_gets_the_usual_response(client, open_letter):
    response = sign(client, open_letter, email="ada@example.org", stamp=form_stamp())

    assert_check_your_email(response, open_letter)
    assert len(confirm_paths()) == 1


def test_form_filled_in_over_a_minute_is_published_after_confirming(client, open_letter):
    signature = sign_and_confirm(client, open_letter, "ada@example.org", stamp=old_stamp(60))

    assert signature.status == Signature.Status.PUBLISHED
    assert signature.moderation_reason == ""
    assert "Ada Lovelace" in client.get(open_letter.get_absolute_url()).content.decode()
    assert recorded_count(client, open_letter) == 1


# Form stamp: missing, altered or stale


def _altered_to_look_older() -> str:
    """A fresh stamp whose time was swapped for an older one, keeping its signature."""
    fresh, older = form_stamp(), old_stamp(600)
    return older.split(":", 1)[0] + ":" + fresh.split(":", 1)[1]


def _shown_two_days_ago() -> str:
    """The stamp of a form really shown, and stamped, two days ago."""
    two_days_ago = time.time() - 2 * DAY
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: two_days_ago)
        return form_stamp()


BAD_STAMPS = {
    "missing": lambda: None,
    "empty": lambda: "",
    "garbage": lambda: "not-a-stamp",
    "altered": _altered_to_look_older,
    "signed for something else": lambda: signing.dumps(int(time.time()) - 60),
    "not a time": lambda: signing.dumps("soon", salt="signatories.sign-form-stamp"),
    "a bare time, without a nonce": lambda: signing.dumps(
        int(time.time()) - 60, salt="signatories.sign-form-stamp"
    ),
    "a nonce that is not text": lambda: signing.dumps(
        [int(time.time()) - 60, 7], salt="signatories.sign-form-stamp"
    ),
    "shown two days ago": _shown_two_days_ago,
    "recording a time two days ago": lambda: form_stamp(now=time.time() - 2 * DAY),
}


@pytest.mark.parametrize("make_stamp", BAD_STAMPS.values(), ids=BAD_STAMPS.keys())
def test_bad_stamp_shows_the_form_again_and_writes_nothing(client, open_letter, make_stamp):
    response = sign(client, open_letter, email="ada@example.org", stamp=make_stamp())

    assert response.status_code == 200
    assert STAMP_REFUSED in response.content.decode()
    assert not Signature.objects.exists()
    assert not Signatory.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("make_stamp", BAD_STAMPS.values(), ids=BAD_STAMPS.keys())
def test_form_shown_again_carries_a_fresh_stamp_and_the_details(client, open_letter, make_stamp):
    sent = make_stamp()
    response = sign(client, open_letter, email="ada@example.org", stamp=sent)

    assert response.status_code == 200
    new = stamp_in(response)
    assert new != sent
    age = seconds_since_stamp(new)
    assert age is not None and 0 <= age < 60
    assert 'value="Ada Lovelace"' in response.content.decode()
    assert 'value="ada@example.org"' in response.content.decode()


def test_form_shown_again_is_accepted_when_sent_back(client, open_letter):
    refused = sign(client, open_letter, email="ada@example.org", stamp="not-a-stamp")

    response = sign(client, open_letter, email="ada@example.org", stamp=stamp_in(refused))

    assert_check_your_email(response, open_letter)
    assert Signature.objects.filter(email="ada@example.org").count() == 1


# Form stamp: one signer each


HELD_FOR_REUSE = "form sent again for another address"


def test_stamp_sent_again_for_another_address_is_held_after_confirming(client, open_letter):
    stamp = old_stamp()
    first = sign(client, open_letter, email="ada@example.org", stamp=stamp, ip="203.0.113.1")
    second = sign(client, open_letter, email="grace@example.org", stamp=stamp, ip="203.0.113.2")
    for path in confirm_paths():
        confirm(client, path)

    assert_check_your_email(first, open_letter)
    assert_check_your_email(second, open_letter)
    ada = Signature.objects.get(email="ada@example.org")
    grace = Signature.objects.get(email="grace@example.org")
    assert (ada.status, ada.moderation_reason) == (Signature.Status.PUBLISHED, "")
    assert grace.status == Signature.Status.PENDING
    assert HELD_FOR_REUSE in grace.moderation_reason
    assert recorded_count(client, open_letter) == 1


def test_stamp_reused_for_eight_addresses_publishes_only_the_first(client, open_letter):
    """The probe from the issue: one stamp, eight addresses, eight networks (so no per-IP
    limit applies), every one confirmed."""
    stamp = old_stamp()
    for n in range(8):
        response = sign(
            client, open_letter, email=f"bot{n}@example.org", stamp=stamp, ip=f"198.51.100.{n + 1}"
        )
        assert_check_your_email(response, open_letter)
    for path in confirm_paths():
        confirm(client, path)

    signatures = Signature.objects.filter(letter=open_letter)
    assert signatures.filter(confirmed_at__isnull=False).count() == 8
    assert list(
        signatures.filter(status=Signature.Status.PUBLISHED).values_list("email", flat=True)
    ) == ["bot0@example.org"]
    assert signatures.filter(status=Signature.Status.PENDING).count() == 7
    assert recorded_count(client, open_letter) == 1


def test_same_form_sent_twice_for_the_same_address_is_not_held(client, open_letter):
    """A double click, or the back button and "send" again: the same signer."""
    stamp = old_stamp()
    sign(client, open_letter, email="ada@example.org", stamp=stamp)
    sign(client, open_letter, email=" ADA@example.org ", stamp=stamp)
    # Two submissions, two links to one inbox: the signer follows one of them.
    confirm(client, confirm_paths()[-1])

    signature = Signature.objects.get(letter=open_letter)
    assert (signature.status, signature.moderation_reason) == (Signature.Status.PUBLISHED, "")


def test_reused_stamp_is_held_when_the_cache_remembers_nothing(client, open_letter, settings):
    """Used stamps are recorded in the database: a cache that is down, emptied or
    restarted (here one that keeps nothing) lets no reused stamp through."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    stamp = old_stamp()
    sign(client, open_letter, email="ada@example.org", stamp=stamp, ip="203.0.113.1")
    response = sign(client, open_letter, email="grace@example.org", stamp=stamp, ip="203.0.113.2")

    assert_check_your_email(response, open_letter)
    grace = Signature.objects.get(email="grace@example.org")
    assert HELD_FOR_REUSE in grace.moderation_reason


def test_stamp_of_a_form_refused_for_an_error_is_not_used_up(client, open_letter):
    stamp = old_stamp()
    refused = sign(client, open_letter, email="ada@example.org", stamp=stamp, consent=None)
    assert refused.status_code == 200

    sign(client, open_letter, email="grace@example.org", stamp=stamp_in(refused))
    for path in confirm_paths():
        confirm(client, path)

    grace = Signature.objects.get(email="grace@example.org")
    assert (grace.status, grace.moderation_reason) == (Signature.Status.PUBLISHED, "")


def test_anonymise_closed_deletes_the_record_of_expired_stamps(client, open_letter, settings):
    sign(client, open_letter, email="ada@example.org", stamp=old_stamp(3 * 3600))
    sign(client, open_letter, email="grace@example.org", stamp=old_stamp(60))
    assert UsedFormStamp.objects.count() == 2
    settings.SIGN_FORM_MAX_AGE = 3600  # the first form's stamp is now past its age
    out = io.StringIO()

    call_command("anonymise_closed", stdout=out)

    assert UsedFormStamp.objects.count() == 1
    assert "the record of 1 expired sign-form stamp(s)" in out.getvalue()


# Per-IP limits


def test_sixth_signature_in_an_hour_from_one_ip_is_held(client, open_letter):
    signatures = [
        sign_and_confirm(client, open_letter, f"signer{n}@example.org", name=f"Signer {n}")
        for n in range(6)
    ]

    statuses = [signature.status for signature in signatures]
    assert statuses == [Signature.Status.PUBLISHED] * 5 + [Signature.Status.PENDING]
    assert [s.moderation_reason for s in signatures[:5]] == [""] * 5
    assert HELD_FOR_IP in signatures[5].moderation_reason
    assert recorded_count(client, open_letter) == 5


def test_held_signature_is_not_released_by_signing_again_from_another_ip(client, open_letter):
    for n in range(5):
        sign(client, open_letter, email=f"first{n}@example.org", name=f"First {n}")
    sign(client, open_letter, email="held@example.org", name="Held Signer")
    sign(client, open_letter, email="held@example.org", name="Held Signer", ip="198.51.100.99")

    for path in confirm_paths()[-1:]:
        confirm(client, path)

    held = Signature.objects.get(letter=open_letter, email="held@example.org")
    assert held.status == Signature.Status.PENDING
    assert HELD_FOR_IP in held.moderation_reason


def test_signature_from_another_ip_is_published_when_one_ip_is_over(client, open_letter):
    for n in range(6):
        sign_and_confirm(client, open_letter, f"signer{n}@example.org", ip="203.0.113.7")

    other = sign_and_confirm(client, open_letter, "other@example.org", ip="198.51.100.2")

    assert other.status == Signature.Status.PUBLISHED
    assert other.moderation_reason == ""


def test_signature_over_the_ip_limit_gets_the_same_response(client, open_letter):
    responses = [sign(client, open_letter, email=f"signer{n}@example.org") for n in range(7)]

    seen = {(r.status_code, r["Location"], r.content) for r in responses}
    assert len(seen) == 1
    assert_check_your_email(responses[-1], open_letter)
    assert len(confirm_paths()) == 7
    held = Signature.objects.exclude(moderation_reason="").count()
    assert held == 2


def test_signature_records_the_client_ip(client, open_letter):
    sign(client, open_letter, email="ada@example.org", ip="203.0.113.7")

    assert Signature.objects.get(email="ada@example.org").ip_address == "203.0.113.7"


def test_ip_limit_holds_signatures_past_twenty_a_day(client, open_letter, rate_clock):
    ip = "203.0.113.7"
    # Start where this client's daily window begins (django-ratelimit ends its windows at
    # a per-client second; an hour's windows end at the same second): five hours ahead,
    # each a new hourly window within one day.
    rate_clock.now = django_ratelimit.core._get_window(ip, DAY) + 1
    statuses = []
    for hour in range(5):
        for n in range(5):
            email = f"hour{hour}-signer{n}@example.org"
            statuses.append(sign_and_confirm(client, open_letter, email, ip=ip).status)
        rate_clock.now += 60 * 60

    assert statuses == [Signature.Status.PUBLISHED] * 20 + [Signature.Status.PENDING] * 5


def test_ip_limit_follows_the_proxy_header_not_the_proxy(client, open_letter, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"

    through_one_proxy = [
        sign_and_confirm(
            client,
            open_letter,
            f"signer{n}@example.org",
            ip="10.0.0.1",
            extra={"HTTP_X_REAL_IP": f"203.0.113.{n + 1}"},
        )
        for n in range(6)
    ]

    assert [s.status for s in through_one_proxy] == [Signature.Status.PUBLISHED] * 6
    assert [s.ip_address for s in through_one_proxy] == [f"203.0.113.{n + 1}" for n in range(6)]


def test_ip_limit_holds_one_client_behind_several_proxies(client, open_letter, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"

    signatures = [
        sign_and_confirm(
            client,
            open_letter,
            f"signer{n}@example.org",
            ip=f"10.0.0.{n + 1}",
            extra={"HTTP_X_REAL_IP": "198.51.100.7"},
        )
        for n in range(6)
    ]

    statuses = [signature.status for signature in signatures]
    assert statuses == [Signature.Status.PUBLISHED] * 5 + [Signature.Status.PENDING]
    assert HELD_FOR_IP in signatures[5].moderation_reason
    assert {signature.ip_address for signature in signatures} == {"198.51.100.7"}


def test_ip_limit_reads_the_last_address_a_proxy_appended(client, open_letter, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"

    signatures = [
        sign_and_confirm(
            client,
            open_letter,
            f"signer{n}@example.org",
            ip="10.0.0.1",
            # The client writes what it likes in front; the proxy appends the real address.
            extra={"HTTP_X_FORWARDED_FOR": f"192.0.2.{n + 1}, 198.51.100.7"},
        )
        for n in range(6)
    ]

    assert signatures[5].status == Signature.Status.PENDING
    assert {signature.ip_address for signature in signatures} == {"198.51.100.7"}


def test_clients_without_a_readable_address_share_one_limit(client, open_letter, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"

    signatures = [
        sign_and_confirm(
            client,
            open_letter,
            f"signer{n}@example.org",
            ip=f"10.0.0.{n + 1}",
            extra={"HTTP_X_REAL_IP": "unknown"} if n % 2 else {},
        )
        for n in range(6)
    ]

    statuses = [signature.status for signature in signatures]
    assert statuses == [Signature.Status.PUBLISHED] * 5 + [Signature.Status.PENDING]
    assert {signature.ip_address for signature in signatures} == {None}


# Per-address email limit


def test_one_address_gets_at_most_three_emails_an_hour(client, open_letter, settings):
    settings.SIGN_EMAIL_RATE_LIMIT = "3/h"

    responses = [sign(client, open_letter, email="ada@example.org") for _ in range(5)]

    for response in responses:
        assert_check_your_email(response, open_letter)
    assert len(mail.outbox) == 3
    assert {tuple(message.to) for message in mail.outbox} == {("ada@example.org",)}
    # One submission per email sent; those that got none can never be confirmed.
    assert Signature.objects.filter(letter=open_letter).count() == 3


def test_email_limit_counts_one_mailbox_however_it_is_written(client, open_letter, settings):
    settings.SIGN_EMAIL_RATE_LIMIT = "3/h"
    spellings = ["ada.l@gmail.com", "Ada.L@Gmail.com", "adal@gmail.com", "ada.l+x@gmail.com"]

    for email in spellings:
        sign(client, open_letter, email=email)

    assert len(mail.outbox) == 3
    assert Signature.objects.filter(letter=open_letter).count() == 3


def test_email_limit_is_per_letter(client, open_letter, settings):
    settings.SIGN_EMAIL_RATE_LIMIT = "3/h"
    other_letter = make_letter(accepts_public_signatures=True)
    for _ in range(4):
        sign(client, open_letter, email="ada@example.org")

    sign(client, other_letter, email="ada@example.org")

    assert len(mail.outbox) == 4
    assert other_letter.title in mail.outbox[-1].subject


# The script from the issue

BOT_IP = "203.0.113.7"  # the address ``sign()`` posts from
POSTED_FIRST = range(0, 21)  # past the hourly limit (5) and the daily one (20)
STORED_IN_BULK = range(21, 995)
POSTED_LAST = range(995, 1000)  # counted after 995 others


def bot_form(n: int) -> dict:
    # A fresh stamp each time, as a script fetching the form would have: one stamp reused
    # is held by itself (test_stamp_reused_for_eight_addresses_…).
    return {"email": f"bot{n}@example.org", "name": f"Bot {n}", "stamp": old_stamp(60)}


def stored_as_the_views_store(letter, numbers: range) -> list[Signature]:
    """The bot forms ``numbers`` as the sign view and its email task store them, in bulk:
    the form cleaned by ``SignForm``, the rows ``sign_letter`` writes (with the derived
    fields ``save()`` fills in), each counted against the network's limits and the
    address's emails by the functions the email task calls, its reason to hold kept as
    the task keeps it. Not stored: the emails (their links are checked on the forms
    posted), and each form's used stamp, which no later form's fresh stamp can meet."""
    forms = [SignForm(sign_data(**bot_form(n)), kind="individual") for n in numbers]
    assert all(form.is_valid() for form in forms)
    details = [form.signer_details() for form in forms]
    slugs = unique_slugs(
        [detail.name for detail in details], among=Signatory.objects, suffix=token_hex(4)
    )
    signatories = []
    for detail, slug in zip(details, slugs, strict=True):
        signatory = Signatory(slug=slug, **signing_service._signatory_values(detail))
        signatory.name_key, signatory.website_domain = identity_values(
            name=signatory.name, kind=signatory.kind, website=signatory.website
        )
        signatories.append(signatory)
    Signatory.objects.bulk_create(signatories)
    signatures = []
    for detail, signatory in zip(details, signatories, strict=True):
        signature = Signature(
            letter=letter,
            signatory=signatory,
            email_normalised=normalise_email(detail.email),
            **signing_service._signature_values(
                detail, ip_address=BOT_IP, hold_reason="", language=settings.LANGUAGE_CODE
            ),
        )
        signature.list_rank, signature.sort_name = list_sort_key(
            kind=signatory.kind, display=signature.display, name=signatory.name
        )
        signature.moderation_reason = ip_limit_reason(BOT_IP)
        emailed = not over_email_limit(
            letter_id=letter.pk, email_normalised=signature.email_normalised
        )
        assert emailed and signature.moderation_reason == HELD_FOR_IP
        signatures.append(signature)
    return Signature.objects.bulk_create(signatures)


def confirmed_as_the_view_confirms(signatures: list[Signature]) -> None:
    """What ``confirm_signature`` does to each held submission of an address with no
    other: confirmed and verified by email, left pending for a moderator with its
    reason, its change history started."""
    now = timezone.now()
    Signature.objects.filter(pk__in=[signature.pk for signature in signatures]).update(
        confirmed_at=now,
        verified_at=now,
        verification=Verification.EMAIL_CONFIRMED,
        status=Signature.Status.PENDING,
    )
    confirmed = list(
        Signature.objects.filter(pk__in=[s.pk for s in signatures]).select_related("signatory")
    )
    reason = "Confirmed by email"
    Signature.history.bulk_history_create(confirmed, default_change_reason=reason)
    Signatory.history.bulk_history_create(
        [signature.signatory for signature in confirmed], default_change_reason=reason
    )


def as_stored(signature: Signature) -> tuple[dict, dict, list]:
    """A submission's rows less what tells one bot from another (names, addresses, ids,
    times): equal for any two bots' submissions handled alike."""
    own = {"id", "signatory_id", "email", "email_normalised", "sort_name"}
    own |= {"consented_at", "confirmed_at", "verified_at", "created_at", "updated_at"}
    values = Signature.objects.filter(pk=signature.pk).values()[0]
    signatory = Signatory.objects.filter(pk=signature.signatory_id).values()[0]
    history = [
        (row.history_type, row.history_change_reason, row.status, row.moderation_reason)
        for row in Signature.history.filter(id=signature.pk)
    ]
    history += [
        (row.history_type, row.history_change_reason, row.kind, row.category)
        for row in Signatory.history.filter(id=signature.signatory_id)
    ]
    return (
        {key: value for key, value in values.items() if key not in own},
        {
            key: value
            for key, value in signatory.items()
            if key not in {"id", "name", "slug", "name_key", "created_at", "updated_at"}
        },
        history,
    )


@pytest.mark.slow
def test_script_sending_a_thousand_signatures_from_one_address_counts_at_most_five(
    client, open_letter
):
    """A script sending 1,000 signatures from one address leaves at most 5 counted
    without a moderator, even when it confirms every one of them.

    The forms whose answers matter go through the sign view, and their emailed links
    through the confirm view: the first 21 (past both limits) and the last 5, which
    meet the counters and the rows of 995 submissions. The 974 between them are stored
    and confirmed in bulk as those views would (``stored_as_the_views_store``), counted
    by the same functions; one of them is compared field by field with one the views
    made."""
    assert settings.SIGN_RATE_LIMITS == ["5/h", "20/d"]

    responses = set()
    for n in POSTED_FIRST:
        response = sign(client, open_letter, ip=BOT_IP, **bot_form(n))
        responses.add((response.status_code, response["Location"]))
    in_bulk = stored_as_the_views_store(open_letter, STORED_IN_BULK)
    for n in POSTED_LAST:
        response = sign(client, open_letter, ip=BOT_IP, **bot_form(n))
        responses.add((response.status_code, response["Location"]))
    paths = confirm_paths()
    for path in paths:
        confirm(client, path)
    confirmed_as_the_view_confirms(in_bulk)

    assert responses == {(302, reverse("signatories:sign_sent", args=[open_letter.slug]))}
    assert len(paths) == len(POSTED_FIRST) + len(POSTED_LAST)
    signatures = Signature.objects.filter(letter=open_letter)
    assert signatures.count() == 1000
    assert signatures.filter(confirmed_at__isnull=True).count() == 0
    published = signatures.filter(status=Signature.Status.PUBLISHED)
    assert sorted(published.values_list("email", flat=True)) == [
        f"bot{n}@example.org" for n in range(5)
    ]
    assert signatures.filter(status=Signature.Status.PENDING).count() == 995
    last = signatures.get(email=f"bot{POSTED_LAST[-1]}@example.org")
    assert (last.status, last.moderation_reason) == (Signature.Status.PENDING, HELD_FOR_IP)
    assert recorded_count(client, open_letter) == 5
    assert len(csv_names(client, open_letter)) == 5
    # The bulk rows are what the views made of the same form in the same place.
    posted = signatures.get(email=f"bot{POSTED_FIRST[-1]}@example.org")
    assert as_stored(in_bulk[0]) == as_stored(posted)
    assert as_stored(in_bulk[-1]) == as_stored(last)


def test_ip_limit_counts_an_ipv6_network_of_64_bits_as_one_client(client, open_letter):
    """A household or a machine has a whole /64 to pick addresses from."""
    same_network = [
        sign_and_confirm(client, open_letter, f"v6-signer{n}@example.org", ip=f"2001:db8::{n + 1}")
        for n in range(6)
    ]
    elsewhere = sign_and_confirm(client, open_letter, "v6-other@example.org", ip="2001:db8:0:1::1")

    statuses = [signature.status for signature in same_network]
    assert statuses == [Signature.Status.PUBLISHED] * 5 + [Signature.Status.PENDING]
    assert HELD_FOR_IP in same_network[5].moderation_reason
    assert elsewhere.status == Signature.Status.PUBLISHED


def test_a_resumed_email_task_counts_again_but_names_the_ip_hold_once(
    client, open_letter, settings
):
    """A worker killed mid-run has its task run again (``resume_stale_tasks``)."""
    settings.SIGN_RATE_LIMITS = ["0/h"]  # every submission is over the limit
    sign(client, open_letter, email="resumed@example.org")
    signature = Signature.objects.get(email="resumed@example.org")

    send_signature_email.call(signature.pk, "confirm")
    signature.refresh_from_db()

    assert signature.moderation_reason.count(HELD_FOR_IP) == 1

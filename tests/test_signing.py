"""Public signing with double opt-in: sign, confirm by email, withdraw, as a signer and a
moderator see it, through the test client and the emails it sends."""

import html as html_module
import re
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core import signing as django_signing
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from letters.models import Letter
from signatories import abuse
from signatories.abuse import form_stamp, seconds_since_stamp
from signatories.emails import normalise_email
from signatories.links import Purpose, link
from signatories.models import BlockedEmailDomain, Display, Signatory, Signature
from signatories.signing import CONSENT_TEXT
from tests.factories import make_letter, make_person, make_signature
from tests.helpers import csv_names, elements_by_id, shown_count, shown_names, sign, sign_data

pytestmark = pytest.mark.django_db

SIGNATURE_CHANGELIST = "/admin/signatories/signature/"
REQUIRED_FIELDS = ["name", "email", "consent"]


@pytest.fixture
def letter(db):
    return make_letter(accepts_public_signatures=True)


def sign_url(letter: Letter) -> str:
    return reverse("signatories:sign", args=[letter.slug])


def email_links(message) -> dict[str, str]:
    """The paths of the links in an email, by what they do (``confirm``, ``withdraw``)."""
    links = {}
    for url in re.findall(r"https?://\S+", message.body):
        match = re.search(r"/(confirm|withdraw|news/stop)/[^/]+/$", url)
        if match:
            assert url.startswith(settings.SITE_URL), url
            links[match.group(1)] = url.removeprefix(settings.SITE_URL)
    return links


def last_links(to: str) -> dict[str, str]:
    [*_, message] = [m for m in mail.outbox if m.to == [to]]
    return email_links(message)


def sign_and_confirm(client, letter: Letter, **changes) -> Signature:
    sign(client, letter, **changes)
    client.post(last_links(changes.get("email", "ada@example.net"))["confirm"])
    return Signature.objects.get(letter=letter)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def field_error(response, field: str) -> str:
    """The error message shown beside a form field (empty if none), as its text."""
    html = response.content.decode()
    match = re.search(rf'<p class="error-message" id="id_{field}_error">(.*?)</p>', html, re.S)
    if not match:
        return ""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def assert_nothing_written():
    assert not Signature.objects.exists()
    assert not Signatory.objects.exists()
    assert mail.outbox == []


# The whole flow, step by step


def test_sign_form_shows_its_fields_and_a_privacy_link(client, letter):
    response = client.get(sign_url(letter) + "?as=individual")

    assert response.status_code == 200
    elements = elements_by_id(response)
    for field in ["name", "email", "category", "country", "role", "affiliation"]:
        assert f"id_{field}" in elements, field
    assert elements["id_consent"][1]["type"] == "checkbox"
    assert CONSENT_TEXT in response.content.decode()
    assert f'href="{reverse("signatories:privacy")}"' in response.content.decode()
    assert client.get(reverse("signatories:privacy")).status_code == 200


def test_signing_redirects_to_the_check_your_email_page(client, letter):
    response = sign(client, letter)

    assert response.status_code == 302
    assert response["Location"] == reverse("signatories:sign_sent", args=[letter.slug])
    assert "Check your email" in client.get(response["Location"]).content.decode()


def test_signing_emails_the_signer_one_confirm_link_and_one_withdraw_link(client, letter):
    sign(client, letter, email="ada@example.net")

    [message] = mail.outbox
    assert message.to == ["ada@example.net"]
    assert set(email_links(message)) == {"confirm", "withdraw"}


def test_unconfirmed_signature_is_neither_shown_nor_counted(client, letter):
    sign(client, letter, name="Ada Lovelace")

    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED
    assert "Lovelace" not in client.get(letter.get_absolute_url()).content.decode()
    assert shown_count(client, letter) == 0
    assert csv_names(client, letter) == []


def test_opening_the_confirm_link_shows_a_button_and_confirms_nothing(client, letter):
    sign(client, letter)

    response = client.get(last_links("ada@example.net")["confirm"])

    assert response.status_code == 200
    assert "Confirm my signature</button>" in response.content.decode()
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.UNCONFIRMED
    assert signature.confirmed_at is None
    assert shown_count(client, letter) == 0


def test_confirming_shows_the_signature_by_its_chosen_name_counted_and_in_the_csv(client, letter):
    sign(client, letter, name="Ada Lovelace", display="first_name")

    response = client.post(last_links("ada@example.net")["confirm"])

    assert "your signature is confirmed" in response.content.decode()
    assert shown_names(client, letter) == ["Ada"]
    assert "Lovelace" not in client.get(letter.get_absolute_url()).content.decode()
    assert shown_count(client, letter) == 1
    assert csv_names(client, letter) == ["Ada"]


def test_confirming_records_email_verification_and_the_consent_given(client, letter):
    before = timezone.now()

    signature = sign_and_confirm(client, letter)

    assert signature.status == Signature.Status.PUBLISHED
    assert signature.verification == Signature.Verification.EMAIL_CONFIRMED
    assert signature.confirmed_at >= before
    assert signature.consent_text == CONSENT_TEXT
    assert before <= signature.consented_at <= signature.confirmed_at


def test_withdrawing_takes_the_signature_off_the_page_count_and_csv_at_once(client, letter):
    sign_and_confirm(client, letter, name="Ada Lovelace")
    assert shown_names(client, letter) == ["Ada Lovelace"]

    response = client.post(last_links("ada@example.net")["withdraw"])

    assert "Your signature is withdrawn" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN
    assert shown_names(client, letter) == []
    assert shown_count(client, letter) == 0
    assert csv_names(client, letter) == []


def test_opening_the_withdraw_link_shows_a_button_and_withdraws_nothing(client, letter):
    sign_and_confirm(client, letter)

    response = client.get(last_links("ada@example.net")["withdraw"])

    assert "Withdraw my signature</button>" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.PUBLISHED


def test_an_old_confirm_link_does_not_bring_back_a_withdrawn_signature(client, letter):
    sign(client, letter)
    links = last_links("ada@example.net")
    client.post(links["withdraw"])

    response = client.post(links["confirm"])

    assert "can no longer be confirmed" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN
    assert shown_count(client, letter) == 0


# Links that are old, damaged or used in the wrong place


class SigningClock:
    """Stands in for the ``time`` module inside ``django.core.signing``, which dates the
    tokens in links and tells their age: moved on by a test instead of waiting."""

    def __init__(self):
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


@pytest.fixture
def signing_clock(monkeypatch) -> SigningClock:
    clock = SigningClock()
    monkeypatch.setattr(django_signing, "time", clock)
    return clock


def test_expired_confirm_link_is_refused_and_changes_nothing(
    client, letter, settings, signing_clock
):
    settings.SIGN_CONFIRMATION_MAX_AGE = 1
    sign(client, letter)
    confirm = last_links("ada@example.net")["confirm"]
    signing_clock.ahead = 2  # the link is two seconds old, one past its age

    response = client.post(confirm)

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.UNCONFIRMED
    assert signature.confirmed_at is None


def test_withdraw_link_still_works_after_confirm_links_expire(
    client, letter, settings, signing_clock
):
    settings.SIGN_CONFIRMATION_MAX_AGE = 1
    sign(client, letter)
    links = last_links("ada@example.net")
    signing_clock.ahead = 2
    assert client.get(links["confirm"]).status_code == 400  # expired

    response = client.post(links["withdraw"])

    assert response.status_code == 200
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN


def test_tampered_confirm_link_is_refused_as_not_working_and_changes_nothing(client, letter):
    sign(client, letter)
    confirm = last_links("ada@example.net")["confirm"]
    token = token_of(confirm)
    damaged = token[:5] + ("B" if token[5] != "B" else "C") + token[6:]

    response = client.post(confirm.replace(token, damaged))

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED


def test_withdraw_token_on_the_confirm_address_is_refused(client, letter):
    sign(client, letter)
    withdraw_token = token_of(last_links("ada@example.net")["withdraw"])

    response = client.post(reverse("signatories:confirm", args=[letter.slug, withdraw_token]))

    assert response.status_code == 400
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED


@pytest.mark.parametrize("purpose", ["confirm", "withdraw"])
def test_a_link_under_another_address_leads_to_its_own_letter_and_changes_nothing(
    client, letter, purpose
):
    """The signed token names the signature; the letter's address in the link is only for
    people, and may have changed since the email was sent."""
    sign(client, letter)
    token = token_of(last_links("ada@example.net")[purpose])

    response = client.get(f"/letters/renamed-since/{purpose}/{token}/")

    assert response.status_code == 302
    assert response["Location"] == f"/letters/{letter.slug}/{purpose}/{token}/"
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED


def test_withdraw_link_still_works_after_the_letter_closes(client, letter):
    sign_and_confirm(client, letter, name="Ada Lovelace")
    Letter.objects.filter(pk=letter.pk).update(
        status=Letter.Status.CLOSED, closed_on=timezone.localdate()
    )

    response = client.post(last_links("ada@example.net")["withdraw"])

    assert response.status_code == 200
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN
    assert shown_names(client, letter) == []


def test_withdraw_link_still_works_while_the_letter_is_back_in_draft(client, letter):
    sign_and_confirm(client, letter, name="Ada Lovelace")
    Letter.objects.filter(pk=letter.pk).update(status=Letter.Status.DRAFT)

    response = client.post(last_links("ada@example.net")["withdraw"])

    assert response.status_code == 200
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN


def test_signature_held_by_staff_before_confirming_can_still_be_confirmed_and_stays_held(
    client, letter
):
    sign(client, letter)
    Signature.objects.update(status=Signature.Status.PENDING)

    page = client.post(last_links("ada@example.net")["confirm"])

    signature = Signature.objects.get()
    assert "Our moderators check it" in page.content.decode()
    assert signature.confirmed_at is not None
    assert signature.status == Signature.Status.PENDING
    assert shown_names(client, letter) == []


@pytest.mark.parametrize(
    "path",
    [
        "/letters/{slug}/confirm/x/",
        "/letters/{slug}/confirm/{long}/",
        "/letters/{slug}/withdraw/1:2:3/",
        "/letters/{slug}/news/stop/%00/",
    ],
)
def test_junk_links_are_refused_without_an_error(client, letter, path):
    sign(client, letter)
    token = token_of(last_links("ada@example.net")["confirm"])

    response = client.post(path.format(token=token, slug=letter.slug, long="A" * 5000))

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED


# Signing again with the same address


@pytest.mark.parametrize(
    "again",
    [
        "ADA.LOVELACE@GMAIL.COM",
        "  ada.lovelace@gmail.com  ",
        "adalovelace@gmail.com",
        "a.d.a.lovelace+letters@gmail.com",
        "adalovelace@googlemail.com",
    ],
)
def test_signing_again_with_the_same_address_is_never_counted_twice(client, letter, again):
    sign(client, letter, email="ada.lovelace@gmail.com")
    sign(client, letter, email=again)
    first, second = (email_links(message)["confirm"] for message in mail.outbox)

    client.post(second)
    client.post(first)

    assert Signature.objects.filter(letter=letter).count() == 1
    assert shown_count(client, letter) == 1


def test_signing_again_before_confirming_sends_a_link_for_the_new_details_alone(client, letter):
    sign(client, letter, name="Ada Lovelace", email="ada@example.net", statement="First.")

    sign(client, letter, name="Augusta Ada King", email="ADA@example.net", statement="Second.")

    first, second = Signature.objects.select_related("signatory").order_by("pk")
    assert (first.signatory.name, first.statement) == ("Ada Lovelace", "First.")
    assert (second.signatory.name, second.statement) == ("Augusta Ada King", "Second.")
    assert {first.status, second.status} == {Signature.Status.UNCONFIRMED}
    assert [m.to for m in mail.outbox] == [["ada@example.net"], ["ADA@example.net"]]
    client.post(email_links(mail.outbox[1])["confirm"])
    assert shown_names(client, letter) == ["Augusta Ada King"]
    assert list(Signature.objects.values_list("pk", flat=True)) == [second.pk]


def test_the_change_history_starts_when_a_signer_confirms_and_keeps_nothing_set_aside(
    client, letter
):
    """A submission is not yet a signature: the audit history records the one its
    signer confirmed, as published, and keeps no copy of the submissions set aside."""
    sign(client, letter, name="Ada Lovelace", email="ada@example.net", statement="First.")
    first = Signature.objects.get()
    assert not Signature.history.exists()
    assert not Signatory.history.exists()
    sign(client, letter, name="Augusta Ada King", email="ada@example.net", statement="Second.")

    client.post(last_links("ada@example.net")["confirm"])

    (kept,) = Signature.objects.select_related("signatory")
    assert kept.pk != first.pk
    (row,) = Signature.history.all()
    assert (row.id, row.status, row.statement) == (kept.pk, Signature.Status.PUBLISHED, "Second.")
    assert (row.history_type, row.history_change_reason) == ("+", "Confirmed by email")
    (person,) = Signatory.history.all()
    assert (person.id, person.name, person.history_type) == (
        kept.signatory_id,
        "Augusta Ada King",
        "+",
    )
    # Later changes are recorded as before.
    client.post(email_links(mail.outbox[-1])["withdraw"])
    assert [r.history_change_reason for r in kept.history.order_by("history_date")] == [
        "Confirmed by email",
        "Withdrawn by the signer",
    ]


def test_someone_knowing_a_signers_address_cannot_change_what_her_link_publishes(client, letter):
    sign(client, letter, name="Frida Survivor", display="anonymous", statement="Mine.")
    survivors_link = email_links(mail.outbox[0])["confirm"]

    other = Client()
    other.post(
        sign_url(letter),
        sign_data(name="Mallory Named", display="full", statement="Not hers."),
    )
    other.post(sign_url(letter), sign_data(name="Mallory Named", statement="Again."))
    other.post(sign_url(letter), sign_data(name="Mallory Named", statement="Third."))

    page = client.get(survivors_link)
    assert "Anonymous (no name)" in page.content.decode()
    client.post(survivors_link)
    csv_text = b"".join(
        client.get(reverse("signatories:letter_csv", args=[letter.slug])).streaming_content
    ).decode()
    assert "Mine." in csv_text
    public = client.get(letter.get_absolute_url()).content.decode() + csv_text
    for text in ("Mallory", "Not hers.", "Again.", "Third.", "Frida"):
        assert text not in public
    (signature,) = Signature.objects.select_related("signatory")
    assert (signature.display, signature.statement) == (Display.ANONYMOUS, "Mine.")
    # The other submissions' links reached only her inbox, and now do nothing.
    assert {tuple(m.to) for m in mail.outbox} == {("ada@example.net",)}
    for message in mail.outbox[1:]:
        response = client.post(email_links(message)["confirm"])
        assert response.status_code == 400
        assert "This link is no longer needed" in response.content.decode()
    assert Signature.objects.get().statement == "Mine."


def test_signing_again_after_confirming_sends_an_already_signed_email_and_changes_nothing(
    client, letter
):
    confirmed = sign_and_confirm(client, letter, name="Ada Lovelace", statement="First.")

    sign(client, letter, name="Someone Else", statement="Second.", display="anonymous")

    signature = Signature.objects.select_related("signatory").get()
    assert (signature.signatory.name, signature.statement, signature.display) == (
        "Ada Lovelace",
        "First.",
        Display.FULL,
    )
    assert (signature.status, signature.confirmed_at) == (
        Signature.Status.PUBLISHED,
        confirmed.confirmed_at,
    )
    reminder = mail.outbox[-1]
    assert "already signed" in reminder.subject
    assert set(email_links(reminder)) == {"withdraw"}
    client.post(email_links(reminder)["withdraw"])
    assert shown_names(client, letter) == []


def test_the_response_is_the_same_whether_or_not_the_address_signed_before(client, letter):
    def sign_and_follow(email: str):
        response = sign(client, letter, email=email)
        page = client.get(response["Location"])
        return response.status_code, response["Location"], page.status_code, page.content

    new = sign_and_follow("ada@example.net")
    unconfirmed = sign_and_follow("ada@example.net")
    client.post(last_links("ada@example.net")["confirm"])
    confirmed = sign_and_follow("ada@example.net")
    another_new = sign_and_follow("grace@example.net")

    assert new == unconfirmed == confirmed == another_new


def test_signing_again_after_withdrawing_gives_a_fresh_signature_that_can_be_confirmed(
    client, letter
):
    sign_and_confirm(client, letter, name="Ada Lovelace")
    client.post(last_links("ada@example.net")["withdraw"])

    sign(client, letter, name="Ada Lovelace", display="initials")

    signature = Signature.objects.exclude(status=Signature.Status.WITHDRAWN).get()
    assert signature.status == Signature.Status.UNCONFIRMED
    assert signature.confirmed_at is None
    assert shown_names(client, letter) == []
    client.post(last_links("ada@example.net")["confirm"])
    assert shown_names(client, letter) == ["A. L."]


# Normalised addresses and the database's one-signature-per-address rule


@pytest.mark.parametrize(
    ("email", "normalised"),
    [
        ("Ada.Lovelace@Gmail.com", "adalovelace@gmail.com"),
        ("a.d.a+letters@gmail.com", "ada@gmail.com"),
        ("ada.lovelace+x@googlemail.com", "adalovelace@gmail.com"),
        ("  ada@gmail.com ", "ada@gmail.com"),
        ("ada.lovelace+news@outlook.com", "ada.lovelace@outlook.com"),
        ("Ada.Lovelace+News@Example-Charity.org", "ada.lovelace+news@example-charity.org"),
        ("first.last@company.co.uk", "first.last@company.co.uk"),
    ],
)
def test_normalise_email_folds_only_what_the_provider_ignores(email, normalised):
    assert normalise_email(email) == normalised


def test_database_refuses_two_signatures_with_the_same_address_on_one_letter(letter):
    make_signature(letter, make_person("Ada Lovelace"), email_normalised="ada@gmail.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_signature(letter, make_person("Ada King"), email_normalised="ada@gmail.com")


def test_database_refuses_a_second_confirmed_signature_from_one_address(client, letter):
    sign(client, letter, email="ada@example.net")
    sign(client, letter, email="ada@example.net")
    first, second = Signature.objects.order_by("pk")
    Signature.objects.filter(pk=first.pk).update(
        confirmed_at=timezone.now(), status=Signature.Status.PUBLISHED
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=second.pk).update(
            confirmed_at=timezone.now(), status=Signature.Status.PUBLISHED
        )


# Organisations


def organisation(**changes) -> dict:
    return {
        "kind": "organisation",
        "name": "Example Charity",
        "category": "charity",
        "website": "https://www.example-charity.org",
        "email": "jo@example-charity.org",
    } | changes


def test_organisation_signing_from_its_websites_domain_is_published_as_confirmed_by_it(
    client, letter
):
    signature = sign_and_confirm(client, letter, **organisation())

    assert signature.status == Signature.Status.PUBLISHED
    assert signature.verification == Signature.Verification.ORGANISATION_CONFIRMED
    assert shown_names(client, letter) == ["Example Charity"]


@pytest.mark.parametrize("email", ["jo@another-domain.org", "example.charity@gmail.com"])
def test_organisation_signing_from_another_domain_waits_for_a_moderator(client, letter, email):
    signature = sign_and_confirm(client, letter, **organisation(email=email))

    assert signature.status == Signature.Status.PENDING
    assert "organisation email not on its website's domain" in signature.moderation_reason
    assert signature.verification == Signature.Verification.EMAIL_CONFIRMED
    assert shown_names(client, letter) == []
    assert shown_count(client, letter) == 0


@pytest.mark.parametrize(
    ("website", "email"),
    [
        ("https://ac.uk", "someone@cam.ac.uk"),
        ("https://github.io", "someone@pages.github.io"),
        ("https://example-charity.org.evil.example", "jo@example-charity.org"),
    ],
)
def test_a_website_on_a_public_suffix_or_another_domain_confirms_no_organisation(
    client, letter, website, email
):
    signature = sign_and_confirm(client, letter, **organisation(website=website, email=email))

    assert signature.status == Signature.Status.PENDING
    assert signature.verification == Signature.Verification.EMAIL_CONFIRMED


def test_an_email_on_a_subdomain_of_the_organisations_website_confirms_it(client, letter):
    signature = sign_and_confirm(
        client, letter, **organisation(email="jo@mail.example-charity.org")
    )

    assert signature.verification == Signature.Verification.ORGANISATION_CONFIRMED


def test_organisation_is_shown_by_its_full_name_even_if_the_form_asks_for_initials(client, letter):
    signature = sign_and_confirm(client, letter, **organisation(display="initials"))

    assert signature.display == Display.FULL
    assert shown_names(client, letter) == ["Example Charity"]


def test_organisation_must_give_its_website(client, letter):
    response = sign(client, letter, **organisation(website=""))

    assert response.status_code == 200
    assert "Enter the organisation's website." in field_error(response, "website")
    assert_nothing_written()


# Moderated letters and the admin


def test_confirmed_signature_on_a_moderated_letter_waits_for_a_moderator(client):
    letter = make_letter(accepts_public_signatures=True, moderate_public_signatures=True)

    signature = sign_and_confirm(client, letter)

    assert signature.status == Signature.Status.PENDING
    assert "the letter asks for moderation" in signature.moderation_reason
    assert shown_names(client, letter) == []
    assert shown_count(client, letter) == 0


def test_moderator_publishing_a_confirmed_signature_shows_it(client, admin_client):
    letter = make_letter(accepts_public_signatures=True, moderate_public_signatures=True)
    signature = sign_and_confirm(client, letter, name="Ada Lovelace")

    admin_client.post(
        SIGNATURE_CHANGELIST, {"action": "publish", ACTION_CHECKBOX_NAME: [signature.pk]}
    )

    assert shown_names(client, letter) == ["Ada Lovelace"]
    assert shown_count(client, letter) == 1


def test_admin_publish_action_leaves_an_unconfirmed_public_signature_unconfirmed(
    client, admin_client, letter
):
    sign(client, letter)
    signature = Signature.objects.get()

    response = admin_client.post(
        SIGNATURE_CHANGELIST,
        {"action": "publish", ACTION_CHECKBOX_NAME: [signature.pk]},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("its signer has not confirmed it by email" in m for m in messages), messages
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED
    assert shown_count(client, letter) == 0


def signature_admin_form(signature: Signature, **changes) -> dict:
    """The signature's admin change form as posted back, with ``changes`` applied."""
    signature.refresh_from_db()
    return {
        "letter": signature.letter_id,
        "signatory": signature.signatory_id,
        "signed_on": signature.signed_on.isoformat() if signature.signed_on else "",
        "display": signature.display,
        "statement": signature.statement,
        "status": signature.status,
        "source": signature.source,
        "notes": signature.notes,
    } | changes


def test_admin_change_form_refuses_to_publish_an_unconfirmed_public_signature(
    client, admin_client, letter
):
    sign(client, letter)
    signature = Signature.objects.get()

    response = admin_client.post(
        reverse("admin:signatories_signature_change", args=[signature.pk]),
        signature_admin_form(signature, status="published"),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["status"]
    assert "has not confirmed this signature by email" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED


def test_admin_cannot_publish_an_unconfirmed_public_signature_by_first_changing_its_source(
    client, admin_client, letter
):
    sign(client, letter, name="Ada Lovelace")
    signature = Signature.objects.get()
    change_url = reverse("admin:signatories_signature_change", args=[signature.pk])

    admin_client.post(change_url, signature_admin_form(signature, source="admin"))
    admin_client.post(change_url, signature_admin_form(signature, status="published"))
    admin_client.post(
        SIGNATURE_CHANGELIST, {"action": "publish", ACTION_CHECKBOX_NAME: [signature.pk]}
    )

    assert Signature.objects.get().status != Signature.Status.PUBLISHED
    assert shown_names(client, letter) == []


# Blocked email domains


@pytest.mark.parametrize("email", ["x@mailinator.com", "x@sub.mailinator.com"])
def test_blocked_email_domain_is_refused_beside_the_email_field(client, letter, email):
    BlockedEmailDomain.objects.create(domain="mailinator.com")

    response = sign(client, letter, email=email)

    assert response.status_code == 200
    assert "We can't accept signatures from this email provider" in field_error(response, "email")
    assert_nothing_written()


def test_a_domain_blocked_in_the_admin_is_refused_by_the_next_signature(
    client, admin_client, letter
):
    assert sign(client, letter, email="first@throwaway.example").status_code == 302

    admin_client.post(
        reverse("admin:signatories_blockedemaildomain_add"), {"domain": "throwaway.example"}
    )
    response = sign(client, letter, email="second@throwaway.example")

    assert response.status_code == 200
    assert "We can't accept signatures from this email provider" in field_error(response, "email")


def test_a_domain_blocked_from_another_server_is_refused_within_a_minute(
    client, letter, monkeypatch
):
    """Each process reads the list at most once a minute (``signatories.abuse``): a block
    saved by another app server reaches this one within that minute."""
    assert sign(client, letter, email="first@throwaway.example").status_code == 302
    # Written as another process would: no signal reaches this one.
    BlockedEmailDomain.objects.bulk_create([BlockedEmailDomain(domain="throwaway.example")])
    a_minute_on = time.monotonic() + abuse.BLOCKED_DOMAINS_SECONDS + 1
    clock = SimpleNamespace(time=time.time, monotonic=lambda: a_minute_on)
    monkeypatch.setattr(abuse, "time", clock)

    response = sign(client, letter, email="second@throwaway.example")

    assert response.status_code == 200
    assert "We can't accept signatures from this email provider" in field_error(response, "email")


def test_blocked_domain_admin_form_stores_the_domain_normalised(admin_client):
    response = admin_client.post(
        reverse("admin:signatories_blockedemaildomain_add"),
        {"domain": " @Mailinator.COM ", "reason": "Throwaway addresses"},
    )

    assert response.status_code == 302
    assert list(BlockedEmailDomain.objects.values_list("domain", flat=True)) == ["mailinator.com"]


# Form errors and junk input


def test_empty_form_shows_an_error_summary_and_an_error_beside_each_required_field(client, letter):
    response = client.post(sign_url(letter), {"kind": "individual"})

    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="error-summary"' in html
    elements = elements_by_id(response)
    for field in REQUIRED_FIELDS:
        assert f'href="#id_{field}"' in html, field
        assert "field-error" in elements[f"id_{field}_field"][1]["class"], field
        assert field_error(response, field), field
        assert elements[f"id_{field}"][1].get("aria-invalid") == "true", field
    assert_nothing_written()


def test_individual_choosing_an_organisation_category_gets_an_error_beside_category(client, letter):
    response = sign(client, letter, kind="individual", category="charity")

    assert response.status_code == 200
    assert "You are signing as yourself" in field_error(response, "category")
    assert_nothing_written()


def test_invalid_email_gets_an_error_beside_email(client, letter):
    response = sign(client, letter, email="ada-at-example.net")

    assert response.status_code == 200
    assert field_error(response, "email")
    assert elements_by_id(response)["id_email"][1].get("aria-invalid") == "true"
    assert_nothing_written()


@pytest.mark.parametrize(
    "junk",
    [
        {"kind": "robot"},
        {"display": "everything"},
        {"country": "XX"},
        {"category": "<script>"},
        {"statement": "x" * 5000},
        {"name": "   "},
        {"website": "not a website", "kind": "organisation", "category": "charity"},
        {"email": "a@" + "b" * 300 + ".com"},
    ],
    ids=lambda junk: ",".join(junk),
)
def test_junk_input_shows_the_form_again_and_writes_nothing(client, letter, junk):
    response = sign(client, letter, **junk)

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert_nothing_written()


@pytest.mark.parametrize("stamp", ["garbage", "", "1:2:3"])
def test_bad_stamp_shows_the_form_again_with_a_message_and_a_fresh_stamp(client, letter, stamp):
    response = sign(client, letter, stamp=stamp)

    assert response.status_code == 200
    assert "This form was open for more than a day" in response.content.decode()
    fresh = elements_by_id(response)["id_stamp"][1]["value"]
    assert seconds_since_stamp(fresh) is not None
    assert_nothing_written()


def test_form_sent_faster_than_a_person_fills_it_in_is_held_for_a_moderator(client, letter):
    signature = sign_and_confirm(client, letter, stamp=form_stamp())

    assert signature.status == Signature.Status.PENDING
    assert "faster than a person" in signature.moderation_reason
    assert shown_count(client, letter) == 0


def test_filled_in_honeypot_leads_to_the_usual_page_and_records_nothing(client, letter):
    response = sign(client, letter, homepage="http://spam.example")

    assert response["Location"] == reverse("signatories:sign_sent", args=[letter.slug])
    assert_nothing_written()


# Letters that take no signatures


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": Letter.Status.CLOSED, "accepts_public_signatures": True}, "closed"),
        ({"status": Letter.Status.OPEN, "accepts_public_signatures": False}, "is not open"),
    ],
    ids=["closed", "not-accepting"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_sign_page_of_a_letter_not_taking_signatures_is_forbidden(client, fields, reason, method):
    letter = make_letter(**fields)

    response = getattr(client, method)(sign_url(letter), sign_data())

    assert response.status_code == 403
    html = response.content.decode()
    assert "This letter is not taking signatures" in html
    assert reason in html
    assert_nothing_written()


@pytest.mark.parametrize("method", ["get", "post"])
def test_sign_page_of_a_draft_letter_is_not_found(client, method):
    letter = make_letter(status=Letter.Status.DRAFT, accepts_public_signatures=True)

    response = getattr(client, method)(sign_url(letter), sign_data())

    assert response.status_code == 404
    assert_nothing_written()


@pytest.mark.parametrize(
    ("fields", "shows_link"),
    [
        ({"status": Letter.Status.OPEN, "accepts_public_signatures": True}, True),
        ({"status": Letter.Status.OPEN, "accepts_public_signatures": False}, False),
        ({"status": Letter.Status.CLOSED, "accepts_public_signatures": True}, False),
    ],
)
def test_letter_page_links_to_the_sign_form_only_when_the_letter_is_signable(
    client, fields, shows_link
):
    letter = make_letter(**fields)

    html = client.get(letter.get_absolute_url()).content.decode()

    assert (f'href="{sign_url(letter)}"' in html) is shows_link
    assert ("Sign this letter" in html) is shows_link


# Emails through the persistent task backend


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_confirm_email_is_queued_and_sent_when_the_worker_runs(client, letter):
    sign(client, letter, email="ada@example.net")

    assert mail.outbox == []
    assert DBTaskResult.objects.count() == 1

    run_worker()

    [message] = mail.outbox
    assert message.to == ["ada@example.net"]
    assert "confirm" in email_links(message)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_queued_email_task_holds_no_address_or_name(client, letter):
    sign(client, letter, name="Ada Lovelace", email="ada.private@example.net")

    [task] = DBTaskResult.objects.values()
    stored = repr(task)
    assert "ada.private" not in stored
    assert "example.net" not in stored
    assert "Lovelace" not in stored


# Stopping news emails


def follower(letter: Letter) -> Signature:
    return make_signature(
        letter,
        make_person("Ada Lovelace"),
        source=Signature.Source.PUBLIC_FORM,
        email="ada@example.net",
        email_normalised="ada@example.net",
        consent_text=CONSENT_TEXT,
        consented_at=timezone.now(),
        confirmed_at=timezone.now(),
        follow_up=True,
    )


def unfollow_path(signature: Signature) -> str:
    return link(signature, Purpose.UNFOLLOW).removeprefix(settings.SITE_URL)


def test_opening_the_stop_news_link_changes_nothing(client, letter):
    signature = follower(letter)

    response = client.get(unfollow_path(signature))

    assert "Stop these emails</button>" in response.content.decode()
    signature.refresh_from_db()
    assert signature.follow_up is True


def test_posting_the_stop_news_link_turns_follow_up_off_and_keeps_the_signature(client, letter):
    signature = follower(letter)

    response = client.post(unfollow_path(signature))

    assert "You will get no more news about this letter" in response.content.decode()
    signature.refresh_from_db()
    assert signature.follow_up is False
    assert signature.status == Signature.Status.PUBLISHED


def test_a_sign_request_does_the_same_database_work_whatever_the_address_did_before(
    client, letter, settings
):
    """Timing must not tell whether an address has signed: the request runs the same
    statements for a new address, one with an open submission and a confirmed one (the
    task, not the request, tells them apart)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    sign(client, letter, email="pending@example.net")
    sign(client, letter, email="confirmed@example.net")
    confirmed = Signature.objects.get(email="confirmed@example.net")
    client.post(link(confirmed, Purpose.CONFIRM).removeprefix(settings.SITE_URL))

    def statements(email: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = sign(client, letter, email=email)
        assert response.status_code == 302
        # The statements' shapes: values (names, slugs, times, savepoint names) differ.
        shape = re.compile(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b")
        return [shape.sub("?", query["sql"]) for query in captured]

    new = statements("new@example.net")
    assert statements("pending@example.net") == new
    assert statements("confirmed@example.net") == new

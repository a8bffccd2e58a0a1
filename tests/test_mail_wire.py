"""Emails as a mail server receives them: the bytes after DATA, sent by the real tasks
through Django's SMTP mailer to an SMTP server on loopback (aiosmtpd)."""

import datetime
import re

import pytest
from django.utils.text import slugify

from letters.models import ResponseEvent
from letters.responses import record_response_event
from signatories.links import Purpose, link, read_token
from signatories.models import Category, SignatoryKind, Signature
from signatories.signing import SignerDetails, confirm_signature, sign_letter
from signatories.tasks import notify_followers, send_signature_email
from tests.factories import make_addressee, make_letter, make_recipient

pytestmark = pytest.mark.django_db

SITE = "https://letters.example.org"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def signer(letter, name: str, *, confirm: bool = True) -> Signature:
    signature = sign_letter(
        letter=letter,
        details=SignerDetails(
            kind=SignatoryKind.INDIVIDUAL,
            name=name,
            email=f"{slugify(name)}@inbox.example",
            category=Category.SURVIVOR,
            country="GB",
            follow_up=True,
        ),
        ip_address="198.51.100.7",
        send_email=False,
    )
    if confirm:
        confirm_signature(signature_id=signature.pk)
    signature.refresh_from_db()
    return signature


@pytest.fixture
def letter():
    return make_letter(
        title="Letter on safer chat apps for survivors",
        slug="letter-on-safer-chat-apps-for-survivors-of-online-abuse",
        accepts_public_signatures=True,
    )


def assert_not_encoded(message, *names):
    """Structured fields carry no RFC 2047 encoded-words (only free text such as a Subject
    with an em dash may)."""
    for name in names:
        assert "=?" not in message.header(name)


def test_follow_up_list_unsubscribe_goes_on_the_wire_as_one_logical_line_of_plain_url(
    smtp_server, letter
):
    follower = signer(letter, "Ada Follower")
    event = record_response_event(
        addressee=make_addressee(letter, make_recipient(name="Chatterbox Platforms")),
        kind=ResponseEvent.Kind.REPLIED,
        date=datetime.date(2024, 3, 1),
    )
    stop_url = link(follower, Purpose.UNFOLLOW)
    assert len(f"List-Unsubscribe: <{stop_url}>") > 78  # long enough to need folding

    notify_followers.enqueue(event.pk)

    [message] = smtp_server.received
    assert message.rcpt_tos == [follower.email]
    # The link's token is signed with the time it was made: the email's may be a second
    # younger than ``stop_url``. Same address up to the token, and the token names her.
    header = message.header("List-Unsubscribe")
    sent_url = header.removeprefix("List-Unsubscribe: <").removesuffix(">")
    assert header == f"List-Unsubscribe: <{sent_url}>"
    assert "\n" not in header and "\r" not in header and " " not in sent_url
    assert sent_url.rstrip("/").rsplit("/", 1)[0] == stop_url.rstrip("/").rsplit("/", 1)[0]
    assert read_token(sent_url.rstrip("/").rsplit("/", 1)[1], Purpose.UNFOLLOW) == follower.pk
    assert message.header("List-Unsubscribe-Post") == (
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    )
    assert message.header("Auto-Submitted") == "Auto-Submitted: auto-generated"
    assert message.header("Message-ID").endswith("@letters.example.org>")
    assert_not_encoded(message, "List-Unsubscribe", "List-Unsubscribe-Post", "Message-ID")


def test_confirmation_email_headers_on_the_wire(smtp_server, letter):
    signature = signer(letter, "Bea Unconfirmed", confirm=False)

    send_signature_email.enqueue(signature.pk, "confirm")

    [message] = smtp_server.received
    assert message.rcpt_tos == [signature.email]
    assert message.header("Auto-Submitted") == "Auto-Submitted: auto-generated"
    assert message.header("Message-ID").startswith("Message-ID: <")
    assert message.header("Message-ID").endswith("@letters.example.org>")
    assert message.header("Subject") == f"Subject: Confirm your signature: {letter.title}"
    assert_not_encoded(message, "Subject", "Message-ID", "From", "To")
    # The token carries the second it was signed, which may be one before ``expected``'s:
    # the same address up to the token, and the token names this signature.
    expected = link(signature, Purpose.CONFIRM).rstrip("/").rsplit("/", 1)[0] + "/"
    [token] = re.findall(re.escape(expected) + r"([^/\s]+)/", message.text())
    assert read_token(token, Purpose.CONFIRM) == signature.pk

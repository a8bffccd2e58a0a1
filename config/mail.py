"""Email as it goes on the wire, and development email as a person reads it."""

import email.policy
import re

# The parse-tree tokens that email.headerregistry's own header classes are made of: private
# by name, but the only way to tell the folder which text must not be encoded.
from email import _header_value_parser as parser
from email.headerregistry import HeaderRegistry
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.mail.backends.console import EmailBackend
from django.utils.encoding import punycode


class _Verbatim(parser.ValueTerminal):
    """Header text that reaches the wire exactly as written, never as an encoded-word."""

    as_ew_allowed = False


class URLListHeader:
    """An RFC 2369 list field (``List-Unsubscribe: <https://…>, <mailto:…>``).

    Python's email package knows no such field and folds it as free text. Free text may be
    rewritten as RFC 2047 encoded-words, and the folder does exactly that to split a word
    longer than the line (``=?utf-8?q?=3Chttps=3A//…?=``; CPython issue #85725, still open).
    In a list field that is no URL at all: mail providers then offer no one-click
    unsubscribe. Here each ``<URL>`` is a verbatim token, so a long field is folded only at
    whitespace (``List-Unsubscribe:`` CRLF SP ``<https://…>``), which unfolds to the field
    as written, as RFC 5322 section 2.2.3 allows.
    """

    max_count = 1

    @classmethod
    def parse(cls, value, kwds):
        if not value.isascii():
            # RFC 2369 takes URIs (ASCII); a Unicode IRI would need encoded-words again.
            raise ValueError(f"RFC 2369 list fields take percent-encoded URLs, not {value!r}.")
        kwds["parse_tree"] = parser.TokenList(
            parser.WhiteSpaceTerminal(piece, "fws") if piece.isspace() else _Verbatim(piece, "url")
            for piece in re.split(r"(\s+)", value.strip())
            if piece
        )
        kwds["decoded"] = value.strip()

    def init(self, *args, **kwargs):
        super().init(*args, **kwargs)


# The standard registry, plus the six RFC 2369 fields.
HEADERS = HeaderRegistry()
for _name in ("Help", "Unsubscribe", "Subscribe", "Post", "Owner", "Archive"):
    HEADERS.map_to_type(f"List-{_name}", URLListHeader)


def site_domain() -> str:
    """The public site's host name (from ``SITE_URL``), for Message-IDs."""
    return punycode(urlsplit(settings.SITE_URL).hostname or "localhost")


class SiteEmailMessage(mail.EmailMessage):
    """Django's EmailMessage, written as mail providers expect to read it.

    - RFC 2369 list fields (``List-Unsubscribe``…) go out as plain ``<URL>``s, whatever
      their length (``URLListHeader``);
    - the ``Message-ID`` names the site's domain, not the sending machine: Django uses
      ``socket.getfqdn()``, which in a container or on a bare server is ``localhost`` or an
      internal name, and spam filters count that against the message.

    Every mailer (SMTP, console, locmem) serialises through ``message()``, so both hold
    whatever the backend.
    """

    def message(self, *, policy=email.policy.default):
        msg = super().message(policy=policy.clone(header_factory=HEADERS))
        if not any(name.lower() == "message-id" for name in self.extra_headers):
            msg.replace_header("Message-ID", make_msgid(domain=site_domain()))
        return msg


class ReadableConsoleBackend(EmailBackend):
    """Prints each email's headers and its text as a person would read it.

    Django's console backend prints the raw message, whose long lines — the confirmation
    links — arrive quoted-printable, broken with ``=`` and impossible to paste into a
    browser. ``make run`` uses this one instead.
    """

    def write_message(self, message):
        self.stream.write(
            f"Subject: {message.subject}\nFrom: {message.from_email}\n"
            f"To: {', '.join(message.to)}\n"
            + "".join(f"{name}: {value}\n" for name, value in message.extra_headers.items())
            + f"\n{message.body}\n"
            + "-" * 79
            + "\n"
        )

"""Real SMTP servers on loopback for the mail tests: what a mail server receives, byte for
byte, and servers that misbehave the way real ones do (refuse, fall silent)."""

import email
import email.policy
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.helpers import free_port


@dataclass
class Received:
    """One message as the server got it after DATA: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def header_lines(self) -> list[str]:
        """The header section as logical lines: continuation lines (folded at whitespace)
        joined back to their field, as RFC 5322 section 2.2.3 unfolds them."""
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        return re.sub(r"\r\n(?=[ \t])", "", head).split("\r\n")

    def header(self, name: str) -> str:
        """The one logical line of the field ``name``, as sent (``Name: value``)."""
        [line] = [
            line for line in self.header_lines() if line.lower().startswith(name.lower() + ":")
        ]
        return line

    def text(self) -> str:
        """The body as a mail client shows it (transfer encoding undone)."""
        return email.message_from_bytes(self.data, policy=email.policy.default).get_content()


@dataclass
class SMTPServer:
    """An aiosmtpd server on 127.0.0.1 that records every message it accepts.

    Misbehaviour on demand, by the n-th DATA (counting from 1): ``refuse(n)`` answers it
    with a temporary failure (451) and keeps nothing; ``drop(n)`` keeps the message and
    closes the connection before answering, so the sender cannot know it arrived.
    ``refuse_rcpt`` holds addresses refused for good at RCPT (550, no such user);
    ``on_data`` runs on each message kept, before the answer.
    """

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    refuse: Callable[[int], bool] = lambda n: False
    drop: Callable[[int], bool] = lambda n: False
    refuse_rcpt: set[str] = field(default_factory=set)
    on_data: Callable[[Received], None] = lambda message: None
    attempts: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refuse(self.attempts):
            return "451 4.3.0 Try again later"
        message = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        self.received.append(message)
        self.on_data(message)
        if self.drop(self.attempts):
            server.transport.close()
        return "250 2.0.0 Accepted"

    @property
    def mailers(self) -> dict:
        """A MAILERS setting that sends here, as production's SMTP mailer does."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
            }
        }

    def recipients(self) -> list[str]:
        """Every recipient of every message kept, sorted: an address twice was sent twice."""
        return sorted(address for message in self.received for address in message.rcpt_tos)


class SilentServer:
    """A TCP server that accepts connections and never says a word: an SMTP server that
    hangs. A client without a timeout waits for its greeting forever."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self):
        self.socket.close()
        for connection in self.accepted:
            connection.close()


def start(server: SMTPServer) -> Controller:
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    return controller

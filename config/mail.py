"""Development email: the console backend, but readable."""

from django.core.mail.backends.console import EmailBackend


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

"""Development email, printed by `make run`: links must survive to be pasted in a browser."""

import io

from django.core.mail import EmailMessage

from config.mail import ReadableConsoleBackend

LINK = "http://127.0.0.1:8000/letters/a-long-letter-slug/confirm/MTA:1xY0Ln:" + "x" * 60 + "/"


def test_console_email_prints_long_links_whole_and_the_headers():
    stream = io.StringIO()
    message = EmailMessage(
        subject="Confirm your signature",
        body=f"Open this link:\n\n  {LINK}\n\nThanks — é",
        to=["signer@example.org"],
        headers={"Auto-Submitted": "auto-generated"},
    )

    sent = ReadableConsoleBackend(stream=stream).send_messages([message])

    printed = stream.getvalue()
    assert sent == 1
    assert f"  {LINK}\n" in printed
    assert "To: signer@example.org" in printed
    assert "Subject: Confirm your signature" in printed
    assert "Auto-Submitted: auto-generated" in printed
    assert "Thanks — é" in printed

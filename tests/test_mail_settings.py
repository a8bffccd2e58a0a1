"""The SMTP mailer as the environment configures it, loaded in a fresh interpreter (as in
test_settings.py): a timeout, STARTTLS or SSL, never both."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as test_settings

from tests.smtp import SilentServer

# Each test loads the settings and the apps in a fresh interpreter (a second or more).
pytestmark = pytest.mark.slow

PROBE = """
import json, smtplib, django
from django.conf import settings
django.setup()
from django.core.mail import EmailMessage, mailers
mailer = mailers.default
result = {
    "options": settings.MAILERS["default"]["OPTIONS"],
    "ssl_connection": mailer.connection_class is smtplib.SMTP_SSL,
}
if "--send" in __import__("sys").argv:
    try:
        mailer.send_messages([EmailMessage("Hello", "Body", to=["to@example.org"])])
    except Exception as error:
        result["error"] = f"{type(error).__name__}: {error}"
print(json.dumps(result, default=str))
"""


def load(*argv: str, timeout: float = 30, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_EMAIL_")}
    environ |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        env=environ,
        cwd=test_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def loaded(*argv: str, **env: str) -> dict:
    result = load(*argv, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_smtp_mailer_waits_ten_seconds_at_most_by_default():
    options = loaded()["options"]

    assert options["timeout"] == 10
    assert (options["use_tls"], options["use_ssl"], options["port"]) == (False, False, 25)


def test_email_timeout_comes_from_the_environment():
    assert loaded(DJANGO_EMAIL_TIMEOUT="2.5")["options"]["timeout"] == 2.5


def test_email_use_ssl_connects_with_ssl_on_port_465():
    probe = loaded(DJANGO_EMAIL_USE_SSL="1")

    assert probe["ssl_connection"] is True
    assert (probe["options"]["use_ssl"], probe["options"]["port"]) == (True, 465)


def test_email_use_tls_is_starttls_on_the_port_given():
    probe = loaded(DJANGO_EMAIL_USE_TLS="1", DJANGO_EMAIL_PORT="587")

    assert probe["ssl_connection"] is False
    assert (probe["options"]["use_tls"], probe["options"]["port"]) == (True, 587)


def test_settings_refuse_both_starttls_and_ssl_with_a_clear_message():
    result = load(DJANGO_EMAIL_USE_TLS="1", DJANGO_EMAIL_USE_SSL="1")

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_EMAIL_USE_TLS (STARTTLS) and "
        "DJANGO_EMAIL_USE_SSL (SSL on port 465) exclude each other: set one of them."
    )


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def test_a_silent_smtp_server_fails_the_send_after_the_timeout_instead_of_hanging(
    silent_server,
):
    started = time.monotonic()
    probe = loaded(
        "--send",
        DJANGO_EMAIL_HOST="127.0.0.1",
        DJANGO_EMAIL_PORT=str(silent_server.port),
        DJANGO_EMAIL_TIMEOUT="0.5",
    )

    assert probe["error"] == "SMTPServerDisconnected: Connection unexpectedly closed: timed out"
    assert silent_server.accepted  # it did connect, and then heard nothing
    assert time.monotonic() - started < 15

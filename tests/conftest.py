import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.utils import translation

from signatories.abuse import blocked_domains
from tests.factories import make_letter


@pytest.fixture
def letter(db):
    return make_letter()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Staff users are made in many tests (``admin_client``, the roles): their passwords
    hashed cheaply, as no test depends on the hasher's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def slow_machine_form_timing(settings):
    """A form posted with a fresh stamp is "sent too fast" however long a busy machine
    (several test processes at once) takes to handle it; every stamp a test means to be
    in time is a minute old or more."""
    settings.SIGN_FORM_MIN_SECONDS = 30


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Background tasks run at once in tests, whatever the environment chose."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's default language: a request to /fr/… activates
    French in the thread that served it (the test's own), and Django never switches back."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters live in the cache, drawn page fragments in theirs, the blocked
    email domains in each process's memory: each test starts with none."""

    def forget():
        cache.clear()
        caches["fragments"].clear()
        blocked_domains.forget()

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    """Pages render afresh on every request in tests (test_http_cache.py turns the
    server-side page cache on where it is the subject)."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback, and the default mailer pointed at it."""
    from tests.smtp import SMTPServer, start

    server = SMTPServer()
    controller = start(server)
    settings.MAILERS = server.mailers
    yield server
    controller.stop()

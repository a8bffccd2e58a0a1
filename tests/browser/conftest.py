"""Browser tests: Debian's Chromium, driven by pytest-playwright, against pytest-django's
live server. Run with ``make test-browser`` (the plain ``pytest`` run does not recurse
here: see ``norecursedirs`` in pyproject.toml)."""

import os
import shutil
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API keeps an event loop running in this thread; the ORM calls the
# tests make between page loads are ordinary synchronous code all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, with static files served as in production: WhiteNoise
    from collectstatic's output, under their hashed names (pytest-django would put Django's
    finders in front, which know no hashed names: every page would load without CSS)."""
    server = LiveServer(os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"), start=False)
    server.thread.static_handler = lambda application: application
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium package, never a browser Playwright downloads."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def tab(browser):
    """One page for the whole run: a new context per test costs more than the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.broken = []  # what went wrong loading the current page, read by the tests

    def on_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            page.broken.append(f"{response.status} for {response.url}")

    def on_console(message):
        if "Content Security Policy" in message.text:
            page.broken.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def fresh_tab(tab):
    """Each test starts signed out, with no cookies from the one before."""
    tab.context.clear_cookies()
    tab.broken.clear()


@pytest.fixture(scope="session")
def screenshots():
    """Full-page screenshots of every page state, for people to look at (git-ignored)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir()
    return SCREENSHOTS

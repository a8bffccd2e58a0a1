"""A page on another origin frames a letter's embed in Chromium, pasted as the letter page
offers it: the embed shows its count, styled, and its sign link opens a new tab. The same
page framing the letter page or the admin gets nothing: the browser refuses them."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from letters.embeds import embed_html
from tests.factories import make_letter, make_many_signatures

pytestmark = pytest.mark.django_db(transaction=True)

SIGNATURES = 7


class OtherSite:
    """A tiny web server on 127.0.0.1 (the live server is on localhost, so another origin)
    serving one page: whatever HTML the test gives it."""

    def __init__(self):
        site = self
        self.html = ""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other_site():
    site = OtherSite()
    yield site
    site.close()


@pytest.fixture
def framing(browser):
    """A page of its own, recording what the browser refused to frame."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.refused = []
    page.on(
        "console",
        lambda message: page.refused.append(message.text) if "frame" in message.text else None,
    )
    yield page
    context.close()


def test_another_site_frames_the_embed_but_not_the_letter_or_the_admin(
    live_server, settings, other_site, framing, screenshots
):
    settings.SITE_URL = live_server.url
    letter = make_letter(title="Protect survivors online", accepts_public_signatures=True)
    make_many_signatures(letter, SIGNATURES)
    other_site.html = format_html(
        "<!doctype html><title>A newsroom</title><h1>A newsroom's article</h1>"
        "{}"
        '<iframe name="letter" src="{}" width="480" height="260" title="Letter page"></iframe>'
        '<iframe name="admin" src="{}" width="480" height="260" title="Admin"></iframe>',
        mark_safe(embed_html(letter).replace("<iframe ", '<iframe name="embed" ', 1)),
        f"{live_server.url}{letter.get_absolute_url()}",
        f"{live_server.url}{reverse('admin:login')}",
    )
    assert other_site.url.split(":")[1] != live_server.url.split(":")[1], "another origin"

    framing.goto(other_site.url)
    embed = framing.frame_locator("iframe[name=embed]")
    figure = embed.locator(".embed-figure")
    figure.wait_for()
    framing.wait_for_timeout(500)  # the refused frames' console messages
    framing.screenshot(path=screenshots / "embed-framed-by-another-site.png", full_page=True)

    assert figure.inner_text() == str(SIGNATURES)
    assert figure.is_visible()
    assert figure.evaluate("e => getComputedStyle(e).fontWeight") == "700"
    assert embed.get_by_role("link", name="Sign the letter").get_attribute("target") == "_blank"
    assert embed.get_by_text("Protect survivors online").is_visible()
    for name in ("letter", "admin"):
        shown = framing.frame_locator(f"iframe[name={name}]").locator("body").inner_text()
        assert "refused to connect" in shown, f"the {name} page showed in a frame: {shown}"
    assert [frame.url for frame in framing.frames[1:]] == [
        f"{live_server.url}{reverse('letters:embed', args=[letter.slug])}",
        "chrome-error://chromewebdata/",
        "chrome-error://chromewebdata/",
    ]
    refusals = [text for text in framing.refused if "frame-ancestors 'none'" in text]
    assert len(refusals) == 2, framing.refused


def test_the_embed_opens_the_sign_form_in_a_new_tab(live_server, settings, other_site, framing):
    settings.SITE_URL = live_server.url
    letter = make_letter(title="Protect survivors online", accepts_public_signatures=True)
    other_site.html = f"<!doctype html><title>A blog</title>{embed_html(letter)}"

    framing.goto(other_site.url)
    embed = framing.frame_locator("iframe")
    with framing.context.expect_page() as opened:
        embed.get_by_role("link", name="Sign the letter").click()

    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == f"{live_server.url}{reverse('signatories:sign', args=[letter.slug])}"
    assert framing.url == other_site.url

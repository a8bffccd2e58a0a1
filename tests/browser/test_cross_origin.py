"""What a script on another site can read, as Chromium enforces it: the public data (the
counts, the CSV, the JSON API, the feeds), and not the admin, the sign form or an emailed
link's page, whose answers the browser keeps from it."""

import functools
import http.server
import json
import threading

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from signatories.demo import load_demo_letter

pytestmark = pytest.mark.django_db(transaction=True)

FETCH = """async ({url, credentials}) => {
  try {
    const response = await fetch(url, {credentials});
    return {read: true, status: response.status, body: await response.text()};
  } catch (error) {
    return {read: false, error: String(error)};
  }
}"""


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory):
    """A newsroom's page on another origin (127.0.0.1 and its own port; the site is on
    localhost): a plain static server, as any other site would be."""
    root = tmp_path_factory.mktemp("newsroom")
    (root / "index.html").write_text(
        '<!doctype html><html lang="en"><title>Newsroom</title><p>Live count below.</p></html>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture
def signed_in_elsewhere(tab, live_server):
    """The reader is signed in to the site's admin in the same browser: a script on the
    other site must not be able to use that to read anything."""
    User.objects.create_superuser("staff", "staff@example.org", "a-long-test-password")
    tab.goto(f"{live_server.url}/admin/login/")
    tab.fill("#id_username", "staff")
    tab.fill("#id_password", "a-long-test-password")
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{live_server.url}/admin/")


def fetch_from(tab, origin: str, url: str, credentials: str = "omit") -> dict:
    if not tab.url.startswith(origin):
        tab.goto(origin)
    return tab.evaluate(FETCH, {"url": url, "credentials": credentials})


def test_another_site_reads_the_public_counts_csv_api_and_feed(tab, live_server, other_origin):
    letter = load_demo_letter()

    def fetched(name, query=""):
        url = f"{live_server.url}{reverse(name, args=[letter.slug])}{query}"
        result = fetch_from(tab, other_origin, url)
        assert result["read"] and result["status"] == 200, (name, result)
        return result["body"]

    assert f'"letter": "{letter.slug}"' in fetched("signatories:letter_count")
    assert (
        fetched("signatories:letter_csv", "?country=GB")
        .lstrip("\ufeff")
        .startswith("name,name_shown_as,")
    )
    assert json.loads(fetched("api:letter-detail"))["slug"] == letter.slug
    signatures = json.loads(fetched("api:letter-signatures", "?page_size=5"))
    assert len(signatures["results"]) == 5
    assert "<feed" in fetched("letters:letter_feed")


@pytest.mark.usefixtures("signed_in_elsewhere")
@pytest.mark.parametrize("credentials", ["omit", "include"])
def test_another_site_cannot_read_the_admin_a_form_or_a_page(
    tab, live_server, other_origin, credentials
):
    letter = load_demo_letter()
    private = [
        "/admin/",
        "/admin/signatories/signature/",
        reverse("signatories:sign", args=[letter.slug]) + "?as=individual",
        reverse("signatories:withdraw", args=[letter.slug, "not-a-token"]),
        letter.get_absolute_url(),
    ]

    results = {
        url: fetch_from(tab, other_origin, f"{live_server.url}{url}", credentials)
        for url in private
    }

    assert {url: result["read"] for url, result in results.items()} == dict.fromkeys(private, False)

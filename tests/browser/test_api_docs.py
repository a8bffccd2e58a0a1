"""The API's documentation page in Chromium, under the production Content-Security-Policy:
Swagger UI draws every operation from the schema and runs one, with nothing refused or
missing. Screenshots at 390 and 1280 px land in tests/browser/screenshots/.

Not checked with axe as the site's own pages are: Swagger UI's markup is the library's."""

import pytest
from django.urls import reverse

from signatories.demo import load_demo_letter

pytestmark = pytest.mark.django_db(transaction=True)

OPERATIONS = 7


def test_docs_draw_every_operation_and_run_one_under_the_csp(tab, live_server, screenshots):
    load_demo_letter()
    response = tab.goto(live_server.url + reverse("api:docs"))
    assert response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]

    operations = tab.locator(".opblock")
    operations.nth(OPERATIONS - 1).wait_for()
    assert operations.count() == OPERATIONS

    letters = tab.locator("#operations-letters-letters_list")
    letters.locator(".opblock-summary").click()
    letters.get_by_role("button", name="Try it out").click()
    letters.get_by_role("button", name="Execute").click()
    status = letters.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert (
        "survivors-child-safety-risk-assessment-2023"
        in letters.locator(".live-responses-table .microlight").first.inner_text()
    )

    for width in (390, 1280):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(path=screenshots / f"api-docs-{width}.png", full_page=True)
    tab.set_viewport_size({"width": 1280, "height": 900})
    assert tab.broken == []

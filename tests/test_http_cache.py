"""HTTP caching: public pages and count.json may be cached for a minute (and served stale
while revalidating), carry validators and answer conditional requests with 304; staff
pages are never cached publicly; the server renders a public page at most once a minute."""

import json

import pytest
from django.urls import reverse

from signatories.models import Signature
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_person,
    make_signature,
)

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=60, stale-while-revalidate=120"


@pytest.fixture
def site(db):
    letter = make_letter(accepts_public_signatures=True)
    addressee = make_addressee(letter)
    person = make_person("Grace Hopper", country="US")
    make_signature(letter, person)
    make_many_signatures(letter, 5)
    return {
        "home": reverse("letters:home"),
        "letters": reverse("letters:list"),
        "letter": letter.get_absolute_url(),
        "letter-filtered": letter.get_absolute_url() + "?kind=individual",
        "count": reverse("signatories:letter_count", args=[letter.slug]),
        "recipients": reverse("letters:recipient_list"),
        "recipient": addressee.recipient.get_absolute_url(),
        "countries": reverse("signatories:country_list"),
        "country": reverse("signatories:country_detail", args=["US"]),
        "signatory": person.get_absolute_url(),
        "privacy": reverse("signatories:privacy"),
    }


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize(
    "page",
    [
        "home",
        "letters",
        "letter",
        "letter-filtered",
        "count",
        "recipients",
        "recipient",
        "countries",
        "country",
        "signatory",
        "privacy",
    ],
)
def test_public_pages_may_be_cached_a_minute_and_carry_an_etag(client, site, page):
    response = client.get(site[page])

    assert response.status_code == 200
    assert cache_control(response) == set(PUBLIC.split(", "))
    assert response["ETag"]
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize("page", ["letter", "count", "home"])
def test_a_conditional_request_for_an_unchanged_page_gets_304(client, site, page):
    etag = client.get(site[page])["ETag"]

    response = client.get(site[page], headers={"if-none-match": etag})

    assert response.status_code == 304
    assert response.content == b""


def test_the_csv_may_be_cached_a_minute(client, site):
    letter_slug = site["letter"].strip("/").split("/")[-1]
    response = client.get(reverse("signatories:letter_csv", args=[letter_slug]))

    assert cache_control(response) == set(PUBLIC.split(", "))


def test_signed_in_staff_get_pages_no_shared_cache_may_keep(admin_client, site):
    for page in ("letter", "home", "count"):
        response = admin_client.get(site[page])

        assert response.status_code == 200
        assert {"private", "no-cache", "no-store"} <= cache_control(response)
        assert "public" not in cache_control(response)


def test_forms_and_emailed_link_pages_are_never_cached(client, site):
    letter_slug = site["letter"].strip("/").split("/")[-1]
    response = client.get(reverse("signatories:sign", args=[letter_slug]))

    assert {"no-cache", "no-store", "private"} <= cache_control(response)


def test_count_json_gives_the_letters_counts(client, site):
    response = client.get(site["count"])

    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert data["signatures"] == 6
    assert data["organisations"] + data["individuals"] == 6
    assert data["countries"] >= 1
    assert data["counted_at"]
    assert data["url"].endswith(site["letter"])


def test_count_json_of_a_draft_letter_is_not_found(client):
    draft = make_letter(status="draft")

    assert client.get(reverse("signatories:letter_count", args=[draft.slug])).status_code == 404


def test_the_server_renders_a_public_page_once_a_minute_and_staff_see_changes_at_once(
    client, admin_client, site, settings
):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    first = client.get(site["letter"]).content
    Signature.objects.filter(signatory__name="Grace Hopper").update(status="hidden")

    again = client.get(site["letter"]).content
    staff = admin_client.get(site["letter"]).content.decode()

    assert again == first  # served from the page cache, within its minute
    assert b"Grace Hopper" in again
    assert "Grace Hopper" not in staff

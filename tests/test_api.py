"""The JSON API at /api/v1/: public data only, the CSV's rows for a letter's signatures,
keyset pages, JSON errors naming the bad parameter, caching, the per-IP limit, and a fixed
number of SQL queries whatever the size."""

import base64
import csv
import datetime
import io
import json
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from letters.models import EventKind, Letter, LetterSource, Recipient, ResponseStatus
from letters.responses import record_response_event
from signatories.exports import PUBLIC_COLUMNS, neutralise
from signatories.models import Category, Display, SignatoryKind, Signature, Verification
from signatories.paging import encode_cursor
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_person,
    make_recipient,
    make_signatory,
    make_signature,
)
from tests.helpers import next_page_query

pytestmark = pytest.mark.django_db

SIGNATURE_FILTERS = [
    {},
    {"kind": "individual"},
    {"kind": "organisation"},
    {"category": "survivor"},
    {"category": "ngo"},
    {"country": "GB"},
    {"country": "fr"},
    {"verification": "staff_vetted"},
    {"q": "ada"},
    {"q": "Lovelace"},
    {"kind": "individual", "country": "GB"},
]


def api(name: str, *args) -> str:
    return reverse(f"api:{name}", args=args)


def get_json(client, url: str, status: int = 200, **headers) -> dict:
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", url
    return json.loads(response.content)


def all_rows(client, url: str) -> tuple[list[dict], int]:
    """Every row of a signature list, following ``next`` to the end; and how many pages."""
    rows, pages = [], 0
    while url:
        page = get_json(client, url)
        rows += page["results"]
        pages += 1
        url = page["next"]
    return rows, pages


def csv_of(client, letter: Letter, params: dict) -> list[list[str]]:
    response = client.get(reverse("signatories:letter_csv", args=[letter.slug]), params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header == PUBLIC_COLUMNS
    return rows


@pytest.fixture
def site(db):
    """A public letter of 14 published signatures — organisations and people, every
    display, several countries and none, two sharing a name, a statement a spreadsheet
    would run — and some that must never show; a draft letter; a recipient of each."""
    letter = make_letter(
        title="Open letter",
        slug="open-letter",
        published_on=datetime.date(2023, 9, 1),
        published_on_precision=Letter.DatePrecision.MONTH,
        delivered_on=datetime.date(2023, 9, 20),
        reported_signatories=100,
        reported_signatories_is_minimum=True,
        reported_countries=24,
        reported_figures_source="Press coverage",
        staff_notes="Staff only: call the organiser back",
    )
    shown = [
        ("Ada Lovelace", Display.FULL, "GB", Verification.STAFF_VETTED, "=HYPERLINK(1)"),
        ("Ada Byron", Display.FIRST_NAME, "GB", Verification.UNVERIFIED, ""),
        ("Grace Hopper", Display.INITIALS, "US", Verification.EMAIL_CONFIRMED, "Yes."),
        ("Hedy Lamarr", Display.ANONYMOUS, "FR", Verification.UNVERIFIED, ""),
        ("Katherine Johnson", Display.FULL, "", Verification.STAFF_VETTED, "-1 for silence"),
        ("Katherine Johnson", Display.FULL, "US", Verification.UNVERIFIED, ""),
        ("Mary Jackson", Display.FIRST_NAME, "FR", Verification.UNVERIFIED, ""),
        ("Dorothy Vaughan", Display.ANONYMOUS, "GB", Verification.STAFF_VETTED, ""),
    ]
    for name, display, country, verification, statement in shown:
        person = make_person(
            name,
            country=country,
            role="Researcher",
            affiliation="Analytical Society",
            website="https://example.org/person",
        )
        verified_at = None if verification == Verification.UNVERIFIED else timezone.now()
        make_signature(
            letter,
            person,
            display=display,
            verification=verification,
            verified_at=verified_at,
            statement=statement,
        )
    for name, country, category in [
        ("Barnardo's", "GB", Category.CHARITY),
        ("@Privacy First", "", Category.NGO),
        ("Zeta Network", "FR", Category.NETWORK),
        ("alpha collective", "DE", Category.NETWORK),
        ("Childnet", "GB", Category.NGO),
        ("Safe Online", "US", Category.CHARITY),
    ]:
        make_signature(
            letter,
            make_signatory(name=name, country=country, category=category),
            signed_on=datetime.date(2023, 9, 2),
        )
    for status in (Signature.Status.PENDING, Signature.Status.HIDDEN, Signature.Status.WITHDRAWN):
        make_signature(letter, make_person(f"Unpublished {status} Person"), status=status)
    addressee = make_addressee(
        letter,
        make_recipient(name="Meta", slug="meta"),
        person_name="Mark Zuckerberg",
        person_title="Chief Executive",
    )
    record_response_event(
        addressee=addressee,
        kind=EventKind.ACKNOWLEDGED,
        date=datetime.date(2023, 10, 1),
        summary="Meta acknowledged the letter.",
        url="https://example.org/ack",
    )
    LetterSource.objects.create(
        letter=letter, title="Coverage", url="https://example.org/news", publisher="Paper"
    )
    draft = make_letter(title="Secret draft", slug="secret-draft", status=Letter.Status.DRAFT)
    make_addressee(draft, make_recipient(name="Draft Only Corp", slug="draft-only-corp"))
    make_signature(draft, make_person("Draft Signer"))
    return letter


# Letters


def test_letter_list_shows_public_letters_with_counts_never_drafts(client, site):
    closed = make_letter(slug="closed-letter", status=Letter.Status.CLOSED)

    data = get_json(client, api("letters"))

    assert {letter["slug"] for letter in data["results"]} == {"open-letter", "closed-letter"}
    assert data["count"] == 2
    [item] = [letter for letter in data["results"] if letter["slug"] == site.slug]
    assert item["counts"] == {
        "signatures": 14,
        "organisations": 6,
        "individuals": 8,
        "countries": 4,
    }
    assert item["published_on"] == "2023-09-01"
    assert item["published_on_precision"] == "month"
    assert item["delivered_on"] == "2023-09-20"
    assert item["url"] == "http://testserver/letters/open-letter/"
    assert item["api_url"] == "http://testserver/api/v1/letters/open-letter/"
    assert get_json(client, item["api_url"])["slug"] == "open-letter"
    assert closed.slug in {letter["slug"] for letter in data["results"]}


def test_letter_list_filters_by_status_and_recipient(client, site):
    make_letter(slug="closed-letter", status=Letter.Status.CLOSED)

    def slugs(**params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return [
            letter["slug"] for letter in get_json(client, f"{api('letters')}?{query}")["results"]
        ]

    assert slugs(status="open") == ["open-letter"]
    assert slugs(status="closed") == ["closed-letter"]
    assert slugs(recipient="meta") == ["open-letter"]
    assert slugs(recipient="meta", status="closed") == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=draft", "status"),
        ("status=%00", "status"),
        ("recipient=draft-only-corp", "recipient"),
        ("recipient=nobody", "recipient"),
        ("recipient=%00", "recipient"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=-1", "page"),
        ("page=1e3", "page"),
        ("page=" + "9" * 5000, "page"),
    ],
)
def test_letter_list_bad_parameter_is_400_naming_it(client, site, query, parameter):
    data = get_json(client, f"{api('letters')}?{query}", status=400)

    assert list(data["errors"]) == [parameter]
    assert data["detail"].startswith(f"Invalid {parameter}: ")


def test_letter_list_page_past_the_end_is_404_json(client, site):
    assert get_json(client, f"{api('letters')}?page=99999999999999", status=404)["detail"]


def test_letter_detail_has_text_figures_counts_answers_and_sources(client, site):
    data = get_json(client, api("letter-detail", site.slug))

    assert data["body"] == site.body
    assert data["reported"] == {
        "signatories": 100,
        "is_minimum": True,
        "countries": 24,
        "source": "Press coverage",
    }
    counts = data["counts"]
    assert counts["signatures"] == 14
    assert counts["without_country"] == 2
    assert {row["kind"]: row["count"] for row in counts["by_kind"]} == {
        "organisation": 6,
        "individual": 8,
    }
    assert {row["country_code"]: row["count"] for row in counts["by_country"]} == {
        "GB": 5,
        "US": 3,
        "FR": 3,
        "DE": 1,
    }
    assert [row["country_code"] for row in counts["by_country"]][:1] == ["GB"]
    assert {row["verification"]: row["count"] for row in counts["by_verification"]} == {
        "unverified": 10,
        "staff_vetted": 3,
        "email_confirmed": 1,
        "organisation_confirmed": 0,
    }
    categories = {row["category"]: row["count"] for row in counts["by_category"]}
    assert categories == {"survivor": 8, "charity": 2, "ngo": 2, "network": 2}
    [addressee] = data["addressees"]
    assert addressee["recipient"]["slug"] == "meta"
    assert addressee["person_name"] == "Mark Zuckerberg"
    assert addressee["response"]["status"] == ResponseStatus.ACKNOWLEDGED
    assert addressee["response"]["date"] == "2023-10-01"
    assert addressee["events"] == [
        {
            "date": "2023-10-01",
            "kind": "acknowledged",
            "kind_label": "Acknowledged receipt",
            "summary": "Meta acknowledged the letter.",
            "url": "https://example.org/ack",
        }
    ]
    assert [source["url"] for source in data["sources"]] == ["https://example.org/news"]
    assert data["signatures_url"] == "http://testserver/api/v1/letters/open-letter/signatures/"
    assert "staff_notes" not in data
    assert "call the organiser back" not in json.dumps(data)


@pytest.mark.parametrize("name", ["letter-detail", "letter-signatures"])
def test_draft_and_unknown_letters_are_404_json(client, site, name):
    for slug in ("secret-draft", "no-such-letter"):
        data = get_json(client, api(name, slug), status=404)
        assert data == {"detail": "No public letter has this slug."}


def test_count_json_of_an_unknown_letter_is_a_json_404(client, site):
    for slug in ("no-such-letter", "secret-draft"):
        response = client.get(reverse("signatories:letter_count", args=[slug]))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) == {"detail": "Not found."}


def test_unknown_api_address_is_a_json_404_and_other_pages_keep_their_html_404(client, site):
    for url in ("/api/v1/nothing-here/", "/api/v2/", "/api/v1/letters/a/b/c/"):
        assert get_json(client, url, status=404) == {"detail": "Not found."}
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# Signatures: the CSV's rows, a page at a time


@pytest.mark.parametrize("params", SIGNATURE_FILTERS, ids=lambda p: "&".join(p) or "all")
def test_signature_list_equals_the_csv_row_for_row(client, site, params):
    query = "&".join(f"{k}={v}" for k, v in {**params, "page_size": 3}.items())
    rows, pages = all_rows(client, f"{api('letter-signatures', site.slug)}?{query}")
    expected = csv_of(client, site, params)

    assert [list(row) for row in rows] == [PUBLIC_COLUMNS] * len(rows)
    # The CSV guards cells a spreadsheet would run ('=…'); JSON carries them as they are.
    assert [[neutralise(row[column]) for column in PUBLIC_COLUMNS] for row in rows] == expected
    assert pages == max(1, -(-len(expected) // 3))
    assert expected


def test_signature_list_counts_and_shows_each_name_as_chosen(client, site):
    data = get_json(client, api("letter-signatures", site.slug))

    assert data["count"] == 14 and data["count_is_minimum"] is False and data["next"] is None
    names = [row["name"] for row in data["results"]]
    assert "Ada Lovelace" in names and "Ada" in names and "G. H." in names
    assert names.count("Katherine Johnson") == 2
    text = json.dumps(data)
    for hidden in ("Byron", "Grace", "Hopper", "Hedy", "Lamarr", "Jackson", "Dorothy", "Unpub"):
        assert hidden not in text
    by_name = {row["name"]: row for row in data["results"]}
    assert by_name["Ada Lovelace"]["role"] == "Researcher"
    assert by_name["Ada Lovelace"]["statement"] == "=HYPERLINK(1)"
    assert by_name["Ada"]["role"] == by_name["Ada"]["profile_url"] == ""


def test_signature_list_counts_a_filter_from_the_tally(client, site):
    data = get_json(client, api("letter-signatures", site.slug) + "?country=GB&kind=individual")

    assert data["count"] == len(data["results"]) == 3


def test_signature_pages_follow_the_cursor_without_repeating_or_skipping(client, site):
    make_many_signatures(site, 230)
    rows, pages = all_rows(client, api("letter-signatures", site.slug))

    assert pages == 3
    assert len(rows) == 244
    first = get_json(client, api("letter-signatures", site.slug) + "?page_size=1000")
    assert first["next"] is None
    assert first["results"] == rows


@override_settings(SIGNATURES_PER_PAGE=5)
def test_the_letter_pages_next_cursor_continues_the_api_list(client, site):
    query = next_page_query(client.get(site.get_absolute_url()))
    [after] = parse_qs(query.lstrip("?"))["after"]

    rows, _ = all_rows(client, f"{api('letter-signatures', site.slug)}?after={after}")

    assert len(rows) == 9
    assert [[neutralise(row[c]) for c in PUBLIC_COLUMNS] for row in rows] == csv_of(
        client, site, {}
    )[5:]


def _forged(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "%00",
        "!!!!",
        _forged([0, "a\u0000b", 1, 2]),
        _forged([0, "a", 2**70, 2]),
        _forged([0, "a", 1, 2**40]),
        _forged([99, "a", 1, 2]),
        _forged(["0", "a", 1, 2]),
        _forged({"rank": 0}),
        _forged([0, "a" * 1000, 1, 2]),
        "W" * 5000,
    ],
)
def test_forged_cursor_is_400_naming_after(client, site, cursor):
    data = get_json(client, f"{api('letter-signatures', site.slug)}?after={cursor}", status=400)

    assert list(data["errors"]) == ["after"]


def test_a_valid_cursor_past_the_last_row_gives_an_empty_last_page(client, site):
    last = Signature(pk=2**62, list_rank=9, sort_name="zzz")
    data = get_json(
        client, f"{api('letter-signatures', site.slug)}?after={encode_cursor(last, 2**31 - 1)}"
    )

    assert data["results"] == [] and data["next"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=robot", "kind"),
        ("category=%00", "category"),
        ("country=ZZ", "country"),
        ("country=GBR", "country"),
        ("verification=yes", "verification"),
        ("q=" + "x" * 101, "q"),
        ("q=a%00b", "q"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=" + "9" * 5000, "page_size"),
        ("page_size=-5", "page_size"),
        ("page_size=%EF%BC%95", "page_size"),  # a full-width digit five
    ],
)
def test_signature_list_bad_parameter_is_400_naming_it(client, site, query, parameter):
    data = get_json(client, f"{api('letter-signatures', site.slug)}?{query}", status=400)

    assert list(data["errors"]) == [parameter]
    assert data["detail"].startswith(f"Invalid {parameter}: ")


def test_bad_filter_value_gets_the_letter_pages_own_message(client, site):
    data = get_json(client, f"{api('letter-signatures', site.slug)}?kind=robot", status=400)

    assert data["errors"]["kind"] == [
        "“robot” is not a kind of signatory here. Choose Organisation or Individual, "
        "or clear the filter."
    ]


# Recipients and countries


def test_recipients_are_only_those_of_public_letters_with_their_answers(client, site):
    data = get_json(client, api("recipients"))

    assert [recipient["slug"] for recipient in data] == ["meta"]
    [entry] = data[0]["letters"]
    assert entry["letter"]["slug"] == "open-letter"
    assert entry["letter"]["counts"]["signatures"] == 14
    assert entry["response"]["status"] == "acknowledged"
    assert entry["events"][0]["summary"] == "Meta acknowledged the letter."
    assert get_json(client, api("recipient-detail", "meta")) == data[0]
    assert get_json(client, api("recipient-detail", "draft-only-corp"), status=404)
    assert "Secret draft" not in json.dumps(data)


def test_countries_sum_public_signatures_from_the_tallies(client, site):
    other = make_letter()
    make_signature(other, make_person("Someone Else", country="GB"))

    data = get_json(client, api("countries"))

    assert [
        (row["country_code"], row["signatures"], row["letters"]) for row in data["countries"]
    ] == [
        ("GB", 6, 2),
        ("FR", 3, 1),
        ("US", 3, 1),
        ("DE", 1, 1),
    ]
    assert data["countries"][0]["country"] == "United Kingdom"
    assert data["countries"][0]["url"] == "http://testserver/countries/GB/"
    assert data["without_country"] == {"signatures": 2, "letters": 1}


# HTTP: methods, formats, caching, limits


def every_api_url(letter: Letter) -> list[str]:
    return [
        api("index"),
        api("letters"),
        api("letter-detail", letter.slug),
        api("letter-signatures", letter.slug),
        api("recipients"),
        api("recipient-detail", "meta"),
        api("countries"),
        api("schema"),
    ]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_refused_with_405_json(client, site, method):
    for url in [*every_api_url(site), api("docs")]:
        response = getattr(client, method)(url, data="{}", content_type="application/json")
        assert response.status_code == 405, url
        assert json.loads(response.content)["detail"], url
        assert "GET" in response["Allow"], url


def test_head_and_options_answer_without_error(client, site):
    for url in every_api_url(site):
        head = client.head(url)
        assert head.status_code == 200 and head.content == b"", url
        options = client.options(url)
        assert options.status_code == 200, url
        assert "GET" in options["Allow"], url


def test_accept_header_and_format_parameter_change_nothing(client, site):
    url = api("letter-detail", site.slug)
    plain = client.get(url).content

    for query, accept in [
        ("?format=api", "text/html"),
        ("?format=xml", "application/xml"),
        ("?format=json", "*/*"),
        ("?format=%00", "application/yaml"),
    ]:
        response = client.get(url + query, headers={"accept": accept})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.content == plain


def test_api_is_cached_like_the_pages_and_answers_304(client, site):
    url = api("letter-signatures", site.slug) + "?country=GB"
    first = client.get(url)

    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=60, stale-while-revalidate=120"
    etag = first["ETag"]
    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200


@override_settings(API_RATE="3/min")
def test_rate_limit_answers_429_with_retry_after_per_ip(client, site):
    url = api("letters")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]

    refused = client.get(url)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Try again in" in json.loads(refused.content)["detail"]
    assert "no-store" in refused["Cache-Control"]
    # Every API URL counts against the same limit, and other addresses have their own.
    assert client.get(api("countries")).status_code == 429
    assert client.get(url, REMOTE_ADDR="192.0.2.7").status_code == 200
    # The pages are not limited by it.
    assert client.get(reverse("letters:list")).status_code == 200


def test_rate_limit_counts_answers_from_the_page_cache_too(client, site, settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.API_RATE = "3/min"
    url = api("letter-detail", site.slug)
    first = client.get(url)
    Letter.objects.filter(pk=site.pk).update(title="Retitled")

    assert client.get(url).content == first.content  # from the page cache
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429


@override_settings(API_RATE="2/min", CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_rate_limit_counts_the_address_the_proxy_names(client, site):
    url = api("countries")
    for _ in range(2):
        assert client.get(url, HTTP_X_REAL_IP="198.51.100.1").status_code == 200

    assert client.get(url, HTTP_X_REAL_IP="198.51.100.1").status_code == 429
    assert client.get(url, HTTP_X_REAL_IP="198.51.100.2").status_code == 200


@override_settings(API_RATE="2/min", CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_rate_limit_counts_an_ipv6_client_by_its_64_network(client, site):
    """One machine's IPv6 addresses share a /64: changing the last bits gains nothing."""
    url = api("countries")
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        assert client.get(url, HTTP_X_REAL_IP=host).status_code == 200

    assert client.get(url, HTTP_X_REAL_IP="2001:db8:1:2:ffff::9").status_code == 429
    assert client.get(url, HTTP_X_REAL_IP="2001:db8:1:3::1").status_code == 200


ODD_VALUES = ["", "%00", "%FF", "%ED%A0%80", "-1", "0", "9" * 400, "1e9", "%0A", "[]", "'", "\\"]


@override_settings(API_RATE="100000/min")
def test_odd_input_never_gives_a_server_error(client, site):
    everywhere = ["format", "callback", "unknown"]
    filters = ["kind", "category", "country", "verification", "q", "after", "page_size"]
    parameters = dict.fromkeys([*every_api_url(site), api("docs")], everywhere)
    parameters[api("letters")] = ["status", "recipient", "page", *everywhere]
    parameters[api("letter-signatures", site.slug)] = [*filters, "before", *everywhere]
    for url in [api("letter-detail", "x" * 300), "/api/v1/letters/%00/", "/api/v1/%E2%80%AE/"]:
        parameters[url] = everywhere
    for url, names in parameters.items():
        for name in names:
            for value in ODD_VALUES:
                status = client.get(f"{url}?{name}={value}").status_code
                assert status in (200, 400, 404), (url, name, value, status)


# A fixed number of SQL queries, whatever the size


def queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in captured.captured_queries]


EXPECTED_QUERIES = {
    "index": 0,
    "letters": 2,  # count, page
    "letters-filtered": 3,  # the recipient's slug checked, count, page
    "letter-detail": 4,  # letter and tally, addressees and recipients, events, sources
    "letter-signatures": 2,  # letter and tally, page
    "letter-signatures-deep": 2,
    "letter-signatures-filtered": 2,
    "letter-signatures-search": 3,  # and the search counted (up to 1,000)
    "recipients": 3,  # recipients, addressees with letters and tallies, events
    "recipient-detail": 3,
    "countries": 1,
}


def measured_urls(letter: Letter) -> dict[str, str]:
    signatures = api("letter-signatures", letter.slug)
    first = Signature.objects.public_on(letter).in_display_order()[5]
    return {
        "index": api("index"),
        "letters": api("letters"),
        "letters-filtered": api("letters") + "?recipient=meta&status=open",
        "letter-detail": api("letter-detail", letter.slug),
        "letter-signatures": signatures,
        "letter-signatures-deep": f"{signatures}?after={encode_cursor(first, 2)}&page_size=3",
        "letter-signatures-filtered": f"{signatures}?kind=individual&country=GB",
        "letter-signatures-search": f"{signatures}?q=bulk",
        "recipients": api("recipients"),
        "recipient-detail": api("recipient-detail", "meta"),
        "countries": api("countries"),
    }


def test_every_endpoint_runs_a_fixed_number_of_queries_at_few_and_many_rows(client, site):
    few = {name: queries(client, url) for name, url in measured_urls(site).items()}

    make_many_signatures(site, 300, countries=("GB", "US", "FR", "DE", "IT", "ES", "NL"))
    meta = Recipient.objects.get(slug="meta")
    for n in range(5):
        letter = make_letter(slug=f"more-{n}")
        make_many_signatures(letter, 20)
        recipient = make_recipient()
        make_addressee(letter, recipient)
        make_addressee(letter, meta)
        addressee = make_addressee(site, recipient)
        record_response_event(
            addressee=addressee, kind=EventKind.REPLIED, date=datetime.date(2024, 1, n + 1)
        )
        LetterSource.objects.create(letter=site, title=f"S{n}", url=f"https://example.org/{n}")
    many = {name: queries(client, url) for name, url in measured_urls(site).items()}

    for name, expected in EXPECTED_QUERIES.items():
        assert len(few[name]) == expected, (name, few[name])
        assert len(many[name]) == expected, (name, many[name])


def test_letter_list_pages_run_the_same_queries_with_many_letters(client, site):
    for n in range(120):
        make_letter(slug=f"bulk-{n}", status=Letter.Status.OPEN)

    data = get_json(client, api("letters") + "?page=2")
    assert data["count"] == 121 and len(data["results"]) == 50
    assert len(queries(client, api("letters") + "?page=3")) == EXPECTED_QUERIES["letters"]


def test_signature_kinds_in_api_are_those_of_the_csv_labels(client, site):
    rows, _ = all_rows(client, api("letter-signatures", site.slug))

    assert {row["kind"] for row in rows} == {
        SignatoryKind.ORGANISATION.label,
        SignatoryKind.INDIVIDUAL.label,
    }

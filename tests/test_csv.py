"""The public CSV of a letter's signatories, and the staff export with private fields."""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from letters.models import Letter
from signatories.editing import update_signatory
from signatories.models import Category, Display, SignatoryKind, Signature, Verification
from tests.factories import (
    make_letter,
    make_many_signatures,
    make_person,
    make_signatory,
    make_signature,
)
from tests.helpers import csv_body, csv_rows, csv_table, csv_url, next_page_query, table_rows

pytestmark = pytest.mark.django_db

DOCUMENTED_COLUMNS = [
    "name",
    "name_shown_as",
    "kind",
    "category",
    "country_code",
    "country",
    "role",
    "affiliation",
    "website",
    "signed_on",
    "verification",
    "statement",
    "profile_url",
]
FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n"]
ADMIN_CHANGELIST = "/admin/signatories/signature/"


def letter_url(letter: Letter, **params) -> str:
    url = letter.get_absolute_url()
    return f"{url}?{urlencode(params)}" if params else url


def page_rows(client, letter: Letter, **params) -> list[list[str]]:
    """Every row of the letter page's signatory list, through all its pages."""
    rows, url = [], letter_url(letter, **params)
    while True:
        response = client.get(url)
        assert response.status_code == 200
        rows += table_rows(response)
        following = next_page_query(response)
        if following is None:
            return rows
        url = letter.get_absolute_url() + following


def as_on_page(row: dict[str, str]) -> list[str]:
    """A CSV row as the letter page shows it: name (or "Anonymous <category>"), category
    (the kind is the heading of its group of rows), country, role, and a badge only for a
    verified state."""
    name = row["name"] or f"Anonymous {row['category'].lower()}"
    country = row["country"] or (
        "International" if row["kind"] == SignatoryKind.ORGANISATION.label else "Country not stated"
    )
    role = ", ".join(part for part in (row["role"], row["affiliation"]) if part)
    verified = "" if row["verification"] == Verification.UNVERIFIED.label else row["verification"]
    return [name, row["category"], country, role, verified]


@pytest.fixture
def mixed_letter(letter):
    """A letter signed by organisations and people of several categories, countries
    and display choices."""
    make_signature(letter, make_signatory(name="Hope Trust", category=Category.CHARITY))
    make_signature(letter, make_signatory(name="Global Net", category=Category.NETWORK, country=""))
    make_signature(letter, make_signatory(name="Paris Action", category=Category.NGO, country="FR"))
    make_signature(
        letter,
        make_person(
            "Grace Hopper",
            category=Category.EXPERT,
            country="US",
            role="Professor",
            affiliation="Yale",
        ),
    )
    make_signature(
        letter, make_person("Frida Kahlo", category=Category.SURVIVOR), display=Display.FIRST_NAME
    )
    make_signature(
        letter,
        make_person("Jonah Dunmore", category=Category.FAMILY, country="FR"),
        display=Display.INITIALS,
    )
    make_signature(
        letter,
        make_person("Marisol Okonkwo", category=Category.SURVIVOR, country="FR"),
        display=Display.ANONYMOUS,
    )
    make_signature(
        letter,
        make_person("Nadia Hopper", category=Category.ADVOCATE, country=""),
    )
    make_signature(
        letter,
        make_person("Pending Person", country="FR"),
        status=Signature.Status.PENDING,
    )
    return letter


# The response


def test_csv_response_streams(client, mixed_letter):
    response = client.get(csv_url(mixed_letter))

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming


def test_csv_starts_with_utf8_byte_order_mark(client, mixed_letter):
    response = client.get(csv_url(mixed_letter))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbfname,")


def test_csv_header_is_the_documented_columns(client, mixed_letter):
    header, *_ = csv_table(client.get(csv_url(mixed_letter)))

    assert header == DOCUMENTED_COLUMNS


def test_csv_is_an_attachment_named_after_the_letter_and_the_day(client, mixed_letter):
    response = client.get(csv_url(mixed_letter))

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{mixed_letter.slug}-signatories-{today}.csv"'
    )


def test_a_filtered_csv_is_named_after_its_filters(client, mixed_letter):
    response = client.get(
        csv_url(mixed_letter, country="gb", kind="individual", q="Zoë  Adams!", page="2")
    )

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{mixed_letter.slug}-signatories-kind-individual-country-GB-'
        f'search-{today}.csv"'
    )
    # The search text is not echoed: it may be a name its signer chose to hide.
    assert "zo" not in response["Content-Disposition"].split("signatories")[1]


def test_a_csv_with_an_unknown_filter_value_says_so_in_its_name(client, mixed_letter):
    response = client.get(csv_url(mixed_letter, country="XX"))

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{mixed_letter.slug}-signatories-unknown-filter-{today}.csv"'
    )
    assert len(csv_table(response)) == 1  # the header alone


def test_csv_of_a_draft_letter_404s(client):
    draft = make_letter(status=Letter.Status.DRAFT)
    make_signature(draft, make_person("Grace Hopper"))

    response = client.get(csv_url(draft))

    assert response.status_code == 404
    assert b"Grace Hopper" not in response.content


def test_csv_of_an_unknown_letter_404s(client):
    assert client.get("/letters/no-such-letter/signatures.csv").status_code == 404


# Rows: the page's list, in full


def test_csv_rows_match_the_letter_page_rows(client, mixed_letter):
    rows = csv_rows(client.get(csv_url(mixed_letter)))

    assert len(rows) == Signature.objects.public().for_letter(mixed_letter).count()
    assert [as_on_page(row) for row in rows] == page_rows(client, mixed_letter)


def test_csv_shows_each_name_in_its_chosen_form_in_page_order(client, mixed_letter):
    names = [row["name"] for row in csv_rows(client.get(csv_url(mixed_letter)))]

    # Organisations, then people by the name as shown, then initials and anonymous
    # ones in the order they signed; the pending signature not at all.
    assert names == [
        "Global Net",
        "Hope Trust",
        "Paris Action",
        "Frida",
        "Grace Hopper",
        "Nadia Hopper",
        "J. D.",
        "",
    ]


def test_csv_anonymous_row_has_an_empty_name(client, letter):
    make_signature(
        letter,
        make_person("Marisol Okonkwo", category=Category.SURVIVOR),
        display=Display.ANONYMOUS,
        statement="For my sister.",
    )

    [row] = csv_rows(client.get(csv_url(letter)))

    assert row["name"] == ""
    assert row["name_shown_as"] == Display.ANONYMOUS.label
    assert row["statement"] == "For my sister."
    assert "Marisol" not in csv_body(client.get(csv_url(letter)))


def test_csv_lists_every_signature_without_pagination(client, letter):
    count = settings.SIGNATURES_PER_PAGE * 2 + 20
    make_many_signatures(letter, count)

    rows = csv_rows(client.get(csv_url(letter, page=2)))

    assert len(rows) == count
    assert [as_on_page(row) for row in rows] == page_rows(client, letter)


def test_csv_query_count_does_not_grow_with_rows(client):
    def queries_for(letter):
        with CaptureQueriesContext(connection) as captured:
            csv_body(client.get(csv_url(letter)))
        return len(captured)

    small, large = make_letter(), make_letter()
    make_many_signatures(small, 3)
    make_many_signatures(large, 150)

    assert queries_for(large) == queries_for(small)


# Filters: the page's list, same parameters


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "organisation"},
        {"kind": "individual"},
        {"category": "survivor"},
        {"category": "charity"},
        {"country": "FR"},
        {"country": "fr"},
        {"q": "hopper"},
        {"q": "Frida"},
        {"kind": "individual", "country": "FR"},
    ],
    ids=lambda params: urlencode(params),
)
def test_csv_filter_gives_the_same_rows_as_the_page(client, mixed_letter, params):
    everyone = csv_rows(client.get(csv_url(mixed_letter)))

    rows = csv_rows(client.get(csv_url(mixed_letter, **params)))

    assert 0 < len(rows) < len(everyone)
    assert [as_on_page(row) for row in rows] == page_rows(client, mixed_letter, **params)


def test_csv_country_filter_keeps_only_that_country(client, mixed_letter):
    rows = csv_rows(client.get(csv_url(mixed_letter, country="fr")))

    assert {row["country_code"] for row in rows} == {"FR"}


def test_csv_category_filter_keeps_only_that_category(client, mixed_letter):
    rows = csv_rows(client.get(csv_url(mixed_letter, category="survivor")))

    assert {row["category"] for row in rows} == {Category.SURVIVOR.label}


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "robot"},
        {"category": "villain"},
        {"country": "ZZ"},
        {"country": "FRA"},
        {"q": "x" * 101},
        {"q": "Grace\x00"},
        {"kind": "individual", "country": "nowhere"},
    ],
    ids=["kind", "category", "country", "country-alpha3", "q-too-long", "q-nul", "one-of-two"],
)
def test_csv_invalid_filter_gives_no_rows(client, mixed_letter, params):
    response = client.get(csv_url(mixed_letter, **params))

    assert csv_table(response) == [DOCUMENTED_COLUMNS]


@pytest.mark.parametrize(
    "params",
    [{"kind": "robot"}, {"country": "ZZ"}, {"q": "x" * 101}, {"q": "Grace\x00"}],
    ids=["kind", "country", "q-too-long", "q-nul"],
)
def test_letter_page_with_invalid_filter_lists_no_one(client, mixed_letter, params):
    response = client.get(letter_url(mixed_letter, **params))

    assert response.status_code == 200
    assert "Some filters were not understood" in response.content.decode()
    assert page_rows(client, mixed_letter, **params) == []


# Spreadsheet safety


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=repr)
def test_csv_statement_starting_like_a_formula_gets_a_leading_quote(client, letter, prefix):
    statement = f'{prefix}HYPERLINK("https://evil.example","click")'
    make_signature(letter, make_person("Grace Hopper"), statement=statement)

    [row] = csv_rows(client.get(csv_url(letter)))

    assert row["statement"] == "'" + statement


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_csv_name_starting_like_a_formula_gets_a_leading_quote(client, letter, prefix):
    name = f"{prefix}SUM(A1:A9) Smith"
    make_signature(letter, make_person(name))

    [row] = csv_rows(client.get(csv_url(letter)))

    assert row["name"] == "'" + name


@pytest.mark.parametrize("prefix", ["=", "-", "@"])
def test_csv_first_name_starting_like_a_formula_gets_a_leading_quote(client, letter, prefix):
    make_signature(letter, make_person(f"{prefix}cmd Smith"), display=Display.FIRST_NAME)

    [row] = csv_rows(client.get(csv_url(letter)))

    assert row["name"] == f"'{prefix}cmd"


def test_csv_cell_with_formula_character_inside_is_left_alone(client, letter):
    make_signature(
        letter, make_person("Anne-Marie Smith"), statement="Safety = design, not @afterthought."
    )

    [row] = csv_rows(client.get(csv_url(letter)))

    assert (row["name"], row["statement"]) == (
        "Anne-Marie Smith",
        "Safety = design, not @afterthought.",
    )


@pytest.mark.parametrize(
    "name",
    ["Zoë Åström", "Σοφία Παπαδοπούλου", "فاطمة الزهراء", "李小龍", "Łukasz Żółć-Ñúñez"],
)
def test_csv_non_ascii_name_round_trips(client, letter, name):
    make_signature(letter, make_person(name), statement=f"— {name} ✊")

    [row] = csv_rows(client.get(csv_url(letter)))

    assert (row["name"], row["statement"]) == (name, f"— {name} ✊")
    assert [cells[0] for cells in page_rows(client, letter)] == [name]


def test_csv_non_ascii_first_name_shows_only_the_first_word(client, letter):
    make_signature(letter, make_person("Zoë Åström"), display=Display.FIRST_NAME)

    [row] = csv_rows(client.get(csv_url(letter)))

    assert row["name"] == "Zoë"
    assert "Åström" not in csv_body(client.get(csv_url(letter)))


# The staff export with private fields


def _private_export(client, signatures):
    return client.post(
        ADMIN_CHANGELIST,
        {
            "action": "export_private_csv",
            "_selected_action": [s.pk for s in signatures],
            "index": "0",
        },
    )


def _staff_user(*codenames: str) -> User:
    user = User.objects.create_user("staffer", password="not-used", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="signatories", codename__in=codenames)
    )
    return user


@pytest.fixture
def private_signatures(letter):
    return [
        make_signature(
            letter,
            make_person("Ines Harrow", email="ines@example.org", notes="Met at the rally."),
            display=Display.ANONYMOUS,
            notes="Verified by phone.",
        ),
        make_signature(letter, make_person("Grace Hopper", email="grace@example.org")),
    ]


def test_private_export_includes_emails_and_notes_for_a_superuser(admin_client, private_signatures):
    unselected = make_signature(
        private_signatures[0].letter, make_person("Not Chosen", email="not-chosen@example.org")
    )

    response = _private_export(admin_client, private_signatures)

    rows = csv_rows(response)
    assert response["Content-Disposition"].startswith('attachment; filename="signatures-private-')
    assert [row["email"] for row in rows] == [s.signatory.email for s in private_signatures]
    assert rows[0]["name"] == "Ines Harrow"
    assert rows[0]["signatory_notes"] == "Met at the rally."
    assert rows[0]["signature_notes"] == "Verified by phone."
    assert unselected.signatory.email not in {row["email"] for row in rows}


def test_private_export_refused_for_staff_without_export_permission(client, private_signatures):
    client.force_login(_staff_user("view_signature", "change_signature"))

    changelist = client.get(ADMIN_CHANGELIST)
    response = _private_export(client, private_signatures)

    assert changelist.status_code == 200
    assert 'value="hide"' in changelist.content.decode()
    assert 'value="export_private_csv"' not in changelist.content.decode()
    assert not response.streaming
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert "ines@example.org" not in follow.content.decode()


def test_private_export_allowed_for_staff_with_export_permission(client, private_signatures):
    client.force_login(
        _staff_user("view_signature", "change_signature", "export_private_signatures")
    )

    changelist = client.get(ADMIN_CHANGELIST)
    response = _private_export(client, private_signatures)

    assert 'value="export_private_csv"' in changelist.content.decode()
    assert [row["email"] for row in csv_rows(response)] == [
        s.signatory.email for s in private_signatures
    ]


# Revalidation: an ETag that changes whenever what the file holds changes


def revalidate(client, url: str, etag: str):
    return client.get(url, headers={"if-none-match": etag})


def test_csv_sends_an_etag_and_answers_304_when_nothing_changed(client, letter):
    make_signature(letter=letter, signatory=make_person(name="Grace Hopper"))
    first = client.get(csv_url(letter))
    csv_body(first)
    etag = first["ETag"]

    again = revalidate(client, csv_url(letter), etag)

    assert etag.startswith('"') and etag.endswith('"')
    assert again.status_code == 304
    assert not again.streaming and again.content == b""
    assert again["ETag"] == etag
    assert "max-age=60" in again["Cache-Control"]


def test_csv_304_costs_the_same_queries_at_any_size(client):
    def revalidation_queries(letter):
        etag = client.get(csv_url(letter))["ETag"]
        with CaptureQueriesContext(connection) as captured:
            assert revalidate(client, csv_url(letter), etag).status_code == 304
        return len(captured)

    small, large = make_letter(), make_letter()
    make_many_signatures(small, 3)
    make_many_signatures(large, 150)

    assert revalidation_queries(small) == revalidation_queries(large) == 2


def test_csv_etag_differs_per_filter(client, mixed_letter):
    everyone = client.get(csv_url(mixed_letter))["ETag"]
    french = client.get(csv_url(mixed_letter, country="FR"))["ETag"]

    assert everyone != french
    assert revalidate(client, csv_url(mixed_letter, country="FR"), everyone).status_code == 200


def _rename(signature):
    update_signatory(signatory=signature.signatory, name="Ada Lovelace")


def _withdraw(signature):
    signature.status = Signature.Status.WITHDRAWN
    signature.save()


def _hide_name(signature):
    signature.display = Display.INITIALS
    signature.save()


def _delete(signature):
    signature.delete()


def _add_another(signature):
    make_signature(letter=signature.letter, signatory=make_person(name="Frida Kahlo"))


def _move_country(signature):
    update_signatory(signatory=signature.signatory, country="FR")


@pytest.mark.parametrize(
    "change", [_rename, _withdraw, _hide_name, _delete, _add_another, _move_country]
)
def test_csv_etag_changes_with_what_the_file_holds(client, letter, change):
    make_signature(letter=letter, signatory=make_person(name="Alan Turing"))
    signature = make_signature(letter=letter, signatory=make_person(name="Grace Hopper"))
    # Stamped long ago, so a change made in the same microsecond still moves the clock.
    Signature.objects.filter(letter=letter).update(updated_at=timezone.now().replace(year=2020))
    response = client.get(csv_url(letter))
    before, etag = csv_body(response), response["ETag"]

    change(signature)
    fresh = revalidate(client, csv_url(letter), etag)

    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert csv_body(fresh) != before


def test_csv_etag_for_an_unknown_letter_is_a_404(client):
    assert client.get("/letters/no-such-letter/signatures.csv").status_code == 404

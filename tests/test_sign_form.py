"""The sign form as a signer meets it: the kind first (no script needed), then only that
kind's fields; an optional category for people; an error summary that takes focus and
links to the inputs; autocomplete hints; page titles that say where the signer stands."""

import re

import pytest
from django.db import IntegrityError, transaction

from signatories.models import (
    ORGANISATION_CATEGORIES,
    Category,
    Signatory,
    SignatoryKind,
    Signature,
)
from tests.factories import make_letter
from tests.helpers import csv_rows, csv_url, elements_by_id, parse, shown_count, sign
from tests.test_signing import (
    field_error,
    last_links,
    sign_and_confirm,
    sign_url,
)

pytestmark = pytest.mark.django_db

PERSON_ONLY = ["id_display_0", "id_role", "id_affiliation"]
ORGANISATION_ONLY = ["id_website"]


@pytest.fixture
def letter(db):
    return make_letter(accepts_public_signatures=True)


def step_two(client, letter, kind: str):
    return client.get(sign_url(letter) + f"?as={kind}")


def title(response) -> str:
    match = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    return " ".join(match.group(1).split())


# Step 1: how are you signing?


def test_sign_page_first_asks_how_you_sign_with_plain_links(client, letter):
    response = client.get(sign_url(letter))

    elements = elements_by_id(response)
    assert elements["as-individual"][1]["href"] == sign_url(letter) + "?as=individual"
    assert elements["as-organisation"][1]["href"] == sign_url(letter) + "?as=organisation"
    assert "How are you signing?" in response.content.decode()
    assert "id_name" not in elements
    assert 'method="post"' not in response.content.decode()


@pytest.mark.parametrize("query", ["?as=robot", "?as=", "?as=INDIVIDUAL", "?as=<b>"])
def test_unknown_kind_shows_the_first_step_without_an_error(client, letter, query):
    response = client.get(sign_url(letter) + query)

    assert response.status_code == 200
    assert "as-individual" in elements_by_id(response)
    assert "There is a problem" not in response.content.decode()
    assert title(response).startswith("Sign: ")


def test_form_posted_without_a_kind_asks_for_it_again_and_writes_nothing(client, letter):
    response = sign(client, letter, kind="")

    assert response.status_code == 200
    elements = elements_by_id(response)
    assert "as-individual" in elements and "id_name" not in elements
    assert parse(response).summary_hrefs == ["#as-individual"]
    assert title(response).startswith("Error: Sign: ")
    assert not Signature.objects.exists()


# Step 2: one kind's fields only


def test_individual_step_shows_only_a_persons_fields(client, letter):
    response = step_two(client, letter, "individual")

    elements = elements_by_id(response)
    for field in ["id_name", "id_email", "id_category", "id_country", "id_consent", *PERSON_ONLY]:
        assert field in elements, field
    for field in ORGANISATION_ONLY:
        assert field not in elements, field
    assert elements["id_kind"][1] == {
        "type": "hidden",
        "name": "kind",
        "value": "individual",
        "id": "id_kind",
    }
    assert elements["id_stamp"][1]["type"] == "hidden" and elements["id_stamp"][1]["value"]
    assert elements["id_homepage"][1]["tabindex"] == "-1"
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_organisation_step_shows_only_an_organisations_fields(client, letter):
    response = step_two(client, letter, "organisation")

    elements = elements_by_id(response)
    for field in [
        "id_name",
        "id_email",
        "id_category",
        "id_country",
        "id_consent",
        *ORGANISATION_ONLY,
    ]:
        assert field in elements, field
    for field in PERSON_ONLY:
        assert field not in elements, field
    assert elements["id_kind"][1]["value"] == "organisation"
    offered = [value for value, _, _ in parse(response).options["id_category"]]
    assert offered == ["", *(c.value for c in ORGANISATION_CATEGORIES)]


@pytest.mark.parametrize("kind", ["individual", "organisation"])
def test_second_step_links_back_to_change_the_kind(client, letter, kind):
    response = step_two(client, letter, kind)

    change = f'<a href="{sign_url(letter)}">Change<span class="visually-hidden"> how you are'
    assert change in response.content.decode()


def test_display_choice_comes_right_after_the_name(client, letter):
    html = step_two(client, letter, "individual").content.decode()

    assert (
        html.index('id="id_name"') < html.index('id="id_display_0"') < html.index('id="id_email"')
    )
    assert "How should your name appear on the letter?" in html


@pytest.mark.parametrize("kind", ["individual", "organisation"])
def test_each_step_records_a_signature_when_posted(client, letter, kind):
    changes = {"kind": kind}
    if kind == "organisation":
        changes |= {
            "name": "Example Trust",
            "category": "charity",
            "website": "https://example.net",
        }

    response = sign(client, letter, **changes)

    assert response.status_code == 302
    assert Signature.objects.get().signatory.kind == kind


# Category: optional for people, with "prefer not to say"


def test_individual_category_offers_prefer_not_to_say_chosen_by_default(client, letter):
    options = parse(step_two(client, letter, "individual")).options["id_category"]

    assert options[0] == ("prefer_not_to_say", "Prefer not to say", True)
    assert [value for value, _, _ in options[1:]] == [
        "survivor",
        "family",
        "expert",
        "advocate",
        "other",
    ]


@pytest.mark.parametrize("sent", ["", "prefer_not_to_say"])
def test_individual_who_prefers_not_to_say_is_counted_and_shown_as_not_stated(client, letter, sent):
    sign_and_confirm(client, letter, category=sent, name="Ada Lovelace", display="full")

    assert Signatory.objects.get().category == "prefer_not_to_say"
    assert shown_count(client, letter) == 1
    page = client.get(letter.get_absolute_url()).content.decode()
    assert re.search(
        r'<th scope="row">Not stated \(individual\)</th>\s*<td class="num">1</td>', page
    )
    filtered = client.get(letter.get_absolute_url(), {"category": "prefer_not_to_say"})
    assert "Ada Lovelace" in filtered.content.decode()
    assert '<option value="prefer_not_to_say">Not stated</option>' in page
    [row] = csv_rows(client.get(csv_url(letter, category="prefer_not_to_say")))
    assert (row["name"], row["category"]) == ("Ada Lovelace", "Not stated")


def test_anonymous_signer_who_prefers_not_to_say_is_shown_as_just_anonymous(client, letter):
    sign_and_confirm(client, letter, category="", display="anonymous")

    page = client.get(letter.get_absolute_url()).content.decode()
    assert '<span class="anonymous">Anonymous</span>' in page
    assert "Anonymous not stated" not in page


def test_organisation_without_a_category_is_refused_with_a_clear_message(client, letter):
    response = sign(client, letter, kind="organisation", category="", website="https://example.net")

    assert response.status_code == 200
    assert field_error(response, "category") == (
        "Error: Choose what kind of organisation this is: organisations must say."
    )
    assert not Signature.objects.exists()


def test_organisation_cannot_prefer_not_to_say(client, letter):
    response = sign(
        client,
        letter,
        kind="organisation",
        category="prefer_not_to_say",
        website="https://example.net",
    )

    assert "You are signing for an organisation" in field_error(response, "category")
    assert not Signature.objects.exists()


def test_database_refuses_an_organisation_that_prefers_not_to_say():
    with pytest.raises(IntegrityError), transaction.atomic():
        Signatory.objects.create(
            name="Example Trust",
            slug="example-trust",
            kind=SignatoryKind.ORGANISATION,
            category=Category.PREFER_NOT_TO_SAY,
        )


# Errors: a summary that takes focus and links to the inputs themselves


def test_error_summary_has_a_heading_takes_focus_and_links_to_real_inputs(client, letter):
    response = sign(client, letter, name="", email="nope", display="everything", consent="")

    html = response.content.decode()
    summary = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in summary and "autofocus" in summary
    assert 'aria-labelledby="error-summary-title"' in summary
    assert elements_by_id(response)["error-summary-title"][0] == "h2"
    hrefs = parse(response).summary_hrefs
    assert hrefs == ["#id_name", "#id_display_0", "#id_email", "#id_consent"]
    elements = elements_by_id(response)
    for href in hrefs:
        assert elements[href[1:]][0] in ("input", "select", "textarea"), href
    assert elements["id_display_0"][1]["type"] == "radio"


def test_organisation_error_summary_links_to_the_website_and_category_inputs(client, letter):
    response = sign(client, letter, kind="organisation", category="", website="")

    hrefs = parse(response).summary_hrefs
    assert hrefs == ["#id_website", "#id_category"]
    elements = elements_by_id(response)
    assert elements["id_website"][0] == "input" and elements["id_category"][0] == "select"


def test_invalid_fields_point_aria_describedby_at_their_error_messages(client, letter):
    response = sign(client, letter, name="", email="nope", statement="x" * 1001, consent="")

    elements = elements_by_id(response)
    invalid = {id_: attrs for id_, (_, attrs) in elements.items() if attrs.get("aria-invalid")}
    assert set(invalid) == {"id_name", "id_email", "id_statement", "id_consent"}
    for id_, attrs in invalid.items():
        described = attrs["aria-describedby"].split()
        assert f"{id_}_error" in described, id_
        for target in described:
            assert target in elements, (id_, target)
        assert elements[f"{id_}_error"][1]["class"] == "error-message"
    assert field_error(response, "statement").startswith(
        "Error: The statement can be at most 1000 characters"
    )


def test_radio_group_errors_are_described_on_its_fieldset(client, letter):
    response = sign(client, letter, display="everything")

    html = response.content.decode()
    assert re.search(r'<fieldset aria-describedby="id_display_helptext id_display_error">', html)
    assert 'id="id_display_error"' in html


# Autocomplete


def test_person_fields_carry_autocomplete_hints(client, letter):
    elements = elements_by_id(step_two(client, letter, "individual"))

    expected = {
        "id_name": "name",
        "id_email": "email",
        "id_country": "country",
        "id_role": "organization-title",
        "id_affiliation": "organization",
        "id_statement": "off",
        "id_homepage": "off",
    }
    assert {id_: elements[id_][1].get("autocomplete") for id_ in expected} == expected
    assert elements["id_email"][1]["type"] == "email"


def test_organisation_fields_carry_autocomplete_hints(client, letter):
    elements = elements_by_id(step_two(client, letter, "organisation"))

    assert elements["id_name"][1]["autocomplete"] == "organization"
    assert elements["id_website"][1]["autocomplete"] == "url"
    assert elements["id_website"][1]["type"] == "url"
    assert elements["id_email"][1]["autocomplete"] == "email"


# Titles that follow the state


def test_sign_form_title_says_when_sending_failed(client, letter):
    assert title(step_two(client, letter, "individual")) == f"Sign: {letter.title} · Undersigned"
    failed = sign(client, letter, email="nope")
    assert title(failed) == f"Error: Sign: {letter.title} · Undersigned"


def test_titles_follow_a_signature_from_sending_to_withdrawal(client, letter):
    response = sign(client, letter)
    assert title(client.get(response["Location"])).startswith("Check your email to confirm")

    links = last_links("ada@example.net")
    assert title(client.get(links["confirm"])).startswith("Confirm your signature: ")
    assert title(client.post(links["confirm"])).startswith("Signature confirmed: ")
    assert title(client.get(links["confirm"])).startswith("Signature already confirmed: ")
    assert title(client.get(links["withdraw"])).startswith("Withdraw your signature: ")
    assert title(client.post(links["withdraw"])).startswith("Signature withdrawn: ")


def test_confirmed_title_says_when_a_moderator_will_check_first(client):
    letter = make_letter(accepts_public_signatures=True, moderate_public_signatures=True)
    sign(client, letter)

    response = client.post(last_links("ada@example.net")["confirm"])

    assert title(response).startswith("Signature received, waiting for a moderator: ")


def test_refused_links_say_why_in_their_title(client, letter, settings):
    sign(client, letter)
    confirm = last_links("ada@example.net")["confirm"]
    broken = confirm.rstrip("/")[:-3] + "xyz/"
    assert title(client.get(broken)).startswith("This link does not work")

    settings.SIGN_CONFIRMATION_MAX_AGE = -1
    assert title(client.get(confirm)).startswith("This link has expired")

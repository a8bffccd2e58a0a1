"""Choosing in the admin's preview: each value the site does not know mapped once, a new
row taken as one of its possible duplicates, the name as the public will see it, and the
file checked again with those choices, which the confirmation then imports."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from signatories.models import Category, Signatory, Signature, SignatureImport
from tests.factories import make_signatory

pytestmark = pytest.mark.django_db

FILE = Path(__file__).resolve().parent / "files" / "free_text_values.csv"


def url(letter) -> str:
    return reverse("admin:letters_letter_import", args=[letter.pk])


def upload(client, letter, data: bytes, name: str = "file.csv"):
    return client.post(url(letter), {"file": SimpleUploadedFile(name, data)})


def latest() -> SignatureImport:
    return SignatureImport.objects.latest("pk")


def test_unknown_values_are_offered_once_each_with_their_rows(admin_client, letter):
    response = upload(admin_client, letter, FILE.read_bytes(), FILE.name)

    page = response.content.decode()
    assert "Values the site does not know" in page
    # One select per value, however many rows use it, whatever its case.
    assert page.count('name="map:category@individual:advocacy"') == 1
    assert "<td>category (individuals)</td>" in page
    assert "<td>“advocacy”</td>\\n        <td>2</td>".replace("\\n", "\n") in page
    assert 'name="map:country:Ruritania"' in page
    assert '<option value="GB">United Kingdom (GB)</option>' in page
    assert "Confirm import" not in page
    # The file is kept so that it can be checked again.
    assert latest().status == SignatureImport.Status.PREVIEWED
    assert bytes(latest().content) == FILE.read_bytes()


def test_mapping_in_the_admin_checks_the_file_again_and_imports_it(admin_client, letter):
    upload(admin_client, letter, FILE.read_bytes(), FILE.name)
    first = latest()

    response = admin_client.post(
        url(letter),
        {
            "recheck": first.pk,
            "map:category@organisation:survivor collective": "network",
            "map:category@organisation:Advocacy org": "advocacy_group",
            "map:category@individual:advocacy": "advocate",
            "map:country:Ruritania": "GB",
            "map:display:Only initials": "initials",
        },
    )

    page = response.content.decode()
    second = latest()
    assert second.pk != first.pk
    assert second.mapping == {
        "category@organisation": {
            "survivor collective": "network",
            "advocacy org": "advocacy_group",
        },
        "category@individual": {"advocacy": "advocate"},
        "country": {"ruritania": "GB"},
        "display": {"only initials": "initials"},
    }
    first.refresh_from_db()
    assert (first.status, bytes(first.content)) == (SignatureImport.Status.REFUSED, b"")
    assert "Confirm import" in page
    assert "Values the site does not know" not in page
    assert not Signature.objects.exists()

    admin_client.post(url(letter), {"confirm": second.pk})

    assert Signatory.objects.get(name="Rae Person").category == Category.ADVOCATE
    assert Signatory.objects.get(name="Hope Network").country == "GB"
    assert Signature.objects.get(signatory__name="Kim Person").display == "initials"


def test_a_mapping_that_does_not_fit_is_reported_and_the_file_stays_refused(admin_client, letter):
    upload(admin_client, letter, FILE.read_bytes(), FILE.name)

    response = admin_client.post(
        url(letter),
        {"recheck": latest().pk, "map:category:advocacy": "charity", "map:kind:x": "nonsense"},
        follow=True,
    )

    page = response.content.decode()
    assert "“nonsense” is not a kind" in page
    assert "“advocacy” is not a category for individuals" in page
    assert "Confirm import" not in page
    assert not Signature.objects.exists()


def test_the_preview_shows_each_name_as_the_public_will_see_it(admin_client, letter):
    data = (
        b"name,display\nAda Lovelace,full\nBob Hidden,first_name\nJo Initials,initials\n"
        b"Anon Person,anonymous\n"
    )

    page = upload(admin_client, letter, data).content.decode()

    for shown in ("<td>Ada Lovelace</td>", "<td>Bob</td>", "<td>J. I.</td>", "<td>Anonymous</td>"):
        assert shown in page
    assert '<th scope="col">Shown as</th>' in page


def test_choosing_same_as_in_the_admin_signs_as_that_signatory(admin_client, letter):
    barnardos = make_signatory(name="Barnardo’s", country="GB")
    page = upload(
        admin_client, letter, b"name,kind,category\nBarnardos UK,organisation,charity\n"
    ).content.decode()
    assert 'name="same_as:2"' in page
    assert f'<option value="{barnardos.pk}">Same as “Barnardo’s” (GB)</option>' in page

    page = admin_client.post(
        url(letter), {"recheck": latest().pk, "same_as:2": str(barnardos.pk)}
    ).content.decode()

    assert f'<option value="{barnardos.pk}" selected>' in page
    assert "Matches an existing signatory" in page
    admin_client.post(url(letter), {"confirm": latest().pk})
    assert list(Signature.objects.values_list("signatory", flat=True)) == [barnardos.pk]
    assert Signatory.objects.count() == 1


def test_checking_again_twice_is_refused(admin_client, letter):
    upload(admin_client, letter, FILE.read_bytes(), FILE.name)
    first = latest()
    admin_client.post(url(letter), {"recheck": first.pk})

    response = admin_client.post(url(letter), {"recheck": first.pk}, follow=True)

    assert "already confirmed or refused" in response.content.decode()


@pytest.mark.parametrize("value", ["x", "", "99999"])
def test_a_recheck_naming_no_import_of_ones_own_is_not_found(admin_client, letter, value):
    response = admin_client.post(url(letter), {"recheck": value})

    assert response.status_code == 404


@override_settings(IMPORT_BACKGROUND_ROWS=1)
def test_a_big_file_checked_again_goes_to_the_worker_with_its_choices(
    admin_client, letter, django_capture_on_commit_callbacks
):
    # Tasks run as they are queued here, once the request's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, letter, FILE.read_bytes(), FILE.name)
    first = latest()
    assert (first.background, first.status) == (True, SignatureImport.Status.PREVIEWED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url(letter),
            {
                "recheck": first.pk,
                "map:category@organisation:survivor collective": "network",
                "map:category@organisation:Advocacy org": "advocacy_group",
                "map:category@individual:advocacy": "advocate",
                "map:country:Ruritania": "GB",
                "map:display:Only initials": "initials",
            },
        )

    second = latest()
    assert response.status_code == 302
    assert (second.background, second.status) == (True, SignatureImport.Status.PREVIEWED)
    assert second.mapping["country"] == {"ruritania": "GB"}
    page = admin_client.get(response.url).content.decode()
    assert "Confirm import" in page

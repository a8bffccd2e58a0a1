"""The site's own files import back: the staff export (with private fields) into another
letter gives the same public list, row for row, with every display choice, category,
country, date, statement and verification; the public CSV imports what it shows in full
and reports the names it hides instead of making "Bob" a signatory named in full."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from signatories.importers import Outcome, import_signatures
from signatories.models import Category, Display, Signatory, Signature, Verification
from signatories.tallies import refresh_tally
from tests.factories import make_letter, make_person, make_signatory, make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    letter = make_letter(slug="source-letter")
    make_signature(
        letter,
        make_signatory(name="Barnardo’s", country="GB", website="https://www.barnardos.org.uk"),
        statement="We stand with survivors.",
        signed_on=datetime.date(2023, 9, 14),
        verification=Verification.ORGANISATION_CONFIRMED,
        verified_at=datetime.datetime(2023, 9, 15, 10, 30, tzinfo=datetime.UTC),
    )
    make_signature(letter, make_signatory(name="=Formula Charity", country="DE"))
    make_signature(
        letter,
        make_person("Bob Hidden-Surname", country="FR", email="bob@example.org"),
        display=Display.FIRST_NAME,
    )
    make_signature(
        letter,
        make_person("Jo Initials", category=Category.FAMILY, country="ES"),
        display=Display.INITIALS,
        statement="Para mi hija.",
    )
    make_signature(
        letter,
        make_person("Anon Person", category=Category.EXPERT, country="DK"),
        display=Display.ANONYMOUS,
        verification=Verification.STAFF_VETTED,
        verified_at=datetime.datetime(2023, 9, 20, tzinfo=datetime.UTC),
    )
    make_signature(
        letter,
        make_person("Zoë Full Name", category=Category.ADVOCATE, country="US"),
        signed_on=datetime.date(2023, 9, 25),
    )
    return letter


def staff_export(client, letter) -> bytes:
    user = User.objects.create_user("exporter", password="not-used", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="signatories",
            codename__in=["view_signature", "change_signature", "export_private_signatures"],
        )
    )
    client.force_login(user)
    response = client.post(
        "/admin/signatories/signature/",
        {
            "action": "export_private_csv",
            "_selected_action": list(letter.signatures.values_list("pk", flat=True)),
            "index": "0",
        },
    )
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def public_csv(client, letter) -> bytes:
    response = client.get(reverse("signatories:letter_csv", args=[letter.slug]))
    return b"".join(response.streaming_content)


def public_rows(client, letter) -> list[dict]:
    refresh_tally(letter.pk)
    rows = list(csv.DictReader(io.StringIO(public_csv(client, letter).decode("utf-8-sig"))))
    for row in rows:
        row.pop("profile_url")  # each signatory's own page: the same pages, by address
    return rows


def every_field(letter) -> dict:
    """Each signatory's name → what its signature and record hold, as the export has it."""
    return {
        s.signatory.name: (
            s.display,
            s.signatory.kind,
            s.signatory.category,
            s.signatory.country.code,
            s.signatory.email,
            s.signatory.website,
            s.signed_on,
            s.statement,
            s.verification,
            s.verified_at,
        )
        for s in Signature.objects.filter(letter=letter).select_related("signatory")
    }


def test_staff_export_imports_into_an_empty_letter_as_the_same_public_list(client, source):
    data = staff_export(client, source)
    target = make_letter(slug="target-letter")

    report = import_signatures(
        letter=target, data=data, filename="staff.csv", dry_run=False, publish=True
    )

    assert report.ok, report.file_errors or report.errors
    assert report.unknown_columns == []
    # Matched, not copied: each signatory signs the second letter as itself.
    assert {row.outcome for row in report.rows} == {Outcome.MATCH}
    assert Signatory.objects.count() == 6
    client.logout()
    assert public_rows(client, target) == public_rows(client, source)
    pairs = {
        (s.signatory.name, s.display, s.verification, s.verified_at, s.signed_on, s.statement)
        for s in Signature.objects.filter(letter=target).select_related("signatory")
    }
    assert pairs == {
        (s.signatory.name, s.display, s.verification, s.verified_at, s.signed_on, s.statement)
        for s in Signature.objects.filter(letter=source).select_related("signatory")
    }


def test_staff_export_imports_into_an_empty_database_with_every_field(client, source):
    data = staff_export(client, source)
    before = every_field(source)
    Signature.objects.all().delete()
    Signatory.objects.all().delete()
    target = make_letter(slug="fresh-letter")

    report = import_signatures(letter=target, data=data, filename="staff.csv", dry_run=False)

    assert report.ok, report.file_errors or report.errors
    assert {row.outcome for row in report.rows} == {Outcome.NEW}
    after = every_field(target)
    assert after == before


def test_the_public_csv_imports_full_names_and_reports_hidden_ones(client, source):
    data = public_csv(client, source)
    Signature.objects.all().delete()
    Signatory.objects.all().delete()
    target = make_letter(slug="from-public")

    report = import_signatures(letter=target, data=data, filename="public.csv", dry_run=False)

    assert report.ok, report.file_errors or report.errors
    assert report.unknown_columns == []
    imported = {
        s.signatory.name: (s.display, s.signatory.country.code, s.signed_on, s.verification)
        for s in Signature.objects.filter(letter=target).select_related("signatory")
    }
    # Named in full in the public file: imported as such, with the code, not the name, of
    # the country. "Bob" (a first name shown), initials and "Anonymous" are not names.
    assert imported == {
        "Barnardo’s": (Display.FULL, "GB", datetime.date(2023, 9, 14), "organisation_confirmed"),
        "=Formula Charity": (Display.FULL, "DE", None, "unverified"),
        "Zoë Full Name": (Display.FULL, "US", datetime.date(2023, 9, 25), "unverified"),
    }
    assert not Signatory.objects.filter(name__in=["Bob", "J. I.", "Anonymous"]).exists()
    assert any(
        warning.startswith("3 rows (lines ")
        and "a hidden name cannot be imported from the public file; use the staff export" in warning
        for warning in report.warnings
    )

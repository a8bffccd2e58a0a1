"""Values a file uses that the site does not know (a free-text category, a country the
list lacks, a display written as a sentence) are listed once each, with how many rows
use them, and mapped to known values instead of editing the spreadsheet."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from signatories.importers import import_signatures
from signatories.importers.cleaning import parse_mapping
from signatories.models import Category, Display, Signatory, Signature

pytestmark = pytest.mark.django_db

FILE = Path(__file__).resolve().parent / "files" / "free_text_values.csv"


def test_unknown_values_are_listed_once_each_with_their_rows(letter):
    report = import_signatures(
        letter=letter, data=FILE.read_bytes(), filename=FILE.name, dry_run=False
    )

    assert not report.ok
    assert report.unknown_values == {
        # A category by the kind it is for: one value may be mapped one way for each.
        "category@organisation": {"survivor collective": 1, "Advocacy org": 1},
        "category@individual": {"advocacy": 2},
        "country": {"Ruritania": 2},
        "display": {"Only initials": 1},
    }
    assert "Map it to a known value" in report.errors[0].reason
    assert not Signature.objects.exists()


def test_the_command_maps_each_value_once_and_imports(letter):
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_signatures",
        letter.slug,
        str(FILE),
        "--map",
        "category:survivor collective=Collective, coalition or network",  # a label
        "--map",
        "category:ADVOCACY ORG=advocacy_group",  # a code; any case on either side
        "--map",
        "category:advocacy=Advocate",
        "--map",
        "country:Ruritania=gb",
        "--map",
        "display:only initials=initials",
        stdout=out,
        stderr=err,
    )

    assert err.getvalue() == ""
    rows = {
        signatory.name: (signatory.category, signatory.country)
        for signatory in Signatory.objects.all()
    }
    assert rows == {
        "Hope Network": (Category.NETWORK, "GB"),
        "Stand Together": (Category.ADVOCACY_GROUP, "GB"),
        "Rae Person": (Category.ADVOCATE, "GB"),
        "Kim Person": (Category.SURVIVOR, "GB"),
        "Lee Person": (Category.ADVOCATE, "FR"),
    }
    kim = Signature.objects.get(signatory__name="Kim Person")
    assert kim.display == Display.INITIALS


def test_a_mapped_value_must_still_fit_the_kind(letter):
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was written"):
        call_command(
            "import_signatures",
            letter.slug,
            str(FILE),
            "--map",
            "category:survivor collective=network",
            "--map",
            "category:advocacy org=advocacy_group",
            "--map",
            "category:advocacy=advocacy_group",  # an organisations' category, for people
            "--map",
            "country:ruritania=GB",
            "--map",
            "display:only initials=initials",
            stderr=err,
        )

    assert "“advocacy” is not a category for individuals" in err.getvalue()
    assert "“Advocacy” is not a category for individuals" in err.getvalue()
    assert not Signatory.objects.exists()


def test_the_command_lists_unknown_values_with_the_map_to_write(letter):
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(FILE), "--dry-run", stderr=err)

    assert (
        "Unknown category@individual “advocacy” in 2 rows: map it with "
        "--map 'category@individual:advocacy=…'." in err.getvalue()
    )
    assert "Unknown display “Only initials” in 1 row:" in err.getvalue()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("category=charity", "write COLUMN:VALUE=KNOWN"),
        ("category:advocacy=", "write COLUMN:VALUE=KNOWN"),
        ("category:advocacy=lobbyists", "“lobbyists” is not a category: use one of"),
        ("name:Bob=Robert", "“name” cannot be mapped: only kind, category, display, country"),
        (
            "category@organisation:advocacy=advocate",
            "“advocate” is not a category for organisation: use one of",
        ),
        ("country:Ruritania=Atlantis", "“Atlantis” is not a country"),
        ("display:secret=hidden", "“hidden” is not a display"),
    ],
)
def test_a_map_that_cannot_be_used_is_refused_before_reading(letter, entry, message):
    with pytest.raises(ValueError, match=message):
        parse_mapping([entry])
    with pytest.raises(CommandError, match=message):
        call_command("import_signatures", letter.slug, str(FILE), "--map", entry)
    assert not Signatory.objects.exists()


def test_a_value_with_an_equals_sign_or_colon_maps(letter):
    assert parse_mapping(["display:a:b=c=initials"]) == {"display": {"a:b=c": Display.INITIALS}}


def test_one_value_maps_one_way_for_people_and_another_for_organisations(letter):
    data = b"name,kind,category\nRae Person,individual,advocacy\nStand Together,org,Advocacy\n"
    report = import_signatures(
        letter=letter,
        data=data,
        filename="kinds.csv",
        dry_run=False,
        mapping=parse_mapping(
            ["category@individual:advocacy=advocate", "category@organisation:advocacy=ngo"]
        ),
    )

    assert report.ok, report.errors
    assert dict(Signatory.objects.values_list("name", "category")) == {
        "Rae Person": Category.ADVOCATE,
        "Stand Together": Category.NGO,
    }

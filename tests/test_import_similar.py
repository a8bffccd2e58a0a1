"""Possible duplicates in the preview: a new row whose name is like a recorded
signatory's lists it, and staff's "same as …" makes the row a signature of that one."""

import io

import pytest
from django.core.management import call_command

from signatories.importers import Outcome, import_signatures
from signatories.models import Signatory, Signature
from tests.factories import make_letter, make_person, make_signatory, make_signature

pytestmark = pytest.mark.django_db


def preview(letter, text: str, **options):
    return import_signatures(
        letter=letter, data=text.encode(), filename="file.csv", dry_run=True, **options
    )


def test_a_new_organisation_lists_recorded_ones_with_a_similar_name(letter):
    barnardos = make_signatory(name="Barnardo’s", country="GB")
    make_signatory(name="Unrelated Trust", country="GB")
    make_person("Barnardos Uk", country="GB")  # a person: not an organisation's duplicate

    report = preview(letter, "name,kind,category\nBarnardos UK,organisation,charity\n")

    [row] = report.rows
    assert row.outcome == Outcome.NEW
    assert [(m.signatory_id, m.name, m.signed) for m in row.near_matches] == [
        (barnardos.pk, "Barnardo’s", False)
    ]
    assert 0.5 <= row.near_matches[0].similarity < 1


def test_a_near_match_that_already_signed_says_so(letter):
    society = make_signatory(name="The Children's Society", country="GB")
    make_signature(letter, society)

    report = preview(letter, "name,kind,category\nChildrens Society,organisation,charity\n")

    assert [(m.signatory_id, m.signed) for m in report.rows[0].near_matches] == [(society.pk, True)]


def test_people_named_in_full_are_compared_and_hidden_ones_never(letter):
    amal = make_person("Amal Haddad", country="LB")

    report = preview(
        letter,
        "name,display\nAmal Hadad,full\nAmal Hadad,initials\nAmal,first_name\n",
    )

    assert [[m.signatory_id for m in row.near_matches] for row in report.rows] == [
        [amal.pk],
        [],
        [],
    ]


def test_rows_that_match_exactly_have_no_near_matches(letter):
    make_signatory(name="Barnardo's", country="GB")

    report = preview(letter, "name,kind,category\nBARNARDO’S,organisation,charity\n")

    assert report.rows[0].outcome == Outcome.MATCH
    assert report.rows[0].near_matches == []


def test_choosing_same_as_makes_the_row_a_signature_of_that_signatory(letter):
    barnardos = make_signatory(name="Barnardo’s", country="GB")
    data = "name,kind,category\nBarnardos UK,organisation,charity\nBarnardos Uk,org,charity\n"

    report = import_signatures(
        letter=letter,
        data=data.encode(),
        filename="file.csv",
        dry_run=False,
        same_as={2: barnardos.pk},
    )

    assert report.ok, report.errors
    assert [(row.outcome, row.signatory_id, row.duplicate_of) for row in report.rows] == [
        (Outcome.MATCH, barnardos.pk, None),
        (Outcome.DUPLICATE, None, 2),  # the same name again: the first row's signatory
    ]
    assert Signatory.objects.count() == 1
    assert list(Signature.objects.values_list("signatory", flat=True)) == [barnardos.pk]


def test_same_as_a_signatory_that_is_not_a_near_match_is_refused(letter):
    make_signatory(name="Barnardo’s", country="GB")
    other = make_signatory(name="Completely Different", country="GB")

    report = import_signatures(
        letter=letter,
        data=b"name,kind,category\nBarnardos UK,organisation,charity\n",
        filename="file.csv",
        dry_run=False,
        same_as={2: other.pk},
    )

    assert not report.ok
    assert "not one of its possible duplicates" in report.errors[0].reason
    assert not Signature.objects.exists()


def test_same_as_applies_to_one_letter_without_touching_another(letter):
    barnardos = make_signatory(name="Barnardo’s", country="GB")
    other_letter = make_letter()

    import_signatures(
        letter=letter,
        data=b"name,kind,category\nBarnardos UK,organisation,charity\n",
        filename="file.csv",
        dry_run=False,
        same_as={2: barnardos.pk},
    )

    assert not Signature.objects.filter(letter=other_letter).exists()
    assert Signature.objects.get(letter=letter).signatory == barnardos


def test_the_command_names_possible_duplicates(letter, tmp_path):
    barnardos = make_signatory(name="Barnardo’s", country="GB")
    path = tmp_path / "file.csv"
    path.write_text("name,kind,category\nBarnardos UK,organisation,charity\n")
    out = io.StringIO()

    call_command("import_signatures", letter.slug, str(path), "--dry-run", stdout=out)

    assert (
        f"Line 2: new signatory “Barnardos UK” may be “Barnardo’s” (GB, id {barnardos.pk})."
        in out.getvalue()
    )


def test_a_stored_preview_keeps_near_matches_text_lines_and_unknown_values(letter):
    from signatories.importers.stored import restore, store

    make_signatory(name="Barnardo’s", country="GB")
    report = preview(
        letter,
        "name,kind,category,statement\n"
        'Barnardos UK,organisation,charity,"two\nlines"\n'
        "Other Org,organisation,lobbying,\n",
    )

    restored = restore(store(report))

    # The preview shows rows with errors first.
    by_line = {row.line: row for row in restored.rows}
    assert by_line[2].near_matches == report.rows[0].near_matches != []
    assert restored.text_lines == report.text_lines == {3: 4}
    assert restored.unknown_values == {"category@organisation": {"lobbying": 1}}
    assert str(restored.errors[0]) == str(report.errors[0])
    assert str(report.errors[0]).startswith("Line 3 (line 4 in a text editor)")

"""Importing signatories from partners' files: the engine, and the management command.

Files are real ones in ``tests/files/`` (``make_files.py`` there writes the encodings,
the workbook and the binaries); a few large or synthetic ones are made in the test.
"""

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatories.importers import (
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    Outcome,
    import_signatures,
    template_csv,
)
from signatories.models import Category, Display, Signatory, SignatoryKind, Signature
from tests.factories import make_letter, make_person, make_signatory, make_signature

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent / "files"


def run_import(letter, name: str, *, dry_run: bool = False, publish: bool = False):
    return import_signatures(
        letter=letter,
        data=(FILES / name).read_bytes(),
        filename=name,
        dry_run=dry_run,
        publish=publish,
    )


def imported_names(letter) -> list[str]:
    return sorted(Signature.objects.filter(letter=letter).values_list("signatory__name", flat=True))


def nothing_written(letter, signatories_before: int) -> bool:
    return (
        Signatory.objects.count() == signatories_before
        and not Signature.objects.filter(letter=letter).exists()
    )


def error_cells(report) -> list[tuple[int, str]]:
    return [(error.line, error.column) for error in report.errors]


# A good file


def test_good_file_creates_signatories_and_pending_imported_signatures(letter):
    report = run_import(letter, "good.csv")

    assert report.ok, report.errors
    assert report.written
    assert report.counts == {"created": 6, "matched": 0, "skipped": 0, "errors": 0}
    assert [row.line for row in report.rows] == [2, 3, 4, 5, 6, 7]  # a row per record
    people = {s.name: s for s in Signatory.objects.all()}
    assert sorted(people) == [
        "Ada Testperson",
        "Bea Exampleton",
        "Cy Sample",
        "Dee Placeholder",
        "Harbour Street Charity",
        "Northern Lights Network",
    ]
    harbour = people["Harbour Street Charity"]
    assert (harbour.kind, harbour.category, harbour.country.code) == (
        "organisation",
        "charity",
        "GB",
    )
    assert harbour.website == "https://harbour-street.example.org"
    network = people["Northern Lights Network"]
    assert (network.kind, network.category, network.country.code) == (
        SignatoryKind.ORGANISATION,
        Category.NETWORK,
        "NO",
    )
    assert people["Ada Testperson"].email == "ada@example.org"
    bea = people["Bea Exampleton"]
    assert (bea.kind, bea.category, bea.country.code) == ("individual", "expert", "US")
    assert (bea.role, bea.affiliation) == ("Professor of Testing", "University of Nowhere")
    cy = people["Cy Sample"]
    assert (cy.kind, cy.category, cy.country.code) == ("individual", "other", "FR")
    assert people["Dee Placeholder"].country.code == ""

    signatures = {s.signatory.name: s for s in Signature.objects.filter(letter=letter)}
    assert {s.status for s in signatures.values()} == {Signature.Status.PENDING}
    assert {s.source for s in signatures.values()} == {Signature.Source.IMPORT}
    assert signatures["Ada Testperson"].display == Display.FIRST_NAME
    assert signatures["Cy Sample"].display == Display.INITIALS
    assert signatures["Dee Placeholder"].display == Display.ANONYMOUS
    assert signatures["Harbour Street Charity"].signed_on == date(2024, 3, 1)
    assert signatures["Harbour Street Charity"].statement == (
        'We sign because "privacy" matters, for every child.'
    )
    assert signatures["Bea Exampleton"].statement == "A statement\nover two lines."


def test_publish_flag_publishes_the_imported_signatures(letter):
    run_import(letter, "good.csv", publish=True)

    statuses = set(Signature.objects.filter(letter=letter).values_list("status", flat=True))
    assert statuses == {Signature.Status.PUBLISHED}


def test_new_signatories_get_unique_slugs_beside_existing_ones(letter):
    # Other organisations whose names make the same slug.
    make_signatory(name="Harbour Street Charity!", slug="harbour-street-charity", country="FR")
    make_signatory(name="Harbour-Street Charity", slug="harbour-street-charity-2", country="DE")

    run_import(letter, "good.csv")

    created = Signatory.objects.get(name="Harbour Street Charity", country="GB")
    assert created.slug == "harbour-street-charity-3"
    slugs = list(Signatory.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs))


def test_template_is_a_utf8_csv_with_every_column_and_an_example_that_imports(letter):
    data = template_csv()

    assert data.startswith(b"\xef\xbb\xbf")
    header, example = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    assert header == COLUMNS
    assert example[0] == "Example Organisation"
    report = import_signatures(letter=letter, data=data, filename="template.csv", dry_run=True)
    assert report.ok, report.errors
    assert [row.outcome for row in report.rows] == [Outcome.NEW]


# Bad rows: each names its line and column, and nothing is written

BAD_ROWS = [
    ("missing name", 3, "name", "missing name"),
    ("unknown country", 4, "country", "unknown country"),
    ("unknown kind", 5, "kind", "unknown kind"),
    ("unknown display", 6, "display", "unknown display"),
    ("category not for the kind", 7, "category", "not a category for organisations"),
    ("invalid email", 8, "email", "invalid email"),
    ("javascript website", 9, "website", "must start with http:// or https://"),
    ("ftp website", 10, "website", "must start with http:// or https://"),
    ("impossible date", 11, "signed_at", "invalid date"),
    ("date that does not exist", 12, "signed_at", "invalid date"),
    ("role too long", 13, "role", "too long: 201 characters, at most 200"),
    ("name too long", 14, "name", "too long: 201 characters, at most 200"),
    ("organisation not shown by full name", 15, "display", "organisations sign by"),
    ("unknown category", 16, "category", "unknown category"),
]


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [case[1:] for case in BAD_ROWS],
    ids=[case[0] for case in BAD_ROWS],
)
def test_bad_row_is_reported_with_its_line_column_and_reason(letter, line, column, reason):
    before = Signatory.objects.count()

    report = run_import(letter, "bad_rows.csv")

    [error] = [e for e in report.errors if (e.line, e.column) == (line, column)]
    assert reason in error.reason
    assert f"Line {line}, column “{column}”" in str(error)
    assert not report.ok
    assert not report.written
    assert nothing_written(letter, before)


def test_bad_rows_file_reports_exactly_the_bad_rows(letter):
    report = run_import(letter, "bad_rows.csv")

    assert sorted(error_cells(report)) == sorted((line, col) for _, line, col, _ in BAD_ROWS)
    assert [row.outcome for row in report.rows if row.line == 2] == [Outcome.NEW]
    assert report.counts["errors"] == len(BAD_ROWS)


def test_one_bad_row_among_many_writes_nothing(letter):
    before = Signatory.objects.count()
    lines = ["name,country,email"]
    lines += [f"Synthetic Signatory {i:04},GB,synthetic{i}@example.org" for i in range(500)]
    lines.insert(321, "Synthetic Signatory Bad,GB,not an email")
    data = "\n".join(lines).encode()

    report = import_signatures(letter=letter, data=data, filename="many.csv", dry_run=False)

    assert error_cells(report) == [(322, "email")]
    assert report.created == 500
    assert not report.written
    assert nothing_written(letter, before)


def test_cells_beyond_the_header_are_an_error_not_a_silent_shift(letter):
    data = b"name,country\nSmith, Jane,GB\nRow With Empty Trailing Cells,GB,,\n"

    report = import_signatures(letter=letter, data=data, filename="shifted.csv", dry_run=True)

    assert (2, "(beyond the header)") in error_cells(report)
    assert [row.outcome for row in report.rows] == [Outcome.ERROR, Outcome.NEW]


# Files as they come


def test_utf8_with_bom_reads_the_first_column_as_name(letter):
    report = run_import(letter, "utf8_bom.csv")

    assert report.ok, report.file_errors or report.errors
    assert imported_names(letter) == ["Zoë Testdóttir", "Åsa Exempelsson"]
    assert report.source_format == "CSV (UTF-8, comma-separated)"


def test_windows_1252_file_keeps_accents_sharp_s_and_curly_quotes(letter):
    report = run_import(letter, "windows1252.csv")

    assert report.ok, report.file_errors or report.errors
    assert report.source_format == "CSV (Windows-1252, comma-separated)"
    assert imported_names(letter) == ["Café Élan Collective", "Zoë’s Straße Initiative"]
    statement = Signature.objects.get(signatory__name__startswith="Zo").statement
    assert statement == "Wir unterstützen den Brief – ganz."


def test_countries_written_in_the_signers_own_languages_are_understood(letter):
    report = run_import(letter, "european.csv")

    assert report.ok, report.file_errors or report.errors
    assert report.source_format == "CSV (Windows-1252, semicolon-separated)"
    countries = dict(
        Signatory.objects.filter(signatures__letter=letter).values_list("name", "country")
    )
    assert countries == {
        "Verein Beispiel Kinderschutz e.V.": "DE",
        "Asociación Ejemplo": "ES",
        "Eksempel Børneforening": "DK",
        "Association Exemple": "FR",
        "Voorbeeld Kinderrechten vzw": "BE",
        "Beispielverein Wien": "AT",
    }
    dates = dict(
        Signature.objects.filter(letter=letter).values_list("signatory__name", "signed_on")
    )
    assert dates["Verein Beispiel Kinderschutz e.V."] == date(2023, 9, 14)
    assert dates["Asociación Ejemplo"] == date(2023, 9, 5)  # 5 September, not 9 May
    assert dates["Association Exemple"] == date(2023, 10, 1)
    assert dates["Beispielverein Wien"] == date(2023, 9, 30)
    assert dates["Voorbeeld Kinderrechten vzw"] is None
    assert "Dates were read day first, as line 2 shows (“14.09.2023”)." in report.warnings


def test_an_unknown_country_says_which_forms_are_understood(letter):
    data = b"name,kind,country\nSomewhere Org,organisation,Atlantis\n"
    report = import_signatures(letter=letter, data=data, filename="atlantis.csv", dry_run=True)

    [error] = report.errors
    assert error.column == "country"
    assert "unknown country “Atlantis”" in error.reason
    assert "ISO code (GB, GBR)" in error.reason
    assert "in English or in one of over 40 other languages" in error.reason
    assert "Deutschland, España" in error.reason


def test_a_website_written_without_its_scheme_is_taken_as_https(letter):
    data = (
        b"name,kind,website\n"
        b"Www Org,organisation,www.example.org\n"
        b"Path Org,organisation,example.net/about\n"
        b"Script Org,organisation,javascript:alert(1)\n"
    )

    report = import_signatures(letter=letter, data=data, filename="sites.csv", dry_run=True)

    websites = {row.parsed["name"]: row.parsed["website"] for row in report.rows}
    assert websites["Www Org"] == "https://www.example.org"
    assert websites["Path Org"] == "https://example.net/about"
    [error] = report.errors
    assert (error.line, error.column) == (4, "website")
    assert "must start with http:// or https://" in error.reason


def dated(*dates: str) -> bytes:
    rows = [f"Dated Org {n},organisation,{value}" for n, value in enumerate(dates, start=1)]
    return ("name,kind,signed_at\n" + "\n".join(rows) + "\n").encode()


def signed_dates(report) -> list:
    return [row.parsed["signed_on"] for row in report.rows]


def test_dates_that_could_be_read_either_way_wait_for_staff_to_choose(letter):
    data = dated("05/06/2023", "07/08/2023")

    unsure = import_signatures(letter=letter, data=data, filename="d.csv", dry_run=True)
    day_first = import_signatures(
        letter=letter, data=data, filename="d.csv", dry_run=True, date_order="day_first"
    )
    month_first = import_signatures(
        letter=letter, data=data, filename="d.csv", dry_run=True, date_order="month_first"
    )

    assert not unsure.ok
    [message] = unsure.file_errors
    assert "“05/06/2023” (line 2) can be read day first or month first" in message
    assert "--day-first or --month-first" in message
    assert signed_dates(day_first) == [date(2023, 6, 5), date(2023, 8, 7)]
    assert signed_dates(month_first) == [date(2023, 5, 6), date(2023, 7, 8)]
    assert "Dates such as “05/06/2023” were read day first, as chosen." in day_first.warnings


def test_a_month_over_twelve_in_second_place_reads_the_file_month_first(letter):
    report = import_signatures(
        letter=letter, data=dated("09/14/2023", "10/01/2023"), filename="us.csv", dry_run=True
    )

    assert report.ok, report.file_errors or report.errors
    assert signed_dates(report) == [date(2023, 9, 14), date(2023, 10, 1)]
    assert "Dates were read month first, as line 2 shows (“09/14/2023”)." in report.warnings


def test_a_file_with_dates_written_both_ways_is_refused(letter):
    report = import_signatures(
        letter=letter, data=dated("25/09/2023", "09/14/2023"), filename="mixed.csv", dry_run=True
    )

    assert report.file_errors == [
        "The dates are written two ways: line 2 has “25/09/2023” (day first) and line 3 has "
        "“09/14/2023” (month first). Write them one way."
    ]


def test_the_command_reads_dates_day_first_when_told(letter, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_bytes(dated("05/06/2023"))

    call_command("import_signatures", letter.slug, str(path), "--day-first", stdout=io.StringIO())

    assert Signature.objects.get(letter=letter).signed_on == date(2023, 6, 5)


@pytest.mark.parametrize(
    ("name", "source_format"),
    [
        ("libreoffice.ods", "ODS (first sheet, “Unterzeichner”)"),
        ("libreoffice.xls", "XLS (first sheet, “Unterzeichner”)"),
        ("libreoffice.xlsx", "XLSX (first sheet, “Unterzeichner”)"),
    ],
)
def test_workbooks_in_every_format_import_with_a_merged_country_on_each_row(
    letter, name, source_format
):
    report = run_import(letter, name)

    assert report.ok, report.file_errors or report.errors
    assert report.source_format == source_format
    rows = {
        name: (country, signed_on)
        for name, country, signed_on in Signature.objects.filter(letter=letter).values_list(
            "signatory__name", "signatory__country", "signed_on"
        )
    }
    assert rows == {
        "Merged Org One": ("DE", date(2023, 9, 14)),
        "Merged Org Two": ("DE", date(2023, 9, 5)),  # the merged cell's value
        "Lone Org": ("DK", None),
    }
    assert [row.line for row in report.rows] == [2, 3, 5]  # as the spreadsheet numbers them
    # The sheet's =COUNTA(A2:A5) row, saved by LibreOffice with its value, is no signatory.
    assert "Line 7 looks like a totals row (“Total signatories”), not imported." in (
        report.warnings
    )
    assert (
        "Line 9 is a note below the list (“Source: partners' lists compiled in Sept”), not "
        "imported." in report.warnings
    )


def test_a_damaged_or_password_protected_old_workbook_gets_one_clear_message(letter):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)

    report = import_signatures(letter=letter, data=data, filename="locked.xls", dry_run=False)

    assert report.file_errors == [
        "The workbook cannot be read: it is damaged, protected by a password, or not a "
        "spreadsheet. Save it again (.ods, .xlsx or CSV) without a password."
    ]
    assert not Signature.objects.filter(letter=letter).exists()


def test_a_totals_row_and_a_formula_row_are_skipped_with_a_warning_naming_their_lines(letter):
    data = (
        b"name,kind,country,signed_at\n"
        b"Real Org,organisation,GB,14.09.2023\n"
        b"Total Access Trust,organisation,GB,25.09.2023\n"
        b"\n"
        b"Total signatories,,104,\n"
        b"=COUNTA(A2:A3),,,\n"
    )

    report = import_signatures(letter=letter, data=data, filename="totals.csv", dry_run=False)

    assert report.ok, report.file_errors or report.errors
    assert imported_names(letter) == ["Real Org", "Total Access Trust"]
    assert "Line 5 looks like a totals row (“Total signatories”), not imported." in (
        report.warnings
    )
    assert "Line 6 is a formula (“=COUNTA(A2:A3)”), not imported." in report.warnings


def test_utf16_unicode_text_from_excel_is_read(letter):
    report = run_import(letter, "utf16.txt")

    assert report.ok, report.file_errors or report.errors
    assert imported_names(letter) == ["Ioana Exemplu", "Łukasz Przykładowy"]
    assert Signatory.objects.get(name="Łukasz Przykładowy").country.code == "PL"


def test_semicolon_delimited_file_with_a_quoted_semicolon(letter):
    report = run_import(letter, "semicolon.csv")

    assert report.ok, report.file_errors or report.errors
    assert report.source_format == "CSV (UTF-8, semicolon-separated)"
    assert imported_names(letter) == ["Exemple Association", "Verein Beispiel e.V."]
    statements = Signature.objects.filter(letter=letter).values_list("statement", flat=True)
    assert set(statements) == {
        "Wir unterstützen den Brief, ganz und gar.",
        "Nous soutenons la lettre; sans réserve.",
    }


def test_tab_delimited_file(letter):
    report = run_import(letter, "tab.tsv")

    assert report.ok, report.file_errors or report.errors
    assert report.source_format == "CSV (UTF-8, tab-separated)"
    assert Signatory.objects.get(name="Tabitha Example").role == "Researcher, Data Lab"
    assert Signatory.objects.get(name="Tab Separated Org").country.code == "NL"


def test_xlsx_first_sheet_is_read_with_dates_numbers_and_blank_rows(letter):
    report = run_import(letter, "signatories.xlsx")

    assert report.ok, report.file_errors or report.errors
    assert report.source_format == "XLSX (first sheet, “Signatories”)"
    assert [row.line for row in report.rows] == [2, 3, 5]
    assert imported_names(letter) == ["Sheet Person", "Spreadsheet Org", "Third Row Org"]
    spreadsheet_org = Signature.objects.get(signatory__name="Spreadsheet Org")
    assert spreadsheet_org.signed_on == date(2024, 5, 6)
    assert spreadsheet_org.signatory.category == Category.NGO
    person = Signature.objects.get(signatory__name="Sheet Person")
    assert (person.display, person.signatory.role, person.signatory.country.code) == (
        Display.INITIALS,
        "42",
        "GB",
    )
    assert not Signatory.objects.filter(name="Not A Signatory").exists()


def test_blank_lines_are_skipped_but_still_counted_in_line_numbers(letter):
    report = run_import(letter, "blank_lines.csv")

    assert report.ok, report.errors
    assert [(row.line, row.values["name"]) for row in report.rows] == [
        (3, "Line Three Organisation"),
        (6, "Line Six Organisation"),
    ]
    assert report.created == 2


def test_header_in_mixed_case_with_spaces_and_an_unknown_column_is_warned(letter):
    report = run_import(letter, "messy_header.csv")

    assert report.ok, report.errors
    assert report.unknown_columns == ["Favourite Colour"]
    assert any("Favourite Colour" in warning for warning in report.warnings)
    signature = Signature.objects.get(letter=letter)
    assert signature.signatory.name == "Messy Header Org"
    assert signature.signatory.country.code == "GB"
    assert signature.signed_on == date(2024, 6, 30)


def test_country_names_and_common_forms_map_to_iso_codes(letter):
    forms = {
        "UK": "GB",
        "U.K.": "GB",
        "Great Britain": "GB",
        "Britain": "GB",
        "England": "GB",
        "Scotland": "GB",
        "Wales": "GB",
        "Northern Ireland": "GB",
        "united kingdom": "GB",
        "GBR": "GB",
        "USA": "US",
        "U.S.A.": "US",
        "us": "US",
        "United States": "US",
        "America": "US",
        "Czech Republic": "CZ",
        "Côte d’Ivoire": "CI",
        "Cote d'Ivoire": "CI",
        "The Netherlands": "NL",
        "deu": "DE",
    }
    lines = ["name,country"] + [f'Country Form {i},"{form}"' for i, form in enumerate(forms)]

    report = import_signatures(
        letter=letter, data="\n".join(lines).encode(), filename="countries.csv", dry_run=True
    )

    assert report.ok, report.errors
    assert [row.parsed["country"] for row in report.rows] == list(forms.values())


def test_missing_display_column_warns_that_people_will_be_named_in_full(letter):
    report = run_import(letter, "utf8_bom.csv", dry_run=True)

    assert any("display" in warning and "2 individuals" in warning for warning in report.warnings)


# Files rejected as a whole: one message, nothing written


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("image.png", "not a spreadsheet that can be read"),
        ("random.bin", "not a spreadsheet that can be read"),
    ],
)
def test_unreadable_file_gets_one_clear_message(letter, name, message):
    before = Signatory.objects.count()

    report = run_import(letter, name)

    assert len(report.file_errors) == 1
    assert message in report.file_errors[0]
    assert report.rows == []
    assert not report.ok
    assert nothing_written(letter, before)


def test_control_characters_without_nul_are_binary(letter):
    data = bytes(range(1, 256)) * 20

    report = import_signatures(letter=letter, data=data, filename="noise.dat", dry_run=False)

    assert report.file_errors == [
        "The file is not a spreadsheet that can be read: upload a CSV (text) file or an "
        "Excel workbook (.xlsx)."
    ]


def test_a_zip_that_is_not_a_workbook_is_rejected(letter):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("names.csv", "name\nZipped Name\n")

    report = import_signatures(
        letter=letter, data=archive.getvalue(), filename="names.zip", dry_run=False
    )

    assert report.file_errors == [
        "The workbook cannot be read: it is damaged, protected by a password, or not a "
        "spreadsheet. Save it again (.ods, .xlsx or CSV) without a password."
    ]


def test_file_over_the_size_limit_is_rejected_before_reading(letter):
    data = b"name\n" + b"Synthetic Signatory\n" * (MAX_FILE_BYTES // 20 + 1)
    assert len(data) > MAX_FILE_BYTES

    report = import_signatures(letter=letter, data=data, filename="huge.csv", dry_run=False)

    assert len(report.file_errors) == 1
    assert "too large" in report.file_errors[0]
    assert not Signature.objects.exists()


def test_file_with_too_many_rows_is_rejected(letter):
    data = b"name\n" + b"S\n" * (MAX_ROWS + 1)

    report = import_signatures(letter=letter, data=data, filename="long.csv", dry_run=False)

    assert len(report.file_errors) == 1
    assert "more than 100,000 rows" in report.file_errors[0]
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"email,country\nsomeone@example.org,GB\n", "no “name” column"),
        (b"name\n\n\n", "header row but no signatories"),
        (b"name,Name\nTwice,Twice\n", "appears more than once"),
    ],
    ids=["no name column", "header only", "name twice"],
)
def test_file_with_an_unusable_header_is_rejected(letter, data, message):
    report = import_signatures(letter=letter, data=data, filename="header.csv", dry_run=False)

    assert len(report.file_errors) == 1
    assert message in report.file_errors[0]
    assert not Signature.objects.exists()


# No duplicates


def test_duplicates_within_the_file_are_skipped_and_point_to_the_first(letter):
    report = run_import(letter, "duplicates.csv")

    assert report.ok, report.errors
    assert [(row.line, row.outcome, row.duplicate_of) for row in report.rows] == [
        (2, Outcome.NEW, None),
        (3, Outcome.DUPLICATE, 2),
        (4, Outcome.DUPLICATE, 2),
        (5, Outcome.NEW, None),
    ]
    assert report.counts == {"created": 2, "matched": 0, "skipped": 2, "errors": 0}
    assert sorted(Signatory.objects.values_list("name", "country")) == [
        ("First Person", "FR"),
        ("First Person", "GB"),
    ]


def test_importing_the_same_file_twice_creates_nothing_the_second_time(letter):
    run_import(letter, "good.csv")
    signatories, signatures = Signatory.objects.count(), Signature.objects.count()

    report = run_import(letter, "good.csv")

    assert report.ok
    assert {row.outcome for row in report.rows} == {Outcome.ALREADY_SIGNED}
    assert report.counts == {"created": 0, "matched": 0, "skipped": 6, "errors": 0}
    assert (Signatory.objects.count(), Signature.objects.count()) == (signatories, signatures)


def test_rows_match_existing_signatories_by_email_or_an_organisation_by_name(letter):
    known = make_person("Known Person", country="DE", email="known.person@example.org")
    by_name = make_signatory(name="Existing By Name", country="GB")
    signed = make_signatory(name="Already Signed Org", country="GB")
    make_signature(letter, signed)
    before = Signatory.objects.count()

    report = run_import(letter, "matching.csv")

    assert report.ok, report.errors
    # An organisation is one whatever the country a row gives it: the third row is the
    # second again.
    assert [(row.outcome, row.signatory_id, row.duplicate_of) for row in report.rows] == [
        (Outcome.MATCH, known.pk, None),
        (Outcome.MATCH, by_name.pk, None),
        (Outcome.DUPLICATE, None, 3),
        (Outcome.ALREADY_SIGNED, signed.pk, None),
    ]
    assert Signatory.objects.count() == before
    assert set(Signature.objects.filter(letter=letter).values_list("signatory_id", flat=True)) == {
        known.pk,
        by_name.pk,
        signed.pk,
    }
    known.refresh_from_db()
    assert known.name == "Known Person"


def test_two_rows_matching_the_same_signatory_sign_once(letter):
    person = make_person("Same Person", country="GB", email="same@example.org")
    data = b"name,country,email\nSame Person,GB,\nS. Person,FR,same@example.org\n"

    report = import_signatures(letter=letter, data=data, filename="same.csv", dry_run=False)

    assert [row.outcome for row in report.rows] == [Outcome.MATCH, Outcome.DUPLICATE]
    assert list(Signature.objects.filter(letter=letter).values_list("signatory", flat=True)) == [
        person.pk
    ]


def test_a_row_matching_an_organisation_cannot_hide_its_name(letter):
    make_signatory(name="Known Charity", country="GB")
    data = b"name,country,display\nKnown Charity,GB,initials\n"

    report = import_signatures(letter=letter, data=data, filename="org.csv", dry_run=False)

    assert error_cells(report) == [(2, "display")]
    assert not Signature.objects.exists()


# Round trip through our own CSV export


def test_export_then_import_gives_back_formula_like_names_and_statements(client):
    source = make_letter()
    names = ["=Equals Org", "+Plus Org", "-Minus Org", "@At Org", "Plain Org"]
    statements = ["=SUM(A1:A2)", "+44 agree", "-", "@everyone", "\tindented"]
    for name, statement in zip(names, statements, strict=True):
        make_signature(source, make_signatory(name=name), statement=statement)
    response = client.get(reverse("signatories:letter_csv", args=[source.slug]))
    body = b"".join(response.streaming_content)
    assert b"'=Equals Org" in body  # the export did neutralise them
    target = make_letter()

    report = import_signatures(letter=target, data=body, filename="export.csv", dry_run=False)

    assert report.ok, report.file_errors or report.errors
    # Every column of the public file is understood (or, like profile_url, known not to
    # be read).
    assert report.unknown_columns == []
    assert imported_names(target) == sorted(names)
    assert sorted(row.values["name"] for row in report.rows) == sorted(names)
    assert {row.outcome for row in report.rows} == {Outcome.MATCH}
    imported = Signature.objects.filter(letter=target)
    assert sorted(imported.values_list("statement", flat=True)) == sorted(
        s.strip() for s in statements
    )


def test_export_guard_is_only_removed_before_formula_characters(letter):
    data = b"name,statement\n'Quoted Org,'=1+1\n'+Plus,'It's fine\n"

    report = import_signatures(letter=letter, data=data, filename="quotes.csv", dry_run=True)

    assert [(row.parsed["name"], row.parsed["statement"]) for row in report.rows] == [
        ("'Quoted Org", "=1+1"),
        ("+Plus", "'It's fine"),
    ]


def test_names_are_nfc_normalised_and_whitespace_collapsed(letter):
    decomposed = "Ame\u0301lie\u00a0 Exemple\tOrg"
    data = f"name\n  {decomposed}  \n".encode()

    import_signatures(letter=letter, data=data, filename="nfc.csv", dry_run=False)

    assert imported_names(letter) == ["Amélie Exemple Org"]


# Dry run, and queries


def test_dry_run_reports_outcomes_and_writes_nothing(letter):
    make_signatory(name="Harbour Street Charity", country="GB")
    before = Signatory.objects.count()

    report = run_import(letter, "good.csv", dry_run=True)

    assert report.ok
    assert not report.written
    assert [row.outcome for row in report.rows] == [Outcome.MATCH] + [Outcome.NEW] * 5
    assert report.counts == {"created": 5, "matched": 1, "skipped": 0, "errors": 0}
    assert nothing_written(letter, before)


def synthetic_file(count: int) -> bytes:
    lines = ["name,kind,country,email"]
    for i in range(count):
        email = f"q{count}-{i}@example.org" if i % 2 else ""
        lines.append(f"Query{count} Person {i:04},individual,GB,{email}")
    # A duplicate of the first row.
    lines.append(f"Query{count} Person 0000,individual,GB,")
    return "\n".join(lines).encode()


def queries_to_import(count: int) -> int:
    letter = make_letter()
    # The same shape at every size: one match by email, one by name, one already
    # signed, one duplicate in the file, one slug already taken.
    make_person("Someone Renamed", country="FR", email=f"q{count}-1@example.org")
    make_person(f"Query{count} Person 0002", country="GB")
    make_signature(letter, make_person(f"Query{count} Person 0004", country="GB"))
    make_person(f"Query{count} Person 0006", country="DE", slug=f"query{count}-person-0006")
    with CaptureQueriesContext(connection) as context:
        report = import_signatures(
            letter=letter, data=synthetic_file(count), filename="q.csv", dry_run=False
        )
    assert report.ok and report.written
    assert report.counts == {"created": count - 3, "matched": 2, "skipped": 2, "errors": 0}
    # The created and matched ones, and the one that had already signed.
    assert Signature.objects.filter(letter=letter).count() == count
    return len(context.captured_queries)


def test_import_runs_the_same_number_of_queries_for_10_or_200_rows(db):
    small, large = queries_to_import(10), queries_to_import(200)

    assert small == large
    # SQLite looks up each identity column (email, name key, website domain) separately,
    # and possible duplicates by the start of their names.
    assert large <= 14


# The management command


def test_command_imports_and_prints_a_summary(letter):
    out = io.StringIO()

    call_command("import_signatures", letter.slug, str(FILES / "good.csv"), stdout=out)

    assert "Created: 6, matched: 0, skipped: 0" in out.getvalue()
    assert "pending review" in out.getvalue()
    assert Signature.objects.filter(letter=letter).count() == 6


def test_command_dry_run_writes_nothing(letter):
    out = io.StringIO()

    call_command("import_signatures", letter.slug, str(FILES / "good.csv"), "--dry-run", stdout=out)

    assert "Created: 6" in out.getvalue()
    assert "Dry run: nothing was written." in out.getvalue()
    assert not Signatory.objects.exists()


def test_command_publish_flag(letter):
    call_command(
        "import_signatures", letter.slug, str(FILES / "good.csv"), "--publish", stdout=io.StringIO()
    )

    assert Signature.objects.filter(letter=letter, status=Signature.Status.PUBLISHED).count() == 6


def test_command_lists_every_error_on_stderr_and_fails(letter):
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="Nothing was written") as failure:
        call_command(
            "import_signatures", letter.slug, str(FILES / "bad_rows.csv"), stdout=out, stderr=err
        )

    assert failure.value.returncode == 1
    for _, line, column, _ in BAD_ROWS:
        assert f"Line {line}, column “{column}”" in err.getvalue()
    assert not Signatory.objects.exists()


def test_command_rejects_a_binary_file_with_one_message(letter):
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 error"):
        call_command(
            "import_signatures",
            letter.slug,
            str(FILES / "image.png"),
            stdout=io.StringIO(),
            stderr=err,
        )

    assert err.getvalue().strip().splitlines() == [
        "image.png: The file is not a spreadsheet that can be read: upload a CSV (text) file "
        "or an Excel workbook (.xlsx)."
    ]


def test_command_rejects_an_oversized_file(letter, tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"name\n" + b"x" * MAX_FILE_BYTES)
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(huge), stderr=err)

    assert "too large" in err.getvalue()


def test_command_with_an_unknown_letter_fails_clearly(db):
    with pytest.raises(CommandError, match="No letter with the slug “no-such-letter”"):
        call_command("import_signatures", "no-such-letter", str(FILES / "good.csv"))


def test_command_with_a_missing_file_fails_clearly(letter):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_signatures", letter.slug, str(FILES / "no-such-file.csv"))


def test_command_exits_non_zero_from_the_command_line(letter, monkeypatch, capsys):
    # run_from_argv closes every connection when it ends, which would end the test's
    # transaction; the exit status is what this test is about.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    from signatories.management.commands.import_signatures import Command

    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(
            ["manage.py", "import_signatures", letter.slug, str(FILES / "bad_rows.csv")]
        )

    assert exit_.value.code == 1
    assert "Line 4, column “country”" in capsys.readouterr().err


# Spreadsheets that cost more to read than they are worth: checked before and while they
# are parsed. Each file is a real workbook as openpyxl saves it, small, over a limit the
# test lowers.


def xlsx_bytes(rows: list[list], *, extra_cells: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for coordinate, value in (extra_cells or {}).items():
        sheet[coordinate] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_declared_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with its first sheet's ``<dimension ref>`` rewritten: files from other
    programs declare sizes that are wrong either way."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                content, count = re.subn(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), content
                )
                assert count == 1
            target.writestr(member, content)
    return out.getvalue()


def import_bytes(letter, data: bytes, name: str = "sheet.xlsx"):
    return import_signatures(letter=letter, data=data, filename=name, dry_run=False)


def assert_refused_with(report, letter, text: str) -> None:
    assert len(report.file_errors) == 1, report.file_errors
    assert text in report.file_errors[0]
    assert report.rows == []
    assert nothing_written(letter, 0)


def people(count: int) -> list[list[str]]:
    return [["name", "country"]] + [[f"Person {n}", "GB"] for n in range(count)]


def test_workbook_within_every_limit_is_imported(letter, settings):
    settings.IMPORT_MAX_CELLS = 2 * 11 + 1
    settings.IMPORT_MAX_COLUMNS = 2

    report = import_bytes(letter, xlsx_bytes(people(10)))

    assert report.file_errors == []
    assert len(imported_names(letter)) == 10


def test_workbook_unpacking_over_the_limit_is_refused_before_it_is_parsed(letter, settings):
    # The shape of a 200 MB shared-strings table, at a lowered limit: long, distinct
    # strings that compress to a fraction of their size.
    rows = [["name", "statement"]] + [[f"Person {n}", f"{n:06d}" + "x" * 2000] for n in range(300)]
    data = xlsx_bytes(rows)
    unpacked = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(data)).infolist())
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = unpacked - 1
    assert len(data) < unpacked / 10

    report = import_bytes(letter, data)

    assert_refused_with(report, letter, "The workbook unpacks to")


def test_workbook_exactly_at_the_unpacked_limit_is_read(letter, settings):
    data = xlsx_bytes(people(3))
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = sum(
        m.file_size for m in zipfile.ZipFile(io.BytesIO(data)).infolist()
    )

    report = import_bytes(letter, data)

    assert report.file_errors == []


def test_value_at_column_xfd_is_refused_with_one_message(letter):
    data = xlsx_bytes(people(3), extra_cells={"XFD3": "far away"})

    report = import_bytes(letter, data)

    assert_refused_with(report, letter, "Line 3 has a value in column 16,384; at most 100")


def test_formatted_empty_cells_beyond_the_column_limit_are_not_data(letter, settings):
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    book = load_workbook(io.BytesIO(xlsx_bytes(people(3))))
    book.active["DA2"].font = Font(bold=True)  # column 105: styled, no value
    out = io.BytesIO()
    book.save(out)

    report = import_bytes(letter, out.getvalue())

    assert report.file_errors == []
    assert len(imported_names(letter)) == 3


def test_sheet_over_the_cell_limit_is_refused(letter, settings):
    settings.IMPORT_MAX_CELLS = 100

    report = import_bytes(letter, xlsx_bytes(people(60)))  # 122 cells

    assert_refused_with(report, letter, "The sheet has more than 100 cells")


def test_sheet_declaring_more_cells_than_it_has_is_read_as_what_it_has(letter, settings):
    # calamine measures the cells a sheet has, not the size its header declares.
    settings.IMPORT_MAX_CELLS = 1000
    data = with_declared_dimension(xlsx_bytes(people(3)), "A1:Z1000")

    report = import_bytes(letter, data)

    assert report.file_errors == []
    assert len(imported_names(letter)) == 3


def test_sheet_declaring_too_few_cells_is_still_stopped_while_reading(letter, settings):
    settings.IMPORT_MAX_CELLS = 100
    data = with_declared_dimension(xlsx_bytes(people(60)), "A1:B2")

    report = import_bytes(letter, data)

    assert_refused_with(report, letter, "The sheet has more than 100 cells")


def test_empty_rows_down_to_the_last_row_count_against_the_cell_limit(letter, settings):
    # One value a million rows down: openpyxl would yield a million empty rows.
    settings.IMPORT_MAX_CELLS = 10_000
    data = with_declared_dimension(
        xlsx_bytes(people(3), extra_cells={"A1048576": "Last Person"}), "A1:B2"
    )

    report = import_bytes(letter, data)

    assert_refused_with(report, letter, "The sheet has more than 10,000 cells")


def test_csv_row_over_the_column_limit_is_refused(letter, settings):
    settings.IMPORT_MAX_COLUMNS = 5
    data = b"name,country\nAda Lovelace,GB" + b",x" * 10 + b"\n"

    report = import_bytes(letter, data, "wide.csv")

    assert_refused_with(report, letter, "Line 2 has a value in column 12; at most 5 columns")


# Line numbers and notes below the list


def test_rows_below_a_cell_spanning_lines_name_both_their_row_and_text_line(letter):
    data = (
        b"name,country,statement\n"
        b'Ada Lovelace,GB,"One line\nand another\nand a third"\n'
        b"Bea Person,Atlantis,\n"
        b"Cy Person,GB,\n"
    )

    report = import_signatures(letter=letter, data=data, filename="lines.csv", dry_run=True)

    # A spreadsheet shows Bea on row 3; a text editor on line 5.
    [error] = report.errors
    assert str(error).startswith("Line 3 (line 5 in a text editor), column “country”: ")
    assert report.text_lines == {3: 5, 4: 6}


def test_notes_below_the_list_are_skipped_with_a_warning(letter):
    data = (
        b"name,country,kind\n"
        b"Ada Lovelace,GB,individual\n"
        b"National Society for the Prevention of Cruelty to Children,GB,organisation\n"
        b"\n"
        b"Source: partners' lists compiled in September 2023\n"
        b"* Two signatories asked not to be named.\n"
        b"This list was checked by the coalition's staff before it was sent.\n"
        b",Last updated 1 October 2023\n"
    )

    report = import_signatures(letter=letter, data=data, filename="notes.csv", dry_run=False)

    assert report.ok, report.errors
    assert [row.parsed["name"] for row in report.rows] == [
        "Ada Lovelace",
        "National Society for the Prevention of Cruelty to Children",
    ]
    assert report.warnings[:4] == [
        "Line 5 is a note below the list (“Source: partners' lists compiled in Sept”), not "
        "imported.",
        "Line 6 is a note below the list (“* Two signatories asked not to be named.”), not "
        "imported.",
        "Line 7 is a note below the list (“This list was checked by the coalition's”), not "
        "imported.",
        "Line 8 is a note below the list (“Last updated 1 October 2023”), not imported.",
    ]


def test_a_name_alone_below_a_blank_row_is_still_a_signatory(letter):
    data = b"name\nAda Lovelace\n\nBea Person\nSee Kay Sample\n"

    report = import_signatures(letter=letter, data=data, filename="names.csv", dry_run=True)

    assert [row.parsed["name"] for row in report.rows] == [
        "Ada Lovelace",
        "Bea Person",
        "See Kay Sample",
    ]


def test_imported_names_in_any_script_get_readable_slugs(letter):
    data = (
        "name,kind,category\n"
        "张伟,individual,survivor\n"
        "محمد علي,individual,survivor\n"
        "Zoë Žižek,individual,expert\n"
    )

    import_signatures(letter=letter, data=data.encode(), filename="scripts.csv", dry_run=False)

    assert sorted(Signatory.objects.values_list("slug", flat=True)) == sorted(
        ["张伟", "محمد-علي", "zoe-zizek"]
    )

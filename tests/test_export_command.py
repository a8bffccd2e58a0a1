"""``manage.py export_signatures``: the admin's private export of a letter's signatures
from the command line, for staff with its permission, logged as the admin logs it; and
the file read back by ``import_signatures``."""

import csv
import io
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signatories import exports
from signatories.models import (
    Category,
    Display,
    PrivateExport,
    Signatory,
    SignatoryKind,
    Signature,
)
from tests.factories import (
    make_letter,
    make_many_signatures,
    make_person,
    make_signatory,
    make_signature,
)

pytestmark = pytest.mark.django_db

# The staff export's columns, as a spreadsheet or a script reading it sees them. A change
# here is a change of the file format (and of the admin's private export, which is the
# same file).
STAFF_COLUMNS = [
    "signature_id",
    "letter",
    "signatory_id",
    "name",
    "display",
    "public_name",
    "kind",
    "category",
    "country_code",
    "role",
    "affiliation",
    "website",
    "email",
    "signatory_notes",
    "signed_on",
    "statement",
    "featured",
    "status",
    "source",
    "verification",
    "verified_by",
    "verified_at",
    "rejection_reason",
    "signature_notes",
    "created_at",
    "updated_at",
]
VERIFIED_AT = datetime(2024, 3, 4, 10, 30, tzinfo=UTC)


def staff(username: str = "exporter", *codenames: str, **fields) -> User:
    fields = {"is_staff": True, **fields}
    user = User.objects.create_user(username, password="unused", **fields)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="signatories", codename__in=codenames)
    )
    return user


@pytest.fixture
def exporter(db) -> User:
    return staff("exporter", "export_private_signatures")


@pytest.fixture
def signatures(letter, exporter) -> list[Signature]:
    """One of each shape, in the order they were recorded (the export's order)."""
    return [
        make_signature(
            letter,
            make_signatory(
                name="Harbour Street Charity",
                category=Category.CHARITY,
                country="GB",
                website="https://harbour.example.org",
                email="contact@harbour.example.org",
                notes="Partner since 2020.",
            ),
            signed_on=date(2024, 3, 1),
            statement="We support this letter.",
            featured=True,
            verification=Signature.Verification.ORGANISATION_CONFIRMED,
            verified_by=exporter,
            verified_at=VERIFIED_AT,
        ),
        # An international body: no country.
        make_signature(
            letter,
            make_signatory(name="=Equals Collective", category=Category.NETWORK, country=""),
            statement="=SUM(A1:A2)",
        ),
        make_signature(
            letter,
            make_person(
                "Ada Lovelace Byron",
                category=Category.SURVIVOR,
                country="FR",
                role="Researcher",
                affiliation="Analytical Society",
                website="https://ada.example.org",
                email="ada@example.org",
            ),
            signed_on=date(2024, 3, 2),
            statement="First line.\nSecond line.",
            verification=Signature.Verification.STAFF_VETTED,
            verified_by=exporter,
            verified_at=VERIFIED_AT,
        ),
        make_signature(
            letter,
            make_person("Frida Kahlo Secret", category=Category.FAMILY, country="MX"),
            display=Display.FIRST_NAME,
            signed_on=date(2024, 3, 3),
            statement="-",
            status=Signature.Status.PENDING,
            notes="Called her on 3 March.",
        ),
        make_signature(
            letter,
            make_person(
                "Ines Quinn Harrow",
                category=Category.EXPERT,
                country="GB",
                email="ines@example.org",
            ),
            display=Display.INITIALS,
        ),
        make_signature(
            letter,
            make_person(
                "Zoë Åström",
                category=Category.ADVOCATE,
                country="SE",
                email="zoe@example.org",
                notes="Met at the rally.",
            ),
            display=Display.ANONYMOUS,
            statement="Jag skriver under.",
        ),
    ]


def export(letter, path, *args, user: str = "exporter", **kwargs) -> str:
    out = io.StringIO()
    call_command(
        "export_signatures", letter.slug, str(path), "--user", user, *args, stdout=out, **kwargs
    )
    return out.getvalue()


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows as Python's csv module reads them, after checking the BOM."""
    assert data.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


# What is written


def expected_row(signature: Signature, **columns: str) -> dict[str, str]:
    """A staff export row of ``signature``: its ids and timestamps as stored, ``columns``,
    the defaults of a signature entered by staff, and every other column empty."""
    signature.refresh_from_db()
    return (
        dict.fromkeys(STAFF_COLUMNS, "")
        | {
            "signature_id": str(signature.pk),
            "letter": signature.letter.slug,
            "signatory_id": str(signature.signatory_id),
            "featured": "no",
            "status": "published",
            "source": "admin",
            "verification": "unverified",
            "created_at": signature.created_at.isoformat(),
            "updated_at": signature.updated_at.isoformat(),
        }
        | columns
    )


def test_export_writes_every_staff_column_of_every_signature(letter, signatures, tmp_path):
    path = tmp_path / "staff.csv"
    charity, collective, ada, frida, ines, zoe = signatures

    export(letter, path)

    header, rows = read_csv(path.read_bytes())
    assert header == STAFF_COLUMNS
    assert rows == [
        expected_row(
            charity,
            name="Harbour Street Charity",
            display="full",
            public_name="Harbour Street Charity",
            kind="organisation",
            category="charity",
            country_code="GB",
            website="https://harbour.example.org",
            email="contact@harbour.example.org",
            signatory_notes="Partner since 2020.",
            signed_on="2024-03-01",
            statement="We support this letter.",
            featured="yes",
            verification="organisation_confirmed",
            verified_by="exporter",
            verified_at="2024-03-04T10:30:00+00:00",
        ),
        expected_row(
            collective,
            name="'=Equals Collective",  # the formula guard
            display="full",
            public_name="'=Equals Collective",
            kind="organisation",
            category="network",
            statement="'=SUM(A1:A2)",
        ),
        expected_row(
            ada,
            name="Ada Lovelace Byron",
            display="full",
            public_name="Ada Lovelace Byron",
            kind="individual",
            category="survivor",
            country_code="FR",
            role="Researcher",
            affiliation="Analytical Society",
            website="https://ada.example.org",
            email="ada@example.org",
            signed_on="2024-03-02",
            statement="First line.\nSecond line.",
            verification="staff_vetted",
            verified_by="exporter",
            verified_at="2024-03-04T10:30:00+00:00",
        ),
        expected_row(
            frida,
            name="Frida Kahlo Secret",  # the full name: private staff data
            display="first_name",
            public_name="Frida",
            kind="individual",
            category="family",
            country_code="MX",
            signed_on="2024-03-03",
            statement="'-",
            status="pending",
            signature_notes="Called her on 3 March.",
        ),
        expected_row(
            ines,
            name="Ines Quinn Harrow",
            display="initials",
            public_name="I. Q. H.",
            kind="individual",
            category="expert",
            country_code="GB",
            email="ines@example.org",
        ),
        expected_row(
            zoe,
            name="Zoë Åström",
            display="anonymous",
            kind="individual",
            category="advocate",
            country_code="SE",
            email="zoe@example.org",
            signatory_notes="Met at the rally.",
            statement="Jag skriver under.",
        ),
    ]


def test_export_is_the_same_file_as_the_admin_private_export(
    admin_client, letter, signatures, tmp_path
):
    path = tmp_path / "staff.csv"
    export(letter, path)

    response = admin_client.post(
        "/admin/signatories/signature/",
        {"action": "export_private_csv", "_selected_action": [s.pk for s in signatures]},
    )

    assert path.read_bytes() == b"".join(response.streaming_content)


def test_export_leaves_out_other_letters(letter, signatures, tmp_path):
    make_signature(make_letter(), make_person("Other Letter Person", email="other@example.org"))
    path = tmp_path / "staff.csv"

    export(letter, path)

    _, rows = read_csv(path.read_bytes())
    assert {row["letter"] for row in rows} == {letter.slug}
    assert b"Other Letter Person" not in path.read_bytes()


def test_status_option_exports_only_that_status(letter, signatures, tmp_path):
    make_signature(letter, make_person("Hidden Person"), status=Signature.Status.HIDDEN)
    everything, published = tmp_path / "all.csv", tmp_path / "published.csv"

    export(letter, everything)
    export(letter, published, "--status", "published")

    assert [row["status"] for row in read_csv(everything.read_bytes())[1]] == [
        "published",
        "published",
        "published",
        "pending",
        "published",
        "published",
        "hidden",
    ]
    _, rows = read_csv(published.read_bytes())
    assert [row["name"] for row in rows] == [
        "Harbour Street Charity",
        "'=Equals Collective",
        "Ada Lovelace Byron",
        "Ines Quinn Harrow",
        "Zoë Åström",
    ]
    assert PrivateExport.objects.get(filename=str(published)).row_count == 5


def test_unknown_status_is_refused(letter, signatures, tmp_path):
    with pytest.raises(CommandError, match="invalid choice: 'visible'"):
        export(letter, tmp_path / "staff.csv", "--status", "visible")

    assert not PrivateExport.objects.exists()


def test_export_file_is_readable_by_its_owner_only(letter, signatures, tmp_path):
    path = tmp_path / "staff.csv"

    export(letter, path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_letter_without_signatures_gives_a_header_only(exporter, tmp_path):
    empty = make_letter()
    path = tmp_path / "empty.csv"

    export(empty, path)

    assert read_csv(path.read_bytes()) == (STAFF_COLUMNS, [])
    assert PrivateExport.objects.get().row_count == 0


# Who may export, and the log


def test_export_is_logged_with_user_rows_letter_and_file(letter, signatures, exporter, tmp_path):
    path = tmp_path / "staff.csv"

    out = export(letter, path)

    [record] = PrivateExport.objects.all()
    assert (record.user, record.row_count, record.letters, record.filename) == (
        exporter,
        6,
        letter.slug,
        str(path),
    )
    assert f"Exported 6 signatures of “{letter.slug}”" in out
    assert f"private export #{record.pk} by exporter" in out


def test_relative_path_is_logged_as_absolute(letter, signatures, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    export(letter, "relative.csv")

    assert PrivateExport.objects.get().filename == str(tmp_path / "relative.csv")


def test_long_path_is_logged_by_its_end(letter, signatures, tmp_path):
    folder = tmp_path / ("deep-folder-" * 10) / ("deeper-" * 10)
    folder.mkdir(parents=True)
    path = folder / "staff.csv"

    export(letter, path)

    logged = PrivateExport.objects.get().filename
    assert len(str(path)) > 200
    assert len(logged) == 200
    assert logged == "…" + str(path)[-199:]


def test_superuser_may_export(letter, signatures, tmp_path):
    User.objects.create_superuser("root", password="unused")

    export(letter, tmp_path / "staff.csv", user="root")

    assert PrivateExport.objects.get().user.username == "root"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("nobody", "No user “nobody”"),
        ("inactive", "The user “inactive” is inactive"),
        ("moderator", "The user “moderator” may not export signatures with private fields"),
        ("not-staff", "The user “not-staff” may not export signatures with private fields"),
    ],
)
def test_export_refused_writes_nothing_and_logs_nothing(
    letter, signatures, tmp_path, username, message
):
    staff("inactive", "export_private_signatures", is_active=False)
    staff("moderator", "view_signature", "change_signature", "view_signer_personal_data")
    staff("not-staff", "export_private_signatures", is_staff=False)
    path = tmp_path / "staff.csv"

    with pytest.raises(CommandError, match=message):
        export(letter, path, user=username)
    with pytest.raises(CommandError, match=message):
        export(letter, "-", user=username)

    assert list(tmp_path.iterdir()) == []
    assert not PrivateExport.objects.exists()


def test_user_option_is_required(letter, signatures, tmp_path):
    with pytest.raises(CommandError, match="required: --user"):
        call_command("export_signatures", letter.slug, str(tmp_path / "staff.csv"))

    assert list(tmp_path.iterdir()) == []


def test_unknown_letter_writes_nothing_and_logs_nothing(exporter, tmp_path):
    with pytest.raises(CommandError, match="No letter with the slug “no-such-letter”"):
        call_command(
            "export_signatures", "no-such-letter", str(tmp_path / "x.csv"), "--user", "exporter"
        )

    assert list(tmp_path.iterdir()) == []
    assert not PrivateExport.objects.exists()


# The file


def test_existing_file_is_kept_without_force(letter, signatures, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("keep me")

    with pytest.raises(CommandError, match="exists already; add --force"):
        export(letter, path)

    assert path.read_text() == "keep me"
    assert list(tmp_path.iterdir()) == [path]
    assert not PrivateExport.objects.exists()


def test_existing_file_is_replaced_with_force(letter, signatures, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("old")

    export(letter, path, "--force")

    assert len(read_csv(path.read_bytes())[1]) == 6
    assert list(tmp_path.iterdir()) == [path]


def test_missing_folder_fails_clearly(letter, signatures, tmp_path):
    with pytest.raises(CommandError, match="Cannot write .*No such file or directory"):
        export(letter, tmp_path / "no-such-folder" / "staff.csv")

    assert not PrivateExport.objects.exists()


def test_export_cut_short_leaves_no_file(letter, signatures, tmp_path, monkeypatch):
    def failing(signatures):
        yield "\ufeffsignature_id,letter\r\n"
        raise OSError("disk full")

    monkeypatch.setattr("signatories.management.commands.export_signatures.private_csv", failing)
    path = tmp_path / "staff.csv"
    path.write_text("old")

    with pytest.raises(OSError, match="disk full"):
        export(letter, path, "--force")

    # The old file as it was, no half-written one beside it; the attempt stays logged.
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_text() == "old"
    assert PrivateExport.objects.count() == 1


def test_dash_writes_the_csv_to_stdout_and_the_summary_to_stderr(letter, signatures, exporter):
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "export_signatures", letter.slug, "-", "--user", "exporter", stdout=out, stderr=err
    )

    header, rows = read_csv(out.getvalue().encode("utf-8"))
    assert header == STAFF_COLUMNS
    assert [row["name"] for row in rows] == [
        "Harbour Street Charity",
        "'=Equals Collective",
        "Ada Lovelace Byron",
        "Frida Kahlo Secret",
        "Ines Quinn Harrow",
        "Zoë Åström",
    ]
    assert "Exported 6 signatures" in err.getvalue()
    [record] = PrivateExport.objects.all()
    assert (record.user, record.row_count, record.filename) == (
        exporter,
        6,
        "(standard output)",
    )


def test_dash_writes_utf8_bytes_whatever_the_terminal_encoding(letter, signatures):
    raw = io.BytesIO()
    terminal = io.TextIOWrapper(raw, encoding="latin-1")

    call_command(
        "export_signatures",
        letter.slug,
        "-",
        "--user",
        "exporter",
        stdout=terminal,
        stderr=io.StringIO(),
    )

    terminal.flush()
    _, rows = read_csv(raw.getvalue())
    assert rows[-1]["name"] == "Zoë Åström"


# Streaming


def queries_to_export(count: int, tmp_path: Path) -> int:
    letter = make_letter()
    make_many_signatures(letter, count)
    path = tmp_path / f"{count}.csv"
    with CaptureQueriesContext(connection) as context:
        export(letter, path)
    assert len(read_csv(path.read_bytes())[1]) == count
    return len(context.captured_queries)


def test_export_runs_the_same_number_of_queries_for_10_or_1000_signatures(exporter, tmp_path):
    small, large = queries_to_export(10, tmp_path), queries_to_export(1000, tmp_path)

    # The user and their two kinds of permissions, the letter; the log's count, letters
    # and insert; the rows in one query (one cursor on PostgreSQL) within a savepoint.
    assert small == large == 10


def test_export_writes_each_chunk_before_reading_the_next_rows(letter, signatures, monkeypatch):
    # A million rows must never sit in memory at once: a few lines are written out, then
    # the next rows are read.
    events = []
    read_rows = exports.private_rows

    def recorded_rows(signatures):
        for row in read_rows(signatures):
            events.append("row")
            yield row

    class Terminal:
        def write(self, text):
            events.append("write")

        def flush(self):
            pass

    monkeypatch.setattr(exports, "LINES_PER_CHUNK", 2)
    monkeypatch.setattr(exports, "private_rows", recorded_rows)

    call_command(
        "export_signatures",
        letter.slug,
        "-",
        "--user",
        "exporter",
        stdout=Terminal(),
        stderr=io.StringIO(),
    )

    assert events == ["write"] + ["row", "row", "write"] * 3


# Read back by the import


def import_file(letter, path: Path, *args) -> str:
    out = io.StringIO()
    call_command("import_signatures", letter.slug, str(path), *args, stdout=out, stderr=out)
    return out.getvalue()


def round_trip(source, tmp_path) -> tuple[list[dict], list[dict]]:
    """Export ``source``, import the file into an empty letter of a database that has
    none of its signatories (as another installation would), export that letter: both
    files' rows."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    export(source, first)
    Signatory.objects.all().delete()
    target = make_letter()

    import_file(target, first)

    export(target, second)
    return read_csv(first.read_bytes())[1], read_csv(second.read_bytes())[1]


# What the importer reads: the full name, the display choice, and the rest.
ROUND_TRIP_COLUMNS = [
    "name",
    "display",
    "public_name",
    "kind",
    "category",
    "country_code",
    "verification",
    "verified_at",
    "role",
    "affiliation",
    "website",
    "email",
    "signed_on",
    "statement",
]


def test_exported_file_imports_into_an_empty_letter_with_the_same_signatories(
    letter, signatures, tmp_path
):
    before, after = round_trip(letter, tmp_path)

    assert len(after) == len(before) == 6
    assert [[row[c] for c in ROUND_TRIP_COLUMNS] for row in after] == [
        [row[c] for c in ROUND_TRIP_COLUMNS] for row in before
    ]
    assert {row["source"] for row in after} == {"import"}
    # Organisations, and every display choice, came back.
    assert [(row["kind"], row["display"]) for row in after] == [
        (SignatoryKind.ORGANISATION, Display.FULL),
        (SignatoryKind.ORGANISATION, Display.FULL),
        (SignatoryKind.INDIVIDUAL, Display.FULL),
        (SignatoryKind.INDIVIDUAL, Display.FIRST_NAME),
        (SignatoryKind.INDIVIDUAL, Display.INITIALS),
        (SignatoryKind.INDIVIDUAL, Display.ANONYMOUS),
    ]


def test_status_and_featured_are_decided_by_the_import_not_read_from_the_file(
    letter, signatures, tmp_path
):
    before, after = round_trip(letter, tmp_path)

    # New signatures wait for review unless the import publishes them; featuring is an
    # editorial choice for each letter.
    assert {row["status"] for row in after} == {"pending"}
    assert {row["featured"] for row in after} == {"no"}
    assert len(before) == len(after)


def test_exported_file_imports_into_a_second_letter_matching_signatories_by_email(
    letter, signatures, tmp_path
):
    path = tmp_path / "staff.csv"
    export(letter, path)
    target = make_letter()

    import_file(target, path)

    imported = dict(
        Signature.objects.filter(letter=target).values_list("signatory__name", "signatory_id")
    )
    by_email_or_without_country = [
        s for s in signatures if s.signatory.email or not s.signatory.country
    ]
    assert len(by_email_or_without_country) == 5
    assert {s.signatory.name: imported[s.signatory.name] for s in by_email_or_without_country} == {
        s.signatory.name: s.signatory_id for s in by_email_or_without_country
    }


def test_exported_file_imports_into_a_second_letter_creating_no_signatory(
    letter, signatures, tmp_path
):
    path = tmp_path / "staff.csv"
    export(letter, path)
    before = Signatory.objects.count()

    import_file(make_letter(), path)

    assert Signatory.objects.count() == before

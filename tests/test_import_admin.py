"""The admin import flow: upload → preview (nothing written) → confirm, and its log."""

import csv
import io
import re
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from signatories.importers import MAX_FILE_BYTES, import_signatures
from signatories.models import Signatory, Signature, SignatureImport

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent / "files"


def upload(client, letter, name: str, *, publish: bool = False, content: bytes | None = None):
    data = content if content is not None else (FILES / name).read_bytes()
    payload = {"file": SimpleUploadedFile(name, data)}
    if publish:
        payload["publish"] = "on"
    return client.post(reverse("admin:letters_letter_import", args=[letter.pk]), payload)


def confirm(client, letter, record: SignatureImport):
    return client.post(
        reverse("admin:letters_letter_import", args=[letter.pk]), {"confirm": record.pk}
    )


def test_upload_shows_a_preview_and_writes_nothing(admin_client, letter):
    response = upload(admin_client, letter, "good.csv")

    content = response.content.decode()
    assert response.status_code == 200
    assert "Preview of good.csv" in content
    assert "Confirm import" in content
    assert "Harbour Street Charity" in content
    assert Signature.objects.count() == 0
    assert Signatory.objects.count() == 0
    assert SignatureImport.objects.get().status == SignatureImport.Status.PREVIEWED


def test_confirming_imports_what_was_previewed_and_logs_counts(admin_client, admin_user, letter):
    upload(admin_client, letter, "good.csv")
    record = SignatureImport.objects.get()

    response = confirm(admin_client, letter, record)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == SignatureImport.Status.IMPORTED
    assert record.user == admin_user
    assert record.created == Signature.objects.filter(letter=letter).count() > 0
    assert record.content == b""
    assert set(Signature.objects.values_list("status", flat=True)) == {"pending"}
    assert set(Signature.objects.values_list("source", flat=True)) == {"import"}


def test_dates_read_as_staff_chose_in_the_preview_are_the_dates_imported(admin_client, letter):
    data = b"name,kind,signed_at\nDated Org,organisation,05/06/2023\n"
    url = reverse("admin:letters_letter_import", args=[letter.pk])

    unsure = admin_client.post(url, {"file": SimpleUploadedFile("d.csv", data)})
    chosen = admin_client.post(
        url, {"file": SimpleUploadedFile("d.csv", data), "date_order": "day_first"}
    )
    confirm(admin_client, letter, SignatureImport.objects.get(status="previewed"))

    assert "can be read day first or month first" in unsure.content.decode()
    assert "were read day first, as chosen" in chosen.content.decode()
    assert Signature.objects.get(letter=letter).signed_on == date(2023, 6, 5)


def test_publish_box_publishes_the_imported_signatures(admin_client, letter):
    upload(admin_client, letter, "good.csv", publish=True)

    confirm(admin_client, letter, SignatureImport.objects.get())

    assert set(Signature.objects.values_list("status", flat=True)) == {"published"}


def test_confirming_twice_imports_once(admin_client, letter):
    upload(admin_client, letter, "good.csv")
    record = SignatureImport.objects.get()
    confirm(admin_client, letter, record)
    count = Signature.objects.count()

    response = confirm(admin_client, letter, record)

    assert response.status_code == 302
    assert Signature.objects.count() == count
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("already confirmed" in m for m in messages)


def test_file_with_bad_rows_shows_each_error_and_offers_no_confirmation(admin_client, letter):
    response = upload(admin_client, letter, "bad_rows.csv")

    content = response.content.decode()
    assert "Confirm import" not in content
    assert "Atlantis" in content
    assert "Nothing will be imported" in content
    assert SignatureImport.objects.get().status == SignatureImport.Status.REFUSED
    assert Signature.objects.count() == 0


def test_binary_file_gets_one_clear_message(admin_client, letter):
    response = upload(admin_client, letter, "image.png")

    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    assert Signature.objects.count() == 0


def test_oversized_upload_is_refused_before_reading(admin_client, letter):
    response = upload(admin_client, letter, "big.csv", content=b"name\n" + b"x" * MAX_FILE_BYTES)

    assert "the limit is" in response.content.decode()
    assert not SignatureImport.objects.exists()


def test_staff_without_import_permission_cannot_open_the_import(client, letter):
    editor = User.objects.create_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)

    response = client.get(reverse("admin:letters_letter_import", args=[letter.pk]))

    assert response.status_code == 403


def test_moderator_can_import(client, letter):
    moderator = User.objects.create_user("moderator", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(moderator)

    upload(client, letter, "good.csv")
    confirm(client, letter, SignatureImport.objects.get())

    assert Signature.objects.filter(letter=letter).exists()


def test_nobody_can_confirm_another_persons_preview(client, admin_client, letter):
    upload(admin_client, letter, "good.csv")
    other = User.objects.create_superuser("other-admin")
    client.force_login(other)

    response = confirm(client, letter, SignatureImport.objects.get())

    assert response.status_code == 404
    assert Signature.objects.count() == 0


def test_template_download_has_every_documented_column(admin_client):
    response = admin_client.get(reverse("admin:letters_letter_import_template"))

    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == [
        "name",
        "kind",
        "category",
        "country",
        "role",
        "affiliation",
        "website",
        "email",
        "statement",
        "display",
        "signed_at",
        "verification",
        "verified_at",
    ]


def test_letter_change_page_links_to_the_import(admin_client, letter):
    response = admin_client.get(reverse("admin:letters_letter_change", args=[letter.pk]))

    assert reverse("admin:letters_letter_import", args=[letter.pk]) in response.content.decode()


def test_command_line_import_is_logged_with_file_name_and_counts(letter):
    call_command("import_signatures", letter.slug, str(FILES / "good.csv"), stdout=io.StringIO())

    record = SignatureImport.objects.get()
    assert record.file_name == "good.csv"
    assert record.status == SignatureImport.Status.IMPORTED
    assert record.created == Signatory.objects.count()


def test_import_log_is_read_only_in_the_admin(admin_client, letter):
    call_command("import_signatures", letter.slug, str(FILES / "good.csv"), stdout=io.StringIO())
    record = SignatureImport.objects.get()

    listing = admin_client.get(reverse("admin:signatories_signatureimport_changelist"))

    assert "good.csv" in listing.content.decode()
    assert admin_client.get(reverse("admin:signatories_signatureimport_add")).status_code == 403
    change = admin_client.get(reverse("admin:signatories_signatureimport_change", args=[record.pk]))
    assert 'name="file_name"' not in change.content.decode()


def test_whole_preview_downloads_as_csv_with_every_row_and_outcome(admin_client, letter):
    page = upload(admin_client, letter, "good.csv")
    record = SignatureImport.objects.get()
    url = reverse("admin:letters_letter_import_preview", args=[letter.pk, record.pk])
    assert url in page.content.decode()

    response = admin_client.get(url)

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    report = import_signatures(
        letter=letter, data=(FILES / "good.csv").read_bytes(), filename="good.csv", dry_run=True
    )
    assert [int(row["line"]) for row in rows] == [row.line for row in report.rows]
    assert rows[0]["name"] == "Harbour Street Charity"
    assert {row["outcome"] for row in rows} == {"New signatory"}
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("value", ["abc", "", "1.5", "-1", "1e3", "9" * 30, "1\x00"])
def test_confirming_with_a_malformed_import_number_is_not_found(admin_client, letter, value):
    upload(admin_client, letter, "good.csv")

    response = admin_client.post(
        reverse("admin:letters_letter_import", args=[letter.pk]), {"confirm": value}
    )

    assert response.status_code == 404
    assert SignatureImport.objects.get().status == SignatureImport.Status.PREVIEWED
    assert Signature.objects.count() == 0


# RFC 6266 with RFC 9110's quoted-string and RFC 8187's ext-value, strictly: a header
# that does not parse whole is wrong, whatever a lenient client would make of it.
TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e]|\\[\t \x21-\x7e])*"'
EXT_VALUE = r"[Uu][Tt][Ff]-8'[A-Za-z-]*'(?:%[0-9A-Fa-f]{2}|[!#$&+.^_`|~0-9A-Za-z-])*"
PARAM = rf"\s*;\s*({TOKEN})\s*=\s*({QUOTED}|{EXT_VALUE}|{TOKEN})"


def filename_on_the_wire(response) -> str:
    """The download's file name as RFC 6266 reads it, from the header bytes as sent."""
    raw = response.serialize_headers()
    [line] = [line for line in raw.split(b"\r\n") if line.startswith(b"Content-Disposition:")]
    value = line.removeprefix(b"Content-Disposition:").decode("latin-1").strip()
    assert re.fullmatch(rf"attachment(?:{PARAM})*", value), value
    params = {name.lower(): v for name, v in re.findall(PARAM, value)}
    if "filename*" in params:
        return unquote(params["filename*"].split("'", 2)[2], encoding="utf-8", errors="strict")
    return re.sub(r"\\(.)", r"\1", params["filename"][1:-1])


@pytest.mark.parametrize(
    "name",
    [
        'Partner "final" list.csv',
        'Partner "final"; v2.csv',
        "Liste déjà vue — été.csv",
    ],
)
def test_preview_download_keeps_an_uploaded_file_name_with_quotes_intact(
    admin_client, letter, name
):
    upload(admin_client, letter, name, content=(FILES / "good.csv").read_bytes())
    record = SignatureImport.objects.get()
    assert record.file_name == name  # the name arrived as uploaded

    response = admin_client.get(
        reverse("admin:letters_letter_import_preview", args=[letter.pk, record.pk])
    )

    assert response.status_code == 200
    assert filename_on_the_wire(response) == f"preview-{record.pk}-{name}.csv"


def test_workbook_over_the_unpacked_limit_gets_one_clear_message(admin_client, letter, settings):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["name", "statement"])
    for n in range(200):
        book.active.append([f"Person {n}", f"{n:06d}" + "x" * 2000])
    out = io.BytesIO()
    book.save(out)
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = 100_000

    response = upload(admin_client, letter, "partners.xlsx", content=out.getvalue())

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="errornote"') == 1
    assert "The workbook unpacks to" in page
    assert "Confirm import" not in page
    assert Signature.objects.count() == 0
    assert Signatory.objects.count() == 0
    assert SignatureImport.objects.get().status == SignatureImport.Status.REFUSED

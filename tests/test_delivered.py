"""The delivered list (issue 12, point 5): a letter's public list frozen when it was
delivered, checked by the command and by hand with the script its page shows, still
checking after a signer withdraws, and failing once a row is changed in SQL."""

import csv
import hashlib
import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from letters.models import Letter
from signatories.delivered import (
    DELIVERED_COLUMNS,
    EMPTY_ROOT,
    FreezeError,
    MerkleRoot,
    delivered_summary,
    freeze_delivered_list,
    verify,
)
from signatories.merging import merge_signatories
from signatories.models import (
    Category,
    DeliveredList,
    DeliveredRow,
    Display,
    ListRank,
    Signature,
    Verification,
)
from signatories.signing import withdraw_signature
from signatories.tallies import refresh_tally
from signatories.vetting import reject_signatures, set_status, verify_signatures
from tests.factories import make_letter, make_many_signatures, make_person, make_signature
from tests.helpers import letter_admin_form
from tests.test_privacy import pages_containing, public_pages

pytestmark = pytest.mark.django_db


def page_url(letter: Letter) -> str:
    return reverse("signatories:delivered", args=[letter.slug])


def file_url(letter: Letter) -> str:
    return reverse("signatories:delivered_file", args=[letter.slug])


def download(client, letter: Letter) -> bytes:
    response = client.get(file_url(letter))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def file_lines(client, letter: Letter) -> list[str]:
    return download(client, letter).decode("utf-8").splitlines()


def shown_rows(client, letter: Letter) -> list[list[str]]:
    """The cells of each row the file shows (redacted rows left out)."""
    return [json.loads(line.split(" ", 1)[1]) for line in file_lines(client, letter) if " " in line]


def verify_command(slug: str, *args) -> str:
    out = StringIO()
    call_command("verify_delivered", slug, *args, stdout=out)
    return out.getvalue()


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """MTH of RFC 6962, section 2.1, written as the RFC states it (recursively)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


@pytest.fixture
def delivered_letter(db):
    """A letter with a full name, a first name, initials, an anonymous signer, an
    organisation, and a pending signature (not public), frozen."""
    letter = make_letter(title="Delivered letter")
    make_signature(letter, make_person("Grace Hopper", role="Admiral", affiliation="US Navy"))
    make_signature(letter, make_person("Frida Wolstenholme"), display=Display.FIRST_NAME)
    make_signature(letter, make_person("Jonah Dunmore"), display=Display.INITIALS)
    make_signature(letter, make_person("Marisol Okonkwo", country="FR"), display=Display.ANONYMOUS)
    make_signature(letter, statement="=SUM(A1) we stand with survivors")
    make_signature(letter, make_person("Pending Person"), status=Signature.Status.PENDING)
    freeze_delivered_list(letter=letter)
    return letter


def signature_of(letter: Letter, name: str) -> Signature:
    return Signature.objects.get(letter=letter, signatory__name=name)


# The format and its hashes


def test_streamed_root_is_the_rfc_6962_merkle_tree_hash_for_every_size_to_100():
    leaves = [hashlib.sha256(b"\x00" + str(i).encode()).digest() for i in range(100)]
    for count in range(101):
        root = MerkleRoot()
        for leaf in leaves[:count]:
            root.add(leaf)

        assert root.hexdigest() == rfc6962_root(leaves[:count]).hex(), count


def test_each_row_is_its_salt_and_the_public_csv_cells_in_list_order(client, delivered_letter):
    csv_response = client.get(reverse("signatories:letter_csv", args=[delivered_letter.slug]))
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    [header, *csv_rows] = list(csv.reader(StringIO(text)))
    without_profile = [
        [cell for column, cell in zip(header, row, strict=True) if column != "profile_url"]
        for row in csv_rows
    ]

    assert [column for column in header if column != "profile_url"] == DELIVERED_COLUMNS
    assert shown_rows(client, delivered_letter) == without_profile
    for line in file_lines(client, delivered_letter):
        salt, _, row = line.partition(" ")
        assert re.fullmatch(r"[0-9a-f]{32}", salt)
        assert json.dumps(json.loads(row), ensure_ascii=False, separators=(",", ":")) == row


def test_names_are_frozen_as_their_signers_chose_to_show_them(client, delivered_letter):
    rows = shown_rows(client, delivered_letter)
    names = [row[0] for row in rows]
    text = download(client, delivered_letter).decode()

    assert "Grace Hopper" in names and "Frida" in names and "J. D." in names and "" in names
    assert next(row[6:8] for row in rows if row[0] == "Grace Hopper") == ["Admiral", "US Navy"]
    for hidden in ("Wolstenholme", "Jonah", "Dunmore", "Marisol", "Okonkwo", "Pending"):
        assert hidden not in text
    assert len(rows) == 5  # the pending signature is not on the list


def test_a_cell_a_spreadsheet_would_run_is_frozen_as_the_csv_shows_it(client, delivered_letter):
    statements = [
        row[DELIVERED_COLUMNS.index("statement")] for row in shown_rows(client, delivered_letter)
    ]

    assert "'=SUM(A1) we stand with survivors" in statements


def test_a_leaf_is_the_sha256_of_a_zero_byte_and_its_line(client, delivered_letter):
    lines = file_lines(client, delivered_letter)
    stored = list(
        DeliveredRow.objects.filter(delivered_list__letter=delivered_letter)
        .order_by("position")
        .values_list("leaf", flat=True)
    )

    assert stored == [hashlib.sha256(b"\x00" + line.encode()).hexdigest() for line in lines]


def test_each_row_gets_a_salt_of_its_own(delivered_letter):
    salts = list(DeliveredRow.objects.values_list("salt", flat=True))

    assert len(set(salts)) == len(salts) == 5


# Freezing


def test_a_list_is_frozen_once(delivered_letter):
    root = delivered_letter.delivered_list.root

    with pytest.raises(FreezeError, match="already frozen"):
        freeze_delivered_list(letter=delivered_letter)

    assert DeliveredList.objects.get().root == root
    assert DeliveredRow.objects.count() == 5


def test_a_draft_letter_is_not_frozen(db):
    draft = make_letter(status=Letter.Status.DRAFT)
    make_signature(draft)

    with pytest.raises(FreezeError, match="draft"):
        freeze_delivered_list(letter=draft)

    assert not DeliveredList.objects.exists()


def test_an_empty_list_freezes_to_the_hash_of_nothing(client):
    letter = make_letter()
    freeze_delivered_list(letter=letter)

    assert letter.delivered_list.root == EMPTY_ROOT == hashlib.sha256(b"").hexdigest()
    assert download(client, letter) == b""
    assert "0 rows (0 shown, 0 redacted)" in verify_command(letter.slug)


def test_a_list_longer_than_a_chunk_freezes_every_row_in_list_order(client, tmp_path):
    letter = make_letter()
    make_many_signatures(letter, 5003)  # CHUNK_SIZE is 5,000
    delivered = freeze_delivered_list(letter=letter)
    csv_response = client.get(reverse("signatories:letter_csv", args=[letter.slug]))
    csv_names = [
        line.split(",", 1)[0]
        for line in b"".join(csv_response.streaming_content).decode("utf-8-sig").splitlines()[1:]
    ]

    assert delivered.rows == 5003
    assert [row[0] for row in shown_rows(client, letter)] == csv_names
    assert list(
        DeliveredRow.objects.order_by("position").values_list("position", flat=True)
    ) == list(range(5003))
    assert "OK" in verify_command(letter.slug)
    assert run_script(tmp_path, script_on_page(client, letter), download(client, letter)) == (
        delivered.root
    )


# The command


def test_verify_delivered_reports_ok_with_the_counts(delivered_letter):
    output = verify_command(delivered_letter.slug)

    assert f"root {delivered_letter.delivered_list.root}" in output
    assert "5 rows (5 shown, 0 redacted)" in output


def test_a_list_still_verifies_after_a_signer_withdraws(delivered_letter):
    withdraw_signature(signature_id=signature_of(delivered_letter, "Grace Hopper").pk)

    assert "5 rows (4 shown, 1 redacted)" in verify_command(delivered_letter.slug)
    assert DeliveredList.objects.get().redacted == 1


def test_a_row_changed_in_sql_fails_verification(delivered_letter):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signatories_deliveredrow SET text = REPLACE(text, 'Grace', 'Gracie')"
        )

    with pytest.raises(CommandError, match="does not verify"):
        verify_command(delivered_letter.slug)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_delivered", delivered_letter.slug, stdout=out)
    assert "text or salt changed since it was frozen" in out.getvalue()
    assert "is not the published root" in out.getvalue()


def test_a_row_and_its_leaf_changed_in_sql_fail_on_the_root(delivered_letter):
    row = DeliveredRow.objects.get(text__contains="Grace")
    text = row.text.replace("Grace", "Gracie")
    leaf = hashlib.sha256(b"\x00" + f"{row.salt} {text}".encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signatories_deliveredrow SET text = %s, leaf = %s WHERE id = %s",
            [text, leaf, row.pk],
        )
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify_delivered", delivered_letter.slug, stdout=out)

    assert "changed since it was frozen" not in out.getvalue()
    assert "is not the published root" in out.getvalue()


def test_a_row_deleted_in_sql_fails_verification(delivered_letter):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM signatories_deliveredrow WHERE position = 2")
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify_delivered", delivered_letter.slug, stdout=out)

    assert "Missing: row 2." in out.getvalue()
    assert "4 rows found; 5 were frozen." in out.getvalue()


def test_a_redacted_leaf_changed_in_sql_fails_verification(delivered_letter):
    withdraw_signature(signature_id=signature_of(delivered_letter, "Grace Hopper").pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE signatories_deliveredrow SET leaf = %s WHERE salt = ''", ["0" * 64])
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify_delivered", delivered_letter.slug, stdout=out)

    assert "is not the published root" in out.getvalue()


def test_a_row_left_shown_after_its_signer_hid_it_is_reported_and_redacted_on_request(
    delivered_letter,
):
    # Changed behind every service's back: only the check can find it.
    Signature.objects.filter(signatory__name="Frida Wolstenholme").update(
        display=Display.ANONYMOUS, sort_name="", list_rank=ListRank.UNNAMED
    )
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify_delivered", delivered_letter.slug, stdout=out)
    assert "still shown, but its signature no longer shows it" in out.getvalue()

    output = verify_command(delivered_letter.slug, "--redact")
    assert "Redacted 1 row(s)." in output
    assert "(4 shown, 1 redacted)" in output


def test_verify_delivered_names_an_unknown_letter(db):
    with pytest.raises(CommandError, match="No delivered list"):
        verify_command("no-such-letter")


# By hand, with the script the page shows


class _Pre(HTMLParser):
    def __init__(self, element_id: str):
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def script_on_page(client, letter) -> str:
    """The check script exactly as a reader copies it from the page."""
    parser = _Pre("check-script")
    parser.feed(client.get(page_url(letter)).content.decode())
    return "".join(parser.text)


def root_on_page(client, letter) -> str:
    match = re.search(
        r'<code class="digest" id="root">([0-9a-f]{64})</code>',
        client.get(page_url(letter)).content.decode(),
    )
    assert match
    return match.group(1)


def run_script(tmp_path, script: str, data: bytes) -> str:
    (tmp_path / "check.py").write_text(script, encoding="utf-8")
    (tmp_path / "delivered.txt").write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-I", "check.py", "delivered.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_script_on_the_page_prints_the_published_root(client, delivered_letter, tmp_path):
    script = script_on_page(client, delivered_letter)

    assert "import hashlib" in script
    assert run_script(tmp_path, script, download(client, delivered_letter)) == root_on_page(
        client, delivered_letter
    )
    assert root_on_page(client, delivered_letter) == DeliveredList.objects.get().root


def test_the_script_still_prints_the_root_after_a_withdrawal(client, delivered_letter, tmp_path):
    root = root_on_page(client, delivered_letter)
    withdraw_signature(signature_id=signature_of(delivered_letter, "Grace Hopper").pk)
    data = download(client, delivered_letter)

    assert b"Grace" not in data
    assert re.search(rb"^[0-9a-f]{64}$", data, re.MULTILINE)
    assert run_script(tmp_path, script_on_page(client, delivered_letter), data) == root


def test_the_script_prints_another_root_after_a_row_is_changed_in_sql(
    client, delivered_letter, tmp_path
):
    root = root_on_page(client, delivered_letter)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE signatories_deliveredrow SET text = REPLACE(text, 'Frida', 'Fred')")

    printed = run_script(
        tmp_path, script_on_page(client, delivered_letter), download(client, delivered_letter)
    )

    assert re.fullmatch(r"[0-9a-f]{64}", printed)
    assert printed != root


def test_one_rows_hash_checks_with_the_shell_command_on_the_page(
    client, delivered_letter, tmp_path
):
    page = client.get(page_url(delivered_letter)).content.decode()
    [command] = re.findall(r"<code>(sed -n 5p .*?)</code>", page)
    (tmp_path / f"{delivered_letter.slug}-delivered.txt").write_bytes(
        download(client, delivered_letter)
    )

    result = subprocess.run(
        ["bash", "-c", html.unescape(command)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split()[0] == DeliveredRow.objects.get(position=4).leaf


# What a signer takes back comes off the list


def assert_redacted(client, letter, name: str) -> None:
    row = DeliveredRow.objects.get(signature=signature_of(letter, name))
    assert (row.salt, row.text) == ("", "")
    assert row.leaf in file_lines(client, letter)
    assert "OK" in verify_command(letter.slug)


def test_a_withdrawn_signature_shows_its_hash_alone(client, delivered_letter):
    withdraw_signature(signature_id=signature_of(delivered_letter, "Frida Wolstenholme").pk)

    assert_redacted(client, delivered_letter, "Frida Wolstenholme")
    assert "Frida" not in download(client, delivered_letter).decode()


@pytest.mark.parametrize("status", [Signature.Status.HIDDEN, Signature.Status.PENDING])
def test_a_signature_staff_take_off_the_list_is_redacted(
    client, admin_user, delivered_letter, status
):
    set_status(
        signatures=Signature.objects.filter(signatory__name="Grace Hopper"),
        status=status,
        by=admin_user,
    )

    assert_redacted(client, delivered_letter, "Grace Hopper")


def test_a_rejected_signature_is_redacted(client, admin_user, delivered_letter):
    reject_signatures(
        signatures=Signature.objects.filter(signatory__name="Grace Hopper"),
        reason="Fake",
        by=admin_user,
    )

    assert_redacted(client, delivered_letter, "Grace Hopper")


def test_a_verification_recorded_after_delivery_keeps_the_row_shown(
    client, admin_user, delivered_letter
):
    verify_signatures(
        signatures=Signature.objects.all(), method=Verification.STAFF_VETTED, by=admin_user
    )

    assert DeliveredList.objects.get().redacted == 0
    assert len(shown_rows(client, delivered_letter)) == 5


class _FormValues(HTMLParser):
    """The fields of an admin change form, as the browser would send them back."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            else:
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def post_change_form(admin_client, url: str, **changes):
    parser = _FormValues()
    parser.feed(admin_client.get(url).content.decode())
    data = {key: value for key, value in parser.data.items() if key != "csrfmiddlewaretoken"}
    response = admin_client.post(url, data | changes)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def test_a_display_changed_in_the_admin_is_redacted(client, admin_client, delivered_letter):
    signature = signature_of(delivered_letter, "Grace Hopper")
    post_change_form(
        admin_client,
        reverse("admin:signatories_signature_change", args=[signature.pk]),
        display=Display.INITIALS,
    )

    assert_redacted(client, delivered_letter, "Grace Hopper")
    assert "Hopper" not in download(client, delivered_letter).decode()


def test_a_name_changed_in_the_admin_is_redacted(client, admin_client, delivered_letter):
    signatory = signature_of(delivered_letter, "Grace Hopper").signatory
    post_change_form(
        admin_client,
        reverse("admin:signatories_signatory_change", args=[signatory.pk]),
        name="Grace B. Hopper",
    )

    assert_redacted(client, delivered_letter, "Grace B. Hopper")


def test_a_signatory_deleted_in_the_admin_is_redacted(client, admin_client, delivered_letter):
    signature = signature_of(delivered_letter, "Grace Hopper")
    response = admin_client.post(
        reverse("admin:signatories_signatory_delete", args=[signature.signatory_id]),
        {"post": "yes"},
    )

    assert response.status_code == 302
    row = DeliveredRow.objects.get(signature_id=signature.pk)
    assert (row.salt, row.text) == ("", "")
    assert "Grace" not in download(client, delivered_letter).decode()
    assert "4 shown, 1 redacted" in verify_command(delivered_letter.slug)


def test_signatures_deleted_with_the_admin_action_are_redacted(
    client, admin_client, delivered_letter
):
    response = admin_client.post(
        reverse("admin:signatories_signature_changelist"),
        {
            "action": "delete_selected",
            ACTION_CHECKBOX_NAME: [signature_of(delivered_letter, "Jonah Dunmore").pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert "J. D." not in [row[0] for row in shown_rows(client, delivered_letter)]
    assert "4 shown, 1 redacted" in verify_command(delivered_letter.slug)


def test_a_statement_changed_on_the_letters_admin_page_is_redacted(
    client, admin_client, delivered_letter
):
    signature = signature_of(delivered_letter, "Grace Hopper")
    form = letter_admin_form(delivered_letter) | {
        "signatures-TOTAL_FORMS": "1",
        "signatures-INITIAL_FORMS": "1",
        "signatures-0-id": signature.pk,
        "signatures-0-letter": delivered_letter.pk,
        "signatures-0-signatory": signature.signatory_id,
        "signatures-0-display": Display.FULL,
        "signatures-0-status": Signature.Status.PUBLISHED,
        "signatures-0-verification": Verification.UNVERIFIED,
        "signatures-0-statement": "I take back what I said",
    }
    response = admin_client.post(
        reverse("admin:letters_letter_change", args=[delivered_letter.pk]), form
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    signature.refresh_from_db()
    assert signature.statement == "I take back what I said"
    assert_redacted(client, delivered_letter, "Grace Hopper")


def test_merging_a_signer_into_another_name_redacts_the_row(client, admin_user, delivered_letter):
    frida = signature_of(delivered_letter, "Frida Wolstenholme")
    keep = make_person("Freda Wolstenholme")

    merge_signatories(keep=keep, others=[frida.signatory], user=admin_user)

    row = DeliveredRow.objects.get(signature_id=frida.pk)
    assert (row.salt, row.text) == ("", "")
    assert "Frida" not in download(client, delivered_letter).decode()
    assert "OK" in verify_command(delivered_letter.slug)


def test_merging_into_a_name_shown_the_same_keeps_the_row(client, admin_user, delivered_letter):
    frida = signature_of(delivered_letter, "Frida Wolstenholme")  # shown as "Frida"
    keep = make_person("Frida Wolstenholme-Smith")

    merge_signatories(keep=keep, others=[frida.signatory], user=admin_user)

    assert DeliveredRow.objects.get(signature_id=frida.pk).salt
    assert "Frida" in [row[0] for row in shown_rows(client, delivered_letter)]


def test_a_change_no_path_redacted_is_redacted_by_the_next_count(client, delivered_letter):
    # Signature.save() alone, as a script would: the tally refresh is the safety net.
    signature = signature_of(delivered_letter, "Frida Wolstenholme")
    signature.display = Display.ANONYMOUS
    signature.save()
    assert "Frida" in download(client, delivered_letter).decode()

    refresh_tally(delivered_letter.pk)

    assert_redacted(client, delivered_letter, "Frida Wolstenholme")
    assert "Frida" not in download(client, delivered_letter).decode()


def test_a_signature_moved_to_another_letter_leaves_the_first_letters_list(delivered_letter):
    signature = signature_of(delivered_letter, "Grace Hopper")
    signature.letter = make_letter()
    signature.save()

    refresh_tally(delivered_letter.pk)

    assert not DeliveredRow.objects.get(signature_id=signature.pk).salt


def test_a_row_is_counted_redacted_once_however_often_it_is_redacted(delivered_letter):
    signature = signature_of(delivered_letter, "Frida Wolstenholme")
    withdraw_signature(signature_id=signature.pk)
    withdraw_signature(signature_id=signature.pk)
    refresh_tally(delivered_letter.pk)

    assert DeliveredList.objects.get().redacted == 1


# The admin


def test_the_admin_action_freezes_a_letters_list(admin_client, admin_user):
    letter = make_letter()
    make_signature(letter)
    changelist = reverse("admin:letters_letter_changelist")
    action = {"action": "freeze_delivered_list", ACTION_CHECKBOX_NAME: [letter.pk]}

    response = admin_client.post(changelist, action, follow=True)

    delivered = DeliveredList.objects.get(letter=letter)
    assert delivered.frozen_by == admin_user
    assert f"digest {delivered.root}" in response.content.decode()
    again = admin_client.post(changelist, action, follow=True)
    assert "already frozen" in again.content.decode()
    assert DeliveredList.objects.get(letter=letter).root == delivered.root


def test_recording_the_delivery_date_in_the_admin_freezes_the_list(admin_client):
    letter = make_letter()
    make_signature(letter)
    url = reverse("admin:letters_letter_change", args=[letter.pk])

    response = admin_client.post(url, letter_admin_form(letter, delivered_on="2024-03-05"))

    assert response.status_code == 302
    delivered = DeliveredList.objects.get(letter=letter)
    assert str(delivered.delivered_on) == "2024-03-05"
    assert delivered.rows == 1


def test_a_delivery_date_on_a_letter_nobody_signed_yet_freezes_nothing(admin_client):
    letter = make_letter()
    url = reverse("admin:letters_letter_change", args=[letter.pk])

    response = admin_client.post(
        url, letter_admin_form(letter, delivered_on="2024-03-05"), follow=True
    )

    assert "was not frozen: nobody is listed yet" in response.content.decode()
    assert not DeliveredList.objects.exists()


def test_a_frozen_list_cannot_be_added_changed_or_deleted_in_the_admin(
    admin_client, delivered_letter
):
    delivered = delivered_letter.delivered_list
    change = reverse("admin:signatories_deliveredlist_change", args=[delivered.pk])

    assert admin_client.get(reverse("admin:signatories_deliveredlist_add")).status_code == 403
    assert admin_client.post(change, {"root": "0" * 64, "rows": 1}).status_code == 403
    delete = reverse("admin:signatories_deliveredlist_delete", args=[delivered.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    page = admin_client.get(change)
    assert page.status_code == 200 and delivered.root in page.content.decode()
    changelist = admin_client.get(reverse("admin:signatories_deliveredlist_changelist"))
    assert change in changelist.content.decode()
    assert 'name="root"' not in page.content.decode()
    assert DeliveredList.objects.get().root == delivered.root
    with pytest.raises(NoReverseMatch):  # no admin page for rows at all
        reverse("admin:signatories_deliveredrow_changelist")


def test_a_letter_with_a_frozen_list_cannot_be_deleted(admin_client, delivered_letter):
    delete = reverse("admin:letters_letter_delete", args=[delivered_letter.pk])

    admin_client.post(delete, {"post": "yes"})

    assert Letter.objects.filter(pk=delivered_letter.pk).exists()
    assert DeliveredRow.objects.count() == 5


# The public pages


def test_the_page_shows_the_digest_dates_and_counts(client, delivered_letter):
    withdraw_signature(signature_id=signature_of(delivered_letter, "Grace Hopper").pk)
    response = client.get(page_url(delivered_letter))
    text = " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())

    assert delivered_letter.delivered_list.root in text
    assert "Signatures on the list 5 Shown 4 Redacted since 1" in text
    assert file_url(delivered_letter) in response.content.decode()


def test_the_letter_page_links_its_digest(client, delivered_letter):
    body = client.get(delivered_letter.get_absolute_url()).content.decode()

    assert delivered_letter.delivered_list.root in body
    assert page_url(delivered_letter) in body


def test_a_letter_without_a_frozen_list_shows_no_digest_and_its_pages_404(client, letter):
    make_signature(letter)

    assert "delivered list" not in client.get(letter.get_absolute_url()).content.decode().lower()
    assert client.get(page_url(letter)).status_code == 404
    assert client.get(file_url(letter)).status_code == 404


def test_a_letter_made_a_draft_again_hides_its_delivered_list(client, delivered_letter):
    Letter.objects.filter(pk=delivered_letter.pk).update(status=Letter.Status.DRAFT)

    assert client.get(page_url(delivered_letter)).status_code == 404
    assert client.get(file_url(delivered_letter)).status_code == 404


def test_the_file_downloads_as_utf8_text_named_for_the_letter(client, delivered_letter):
    response = client.get(file_url(delivered_letter))

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert f"{delivered_letter.slug}-delivered.txt" in response["Content-Disposition"]


def test_the_page_and_file_are_cached_as_public_pages(client, delivered_letter):
    for url in (page_url(delivered_letter), file_url(delivered_letter)):
        response = client.get(url)
        assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert client.get(page_url(delivered_letter)).has_header("ETag")


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["signatories:delivered", "signatories:delivered_file"])
def test_the_page_and_file_run_the_same_queries_for_few_and_many_rows(client, name):
    few_letter, many_letter = make_letter(), make_letter()
    make_many_signatures(few_letter, 3)
    make_many_signatures(many_letter, 1200)
    freeze_delivered_list(letter=few_letter)
    freeze_delivered_list(letter=many_letter)
    withdraw_signature(signature_id=Signature.objects.filter(letter=many_letter).first().pk)

    few = count_queries(client, reverse(name, args=[few_letter.slug]))
    many = count_queries(client, reverse(name, args=[many_letter.slug]))

    assert few == many
    assert few <= 2


def test_a_frozen_list_adds_no_query_to_the_letter_page(client):
    plain, delivered = make_letter(), make_letter()
    make_many_signatures(plain, 30)
    make_many_signatures(delivered, 30)
    freeze_delivered_list(letter=delivered)

    assert count_queries(client, plain.get_absolute_url()) == count_queries(
        client, delivered.get_absolute_url()
    )


# For the API


def test_delivered_summary_says_what_the_page_says_without_a_query(delivered_letter):
    letter = Letter.objects.select_related("delivered_list").get(pk=delivered_letter.pk)

    with CaptureQueriesContext(connection) as captured:
        summary = delivered_summary(letter)

    assert captured.captured_queries == []
    assert summary["root"] == delivered_letter.delivered_list.root
    assert (summary["rows"], summary["redacted"]) == (5, 0)
    assert summary["url"] == page_url(delivered_letter)


def test_delivered_summary_is_none_for_a_letter_never_frozen(letter):
    assert (
        delivered_summary(Letter.objects.select_related("delivered_list").get(pk=letter.pk)) is None
    )
    assert delivered_summary(letter) is None


def test_organisations_anonymous_and_categories_are_frozen(client, delivered_letter):
    anonymous = next(row for row in shown_rows(client, delivered_letter) if row[0] == "")

    assert anonymous[1:6] == [
        "Anonymous",
        "Individual",
        str(Category.SURVIVOR.label),
        "FR",
        "France",
    ]


# The privacy scan covers the delivered list


def test_a_surname_taken_back_after_delivery_appears_on_no_public_page(client, admin_client, db):
    letter = make_letter()
    signature = make_signature(letter, make_person("Frida Wolstenholme"))
    freeze_delivered_list(letter=letter)
    assert "Wolstenholme" in download(client, letter).decode()

    post_change_form(
        admin_client,
        reverse("admin:signatories_signature_change", args=[signature.pk]),
        display=Display.FIRST_NAME,
    )
    pages = public_pages(Client())

    assert pages_containing(pages, "Wolstenholme") == []
    assert file_url(letter) in pages and page_url(letter) in pages


def test_the_privacy_scan_finds_a_name_the_frozen_list_kept(client, db):
    letter = make_letter()
    make_signature(letter, make_person("Frida Wolstenholme"))
    freeze_delivered_list(letter=letter)
    # Behind every path's back, so that nothing redacts it: the scan must see it.
    Signature.objects.update(display=Display.FIRST_NAME, sort_name="frida")

    assert pages_containing(public_pages(client), "Wolstenholme") == [file_url(letter)]


def test_the_api_publishes_the_digest_the_file_recomputes_to(client, delivered_letter):
    api = client.get(reverse("api:letter-detail", args=[delivered_letter.slug])).json()
    withdraw_signature(signature_id=signature_of(delivered_letter, "Grace Hopper").pk)

    after = client.get(reverse("api:letter-detail", args=[delivered_letter.slug])).json()
    summary = after["delivered_list"]

    assert (
        summary["root"]
        == api["delivered_list"]["root"]
        == verify(delivered_letter.delivered_list).root
    )
    assert summary["redacted"] == 1
    assert summary["file_url"].endswith(file_url(delivered_letter))
    assert client.get(summary["file_url"]).status_code == 200


def test_the_api_says_null_for_a_letter_with_no_delivered_list(client):
    letter = make_letter()
    api = client.get(reverse("api:letter-detail", args=[letter.slug])).json()

    assert api["delivered_list"] is None

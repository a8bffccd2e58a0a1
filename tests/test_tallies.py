"""Letters' counts: kept in a tally that the task worker recounts shortly after
signatures change, so that recording a signature writes no row that other signers share;
`reconcile_counts` finds and repairs any drift; every write path keeps the list's sort key."""

import io
import re
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from signatories.abuse import form_stamp
from signatories.editing import update_signatory
from signatories.importers import import_signatures
from signatories.links import Purpose, make_token
from signatories.models import LetterTally, Signatory, Signature, list_sort_key
from signatories.tallies import reconcile, refresh_letter_tally
from tests.factories import make_letter, make_many_signatures, make_person, make_signature
from tests.helpers import shown_count

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SHARED_ROW_WRITES = re.compile(
    r'^(UPDATE|INSERT INTO|DELETE FROM) "(letters_letter|signatories_lettertally)"', re.I
)


def sign_and_confirm(client, letter, n: int):
    client.post(
        reverse("signatories:sign", args=[letter.slug]),
        {
            "kind": "individual",
            "name": f"Tally Signer {n}",
            "email": f"tally-{n}@example.org",
            "category": "survivor",
            "display": "full",
            "consent": "on",
            "stamp": form_stamp(now=time.time() - 60),
        },
        REMOTE_ADDR=f"198.51.100.{n}",
    )
    signature = Signature.objects.get(email=f"tally-{n}@example.org")
    token = make_token(signature, Purpose.CONFIRM)
    client.post(reverse("signatories:confirm", args=[letter.slug, token]))
    return signature


def test_signing_writes_no_row_that_other_signers_share(client, settings):
    settings.TASKS = DATABASE_TASKS
    letter = make_letter(accepts_public_signatures=True)

    with CaptureQueriesContext(connection) as captured:
        for n in range(3):
            sign_and_confirm(client, letter, n)

    shared = [q["sql"] for q in captured.captured_queries if SHARED_ROW_WRITES.match(q["sql"])]
    assert shared == []
    assert Signature.objects.filter(letter=letter, status="published").count() == 3


def test_a_burst_of_signatures_queues_one_recount_a_few_seconds_later(client, settings):
    settings.TASKS = DATABASE_TASKS
    settings.COUNTS_REFRESH_SECONDS = 20
    letter = make_letter(accepts_public_signatures=True)

    for n in range(4):
        sign_and_confirm(client, letter, n)

    [recount] = DBTaskResult.objects.filter(task_path=refresh_letter_tally.module_path)
    assert recount.args_kwargs == {"args": [letter.pk], "kwargs": {}}
    delay = (recount.run_after - recount.enqueued_at).total_seconds()
    assert 19 <= delay <= 21


def test_counts_lag_until_the_recount_runs_then_show_every_signature(client, settings):
    settings.TASKS = DATABASE_TASKS
    letter = make_letter(accepts_public_signatures=True)
    for n in range(3):
        sign_and_confirm(client, letter, n)
    assert shown_count(client, letter) == 0

    refresh_letter_tally.call(letter.pk)  # what the worker does when the delay is up

    assert shown_count(client, letter) == 3


def test_with_the_immediate_backend_counts_follow_at_once(client):
    letter = make_letter(accepts_public_signatures=True)

    sign_and_confirm(client, letter, 1)

    assert shown_count(client, letter) == 1


def test_reconcile_reports_and_fixes_a_tally_that_drifted(client, letter):
    make_many_signatures(letter, 12)
    LetterTally.objects.filter(letter=letter).update(total=999)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 letter"):
        call_command("reconcile_counts", "--check", stdout=out)
    assert f"{letter.slug}: showed 999, counted 12" in out.getvalue()
    assert LetterTally.objects.get(letter=letter).total == 999

    call_command("reconcile_counts", stdout=io.StringIO())
    assert LetterTally.objects.get(letter=letter).total == 12
    assert shown_count(client, letter) == 12
    assert reconcile(fix=False) == []


def test_reconcile_counts_a_letter_that_never_had_a_tally(letter):
    make_many_signatures(letter, 5)
    LetterTally.objects.all().delete()

    [drift] = reconcile(fix=True)

    assert (drift.letter_id, drift.recorded, drift.actual) == (letter.pk, None, 5)
    assert LetterTally.objects.get(letter=letter).total == 5


def test_reconcile_finds_a_breakdown_that_drifted_under_the_same_total(letter):
    make_many_signatures(letter, 6, countries=("GB",))
    tally = LetterTally.objects.get(letter=letter)
    tally.breakdown = [[*row[:2], "FR", *row[3:]] for row in tally.breakdown]
    tally.save()

    [drift] = reconcile(fix=True)

    assert drift.breakdown_differs and drift.recorded == drift.actual == 6
    assert {row[2] for row in LetterTally.objects.get(letter=letter).breakdown} == {"GB"}


def test_reconcile_counts_refuses_an_unknown_letter():
    with pytest.raises(CommandError, match="no-such-letter"):
        call_command("reconcile_counts", "no-such-letter", stdout=io.StringIO())


def test_reconcile_counts_says_so_when_everything_matches(letter):
    make_many_signatures(letter, 3)
    out = io.StringIO()

    call_command("reconcile_counts", stdout=out)

    assert "No differences" in out.getvalue()


def test_admin_changes_bring_the_counts_up_to_date(admin_client, client, letter):
    signature = make_signature(letter, make_person("Ada Lovelace"))
    assert shown_count(client, letter) == 1

    admin_client.post(
        reverse("admin:signatories_signature_changelist"),
        {"action": "hide", "_selected_action": [signature.pk]},
    )

    assert shown_count(client, letter) == 0


def keys_match() -> bool:
    return all(
        (s.list_rank, s.sort_name)
        == list_sort_key(kind=s.signatory.kind, display=s.display, name=s.signatory.name)
        for s in Signature.objects.select_related("signatory")
    )


def test_renaming_a_signatory_moves_its_signatures_in_the_list(letter):
    person = make_person("Zelda Zimmer")
    signature = make_signature(letter, person, display="first_name")
    assert signature.sort_name == "zelda"

    update_signatory(signatory=person, name="Abigail Zimmer")

    signature.refresh_from_db()
    assert signature.sort_name == "abigail"
    assert keys_match()


def test_changing_the_display_changes_the_sort_key(letter):
    signature = make_signature(letter, make_person("Yusuf Quayle"))
    signature.display = "initials"
    signature.save()

    signature.refresh_from_db()
    assert (signature.list_rank, signature.sort_name) == (2, "")


IMPORT_FILE = (
    b"name,email,kind,category,display\n"
    b"quentin imported,q@example.org,individual,survivor,first_name\n"
    b"New Person,new@example.org,individual,expert,full\n"
)


def test_signing_through_the_form_and_importing_keep_sort_keys(client):
    letter = make_letter(accepts_public_signatures=True)
    sign_and_confirm(client, letter, 7)
    Signatory.objects.create(
        name="Quentin Imported",
        slug="quentin",
        kind="individual",
        category="survivor",
        email="q@example.org",
    )

    report = import_signatures(
        letter=letter, data=IMPORT_FILE, filename="f.csv", dry_run=False, publish=True
    )

    assert report.ok, report.errors
    # Matched by email: it sorts by its stored name, not the file's spelling.
    assert Signature.objects.get(signatory__slug="quentin").sort_name == "quentin"
    assert keys_match()

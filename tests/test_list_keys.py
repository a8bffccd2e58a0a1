"""A signature's list key, ``(list_rank, sort_name)``: one function computes it
(``list_sort_key``), the database refuses a hidden name's, and ``reconcile_counts`` finds
and repairs a key that a write round the services left stale."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from signatories.list_keys import reconcile_list_keys, stale_list_keys
from signatories.models import Display, ListRank, Signatory, SignatoryKind, Signature, list_sort_key
from tests.factories import make_person, make_signatory, make_signature
from tests.helpers import migrated_back_to

pytestmark = pytest.mark.django_db


def shown_order(letter) -> list[str]:
    return [s.public_name for s in Signature.objects.filter(letter=letter).in_display_order()]


def test_reconcile_counts_check_reports_a_key_an_update_left_stale(letter):
    signature = make_signature(letter, make_person("Zelda Zimmer"), display=Display.FIRST_NAME)
    Signatory.objects.filter(pk=signature.signatory_id).update(name="Abigail Zimmer")
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"1 signature\(s\) have a stale list key"):
        call_command("reconcile_counts", "--check", stdout=out)

    assert f"{letter.slug}: 1 signature(s) stored out of place" in out.getvalue()
    signature.refresh_from_db()
    assert signature.sort_name == "zelda"  # a check changes nothing


def test_reconcile_counts_repairs_a_stale_key_and_the_list_sorts_by_the_new_name(letter):
    renamed = make_signature(letter, make_person("Zelda Zimmer"), display=Display.FIRST_NAME)
    make_signature(letter, make_person("Mia Moore"), display=Display.FIRST_NAME)
    Signatory.objects.filter(pk=renamed.signatory_id).update(name="Abigail Zimmer")
    assert shown_order(letter) == ["Mia", "Abigail"]

    call_command("reconcile_counts", stdout=io.StringIO())

    assert shown_order(letter) == ["Abigail", "Mia"]
    out = io.StringIO()
    call_command("reconcile_counts", "--check", stdout=out)
    assert "No differences" in out.getvalue()


def test_a_name_shown_again_by_an_update_is_found_ranked_as_unnamed(letter):
    signature = make_signature(letter, make_person("Yusuf Quayle"), display=Display.INITIALS)
    Signature.objects.filter(pk=signature.pk).update(display=Display.FULL)

    [stale] = stale_list_keys()

    assert stale.signature_id == signature.pk
    assert stale.stored == (ListRank.UNNAMED, "")
    assert stale.computed == (ListRank.NAMED, "yusuf quayle")


def test_keys_are_checked_and_repaired_a_batch_at_a_time(letter):
    people = [make_person(f"Person {n} Old") for n in range(5)]
    for person in people:
        make_signature(letter, person)
    Signatory.objects.filter(pk__in=[p.pk for p in people]).update(name="Same New-Name")

    assert reconcile_list_keys(fix=False, batch_size=2) == {letter.pk: 5}
    assert reconcile_list_keys(batch_size=2) == {letter.pk: 5}

    assert list(stale_list_keys()) == []
    assert set(Signature.objects.values_list("sort_name", flat=True)) == {"same new-name"}


@pytest.mark.parametrize("display", [Display.INITIALS, Display.ANONYMOUS])
def test_the_database_refuses_a_hidden_name_ranked_among_the_named(letter, display):
    signature = make_signature(letter, make_person("Frida Kahlo"))

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(display=display, sort_name="")


def test_the_database_refuses_a_hidden_name_kept_as_the_sort_name(letter):
    signature = make_signature(letter, make_person("Frida Kahlo"))

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(
            display=Display.INITIALS, list_rank=ListRank.UNNAMED
        )


@pytest.mark.parametrize("kind", SignatoryKind.values)
@pytest.mark.parametrize("display", Display.values)
def test_the_database_accepts_every_key_the_function_computes(letter, kind, display):
    # An organisation shown by initials is refused by the forms and imports, but a
    # signatory's kind can change after it signed: its key is (ORGANISATION, "").
    signatory = make_signatory(kind=kind, name="The Zoë Quimby Trust")

    signature = make_signature(letter, signatory, display=display)

    stored = Signature.objects.values_list("list_rank", "sort_name").get(pk=signature.pk)
    assert stored == list_sort_key(kind=kind, display=display, name=signatory.name)
    if display not in (Display.FULL, Display.FIRST_NAME):
        assert stored[1] == ""


def test_saving_a_signatory_writes_no_other_row(letter):
    person = make_person("Zelda Zimmer")
    make_signature(letter, person)
    person.name = "Abigail Zimmer"

    with CaptureQueriesContext(connection) as captured:
        person.save()

    writes = [q["sql"] for q in captured if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes and all("signatories_signature" not in sql for sql in writes)


@pytest.mark.django_db(transaction=True)
def test_the_migration_ranks_a_hidden_name_left_among_the_named_as_unnamed():
    before = [("signatories", "0035_delivered_lists")]
    with migrated_back_to(before) as (old, forward):
        letter = old.get_model("letters", "Letter").objects.create(
            title="Old letter", slug="old-letter", summary="s", body="b", status="open"
        )
        person = old.get_model("signatories", "Signatory").objects.create(
            name="Frida Kahlo", slug="frida", kind="individual", category="survivor", name_key="f"
        )
        old.get_model("signatories", "Signature").objects.create(
            letter=letter, signatory=person, display="initials", list_rank=1, sort_name=""
        )

        forward()

        assert Signature.objects.values_list("list_rank", "sort_name").get() == (2, "")

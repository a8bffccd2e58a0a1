"""Retention: `anonymise_closed` erases signers' emails and IP addresses a set number of
days after their letter closes, from the records and their history, and nothing else."""

import datetime
import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from letters.models import Letter
from signatories.links import Purpose, link
from signatories.models import Category, Signatory, SignatoryKind, Signature
from signatories.signing import CONSENT_TEXT, SignerDetails, confirm_signature, sign_letter
from signatories.tasks import send_signature_email
from tests.factories import make_letter, make_person, make_signatory, make_signature
from tests.helpers import letter_admin_form

pytestmark = pytest.mark.django_db


def closed_letter(days_ago: int) -> Letter:
    return make_letter(
        status=Letter.Status.CLOSED,
        closed_on=timezone.localdate() - datetime.timedelta(days=days_ago),
    )


def public_form_signature(letter: Letter, email: str, ip: str = "198.51.100.7", **fields):
    signature = make_signature(
        letter,
        make_person(f"Person {email.split('@')[0]}", email=""),
        source=Signature.Source.PUBLIC_FORM,
        email=email,
        email_normalised=email.lower(),
        ip_address=ip,
        consent_text=CONSENT_TEXT,
        consented_at=timezone.now(),
        confirmed_at=timezone.now(),
        **fields,
    )
    # A second saved version, so the history holds the private fields more than once.
    signature.statement = "Edited statement"
    signature.save()
    return signature


def run(*args) -> str:
    out = io.StringIO()
    call_command("anonymise_closed", *args, stdout=out)
    return out.getvalue()


def private_values(signature: Signature) -> tuple:
    signature.refresh_from_db()
    return (signature.email, signature.email_normalised, signature.ip_address)


def history_private_values(signature: Signature) -> set:
    return set(signature.history.values_list("email", "email_normalised", "ip_address"))


def test_emails_and_ips_are_erased_once_the_letter_has_been_closed_long_enough():
    signature = public_form_signature(closed_letter(181), "old.signer@example.org")

    output = run()

    assert private_values(signature) == ("", "", None)
    assert "Erased email and IP data of 1 signature(s)" in output


def test_the_history_of_an_erased_signature_keeps_no_email_or_ip():
    signature = public_form_signature(closed_letter(200), "history.signer@example.org")
    assert ("history.signer@example.org", "history.signer@example.org", "198.51.100.7") in (
        history_private_values(signature)
    )

    run()

    assert history_private_values(signature) == {("", "", None)}


def test_letters_closed_more_recently_and_open_letters_keep_their_signers_emails():
    recent = public_form_signature(closed_letter(179), "recent@example.org")
    still_open = public_form_signature(make_letter(), "open@example.org", ip="203.0.113.9")

    run()

    assert private_values(recent) == ("recent@example.org", "recent@example.org", "198.51.100.7")
    assert private_values(still_open) == ("open@example.org", "open@example.org", "203.0.113.9")


def test_days_option_sets_the_retention_period():
    signature = public_form_signature(closed_letter(31), "month@example.org")

    run("--days", "60")
    assert private_values(signature)[0] == "month@example.org"

    run("--days", "30")
    assert private_values(signature) == ("", "", None)


def test_retention_period_comes_from_the_setting_by_default(settings):
    settings.RETENTION_DAYS = 10
    signature = public_form_signature(closed_letter(11), "setting@example.org")

    run()

    assert private_values(signature) == ("", "", None)


def test_dry_run_counts_and_changes_nothing():
    signature = public_form_signature(closed_letter(365), "dry@example.org")

    output = run("--dry-run")

    assert "Would erase email and IP data of 1 signature(s)" in output
    assert private_values(signature) == ("dry@example.org", "dry@example.org", "198.51.100.7")


def test_a_second_run_finds_nothing_left_to_erase():
    public_form_signature(closed_letter(365), "twice@example.org")
    run()

    assert "Erased email and IP data of 0 signature(s)" in run()


def test_names_statements_and_what_the_public_sees_are_unchanged(client):
    letter = closed_letter(365)
    signature = public_form_signature(letter, "kept@example.org", statement="We must act.")
    page = reverse("letters:detail", args=[letter.slug])
    csv_url = reverse("signatories:letter_csv", args=[letter.slug])
    before = (client.get(page).content, client.get(csv_url).getvalue())

    run()

    signature.refresh_from_db()
    assert (signature.status, signature.display, signature.statement) == (
        Signature.Status.PUBLISHED,
        Signature.Display.FULL,
        "Edited statement",
    )
    assert (client.get(page).content, client.get(csv_url).getvalue()) == before


def test_individuals_who_signed_only_closed_letters_lose_their_email():
    person = make_person("Imported Person", email="imported.person@example.org")
    make_signature(closed_letter(365), person)

    run()

    person.refresh_from_db()
    assert person.email == ""
    assert set(person.history.values_list("email", flat=True)) == {""}


def test_individuals_who_also_signed_a_letter_still_open_keep_their_email():
    person = make_person("Active Person", email="active.person@example.org")
    make_signature(closed_letter(365), person)
    make_signature(make_letter(), person)

    run()

    person.refresh_from_db()
    assert person.email == "active.person@example.org"


def test_organisations_keep_their_contact_email():
    organisation = make_signatory(kind=SignatoryKind.ORGANISATION, email="office@charity.example")
    make_signature(closed_letter(365), organisation)

    run()

    organisation.refresh_from_db()
    assert organisation.email == "office@charity.example"


def test_negative_days_are_refused():
    with pytest.raises(CommandError, match="zero or more"):
        run("--days", "-1")


def test_an_erased_signer_can_still_withdraw_and_is_emailed_nothing(client):
    letter = closed_letter(365)
    signature = public_form_signature(letter, "leaving@example.org")
    run()

    send_signature_email.enqueue(signature.pk, "already_signed")
    response = client.post(link(signature, Purpose.WITHDRAW).removeprefix(settings.SITE_URL))

    assert mail.outbox == []
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN


def test_closing_a_letter_in_the_admin_asks_for_the_closing_date(admin_client):
    letter = make_letter()
    url = reverse("admin:letters_letter_change", args=[letter.pk])

    refused = admin_client.post(url, letter_admin_form(letter, status=Letter.Status.CLOSED))
    letter.refresh_from_db()
    assert refused.status_code == 200
    assert "A closed letter needs the date it closed." in refused.content.decode()
    assert letter.status == Letter.Status.OPEN

    admin_client.post(
        url, letter_admin_form(letter, status=Letter.Status.CLOSED, closed_on="2025-06-30")
    )
    letter.refresh_from_db()
    assert (letter.status, letter.closed_on) == (Letter.Status.CLOSED, datetime.date(2025, 6, 30))


# Submissions of the sign form nobody confirmed while their link worked


def submission(letter: Letter, email: str, *, days_old: float) -> Signature:
    signature = sign_letter(
        letter=letter,
        details=SignerDetails(
            kind=SignatoryKind.INDIVIDUAL,
            name=f"Never Confirmed {email}",
            email=email,
            category=Category.SURVIVOR,
        ),
        ip_address="198.51.100.9",
        send_email=False,
    )
    Signature.objects.filter(pk=signature.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days_old)
    )
    return signature


def test_submissions_never_confirmed_while_their_link_worked_are_deleted_with_their_signatory():
    letter = make_letter(accepts_public_signatures=True)
    lifetime_days = settings.SIGN_CONFIRMATION_MAX_AGE / 86400
    expired = submission(letter, "gone@example.org", days_old=lifetime_days + 1.5)
    recent = submission(letter, "recent@example.org", days_old=lifetime_days + 0.5)
    confirmed = submission(letter, "kept@example.org", days_old=lifetime_days + 3)
    confirm_signature(signature_id=confirmed.pk)
    held = submission(letter, "held@example.org", days_old=lifetime_days + 3)
    Signature.objects.filter(pk=held.pk).update(status=Signature.Status.PENDING)

    assert "would delete 1 submission(s)" in run("--dry-run")
    assert Signature.objects.filter(pk=expired.pk).exists()
    output = run()

    assert "deleted 1 submission(s) never confirmed while their link worked" in output
    assert set(Signature.objects.values_list("pk", flat=True)) == {
        recent.pk,
        confirmed.pk,
        held.pk,
    }
    assert not Signatory.objects.filter(pk=expired.signatory_id).exists()
    assert "deleted 0 submission(s)" in run()  # idempotent: nothing more to delete


def test_a_deleted_submission_leaves_no_copy_of_its_signer_in_the_change_history():
    """The privacy page says a submission nobody confirmed is deleted: its name, address
    and network address must not live on in the audit history either."""
    letter = make_letter(accepts_public_signatures=True)
    lifetime_days = settings.SIGN_CONFIRMATION_MAX_AGE / 86400
    expired = submission(letter, "gone@example.org", days_old=lifetime_days + 1.5)
    # A moderator looked at it while it waited: that edit is in the history too.
    expired.refresh_from_db()
    expired.moderation_reason = "looked at by staff"
    expired.save()
    kept = submission(letter, "kept@example.org", days_old=lifetime_days + 3)
    confirm_signature(signature_id=kept.pk)

    run()

    history = [
        *Signature.history.values_list("email", "email_normalised"),
        *Signatory.history.values_list("name", "email"),
    ]
    assert not [row for row in history if any("gone@example.org" in value for value in row)]
    assert not Signatory.history.filter(id=expired.signatory_id).exists()
    assert not Signature.history.filter(id=expired.pk).exists()
    assert Signature.history.filter(id=kept.pk, email="kept@example.org").exists()


def test_the_migration_forgets_what_earlier_deletions_of_submissions_left_in_the_history():
    """Migration 0021: before the history started at confirmation, a deleted submission
    left its rows (and a "deleted" row) behind. They go; deleted signatures that were
    confirmed, or entered by staff, keep their whole history."""
    forget = importlib.import_module(
        "signatories.migrations.0021_forget_history_of_submissions_set_aside"
    ).forget
    letter = make_letter(accepts_public_signatures=True)
    submitted, confirmed = (
        submission(letter, email, days_old=0) for email in ("gone@example.org", "kept@example.org")
    )
    confirm_signature(signature_id=confirmed.pk)
    by_staff = make_signature(letter, make_person(name="Staff Entered"))
    for record in (submitted, submitted.signatory):
        type(record).history.bulk_history_create([record])  # as the old sign_letter did
    for record in (submitted, confirmed, by_staff):
        Signature.objects.get(pk=record.pk).delete()
    Signatory.objects.get(pk=submitted.signatory_id).delete()
    assert Signature.history.filter(id=submitted.pk).count() == 2

    forget(django_apps, None)

    assert not Signature.history.filter(id=submitted.pk).exists()
    assert not Signatory.history.filter(id=submitted.signatory_id).exists()
    assert Signature.history.filter(id=confirmed.pk).count() == 2  # confirmed, deleted
    assert Signature.history.filter(id=by_staff.pk).count() == 2  # entered, deleted
    assert Signatory.history.filter(id=confirmed.signatory_id).exists()

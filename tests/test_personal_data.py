"""Least privilege in the admin: signers' emails, IP addresses, consent records and
moderation notes reach only staff with ``view_signer_personal_data`` (Moderators,
superusers), on every admin page, search, filter and history view; and each page that
shows them is recorded.

A signer signs through the real sign form (so the email, IP address, consent and
moderation reason are stored as the app stores them), a moderator adds a note through
the admin (so the change history carries it), and real users in each group fetch every
admin page about that signer with the test client. Each page's text is scanned for the
known values.
"""

import html
import re
import time

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.urls import reverse

from signatories.abuse import form_stamp
from signatories.models import PersonalDataView, Signatory, Signature
from signatories.signing import CONSENT_TEXT
from tests.factories import make_letter, make_person, make_signature

pytestmark = pytest.mark.django_db

EMAIL = "hidden.survivor@example.org"
IP = "203.0.113.77"
NOTE = "Rang her back on 07700 900123"
HELD = "form sent faster than a person fills it in"
SIGNATORY_EMAIL = "partner.contact@example.net"
SIGNATORY_NOTE = "Prefers phone, not email"
# What every page about the signer must not show to staff without the permission.
PERSONAL = [EMAIL, IP, NOTE, HELD, CONSENT_TEXT, SIGNATORY_EMAIL, SIGNATORY_NOTE]

WITHOUT = ["Viewers", "Editors"]
WITH = ["Moderators"]


def staff_in(group_name: str) -> User:
    user = User.objects.create_user(f"{group_name.lower()}-user", password="unused", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def text_of(response) -> str:
    """The page as a browser would show its text and attribute values: entities decoded."""
    return html.unescape(response.content.decode())


def leaked(response) -> list[str]:
    page = text_of(response)
    return [value for value in PERSONAL if value in page]


@pytest.fixture
def signer(client):
    """A signature from the public form (held: sent too fast) and confirmed, with a note
    a moderator added in the admin; and a signatory with a contact email and notes."""
    letter = make_letter(accepts_public_signatures=True)
    response = client.post(
        reverse("signatories:sign", args=[letter.slug]),
        {
            "kind": "individual",
            "name": "Frida Hidden",
            "email": EMAIL,
            "category": "survivor",
            "display": "first_name",
            "consent": "on",
            "stamp": form_stamp(now=time.time()),  # too fast: held, with a reason
        },
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    path = re.search(r"https?://[^/\s]+(/letters/\S+/confirm/\S+/)", mail.outbox[0].body)[1]
    assert client.post(path).status_code == 200
    signature = Signature.objects.get(email=EMAIL)
    assert (signature.ip_address, signature.moderation_reason) == (IP, HELD)

    moderator = User.objects.create_superuser("note-taker", password=None)
    client.force_login(moderator)
    change = reverse("admin:signatories_signature_change", args=[signature.pk])
    form = {
        "letter": letter.pk,
        "signatory": signature.signatory_id,
        "signed_on": signature.signed_on.isoformat(),
        "display": signature.display,
        "statement": "",
        "status": signature.status,
        "source": signature.source,
        "notes": NOTE,
    }
    assert client.post(change, form).status_code == 302
    client.logout()
    signature.refresh_from_db()
    assert signature.notes == NOTE

    contact = make_person("Partner Contact", email=SIGNATORY_EMAIL, notes=SIGNATORY_NOTE)
    make_signature(letter, contact)
    Signatory.objects.filter(pk=contact.pk).update(notes=SIGNATORY_NOTE)
    return signature, contact


def admin_pages(signature: Signature, contact: Signatory) -> list[str]:
    versions = [
        reverse("admin:signatories_signature_simple_history", args=[signature.pk, h.history_id])
        for h in signature.history.all()
    ]
    contact_versions = [
        reverse("admin:signatories_signatory_simple_history", args=[contact.pk, h.history_id])
        for h in contact.history.all()
    ]
    return [
        reverse("admin:signatories_signature_changelist"),
        reverse("admin:signatories_signature_changelist") + "?status__exact=pending",
        reverse("admin:signatories_signature_change", args=[signature.pk]),
        reverse("admin:signatories_signature_history", args=[signature.pk]),
        *versions,
        reverse("admin:signatories_signatory_changelist"),
        reverse("admin:signatories_signatory_change", args=[signature.signatory_id]),
        reverse("admin:signatories_signatory_change", args=[contact.pk]),
        reverse("admin:signatories_signatory_history", args=[contact.pk]),
        *contact_versions,
        reverse("admin:letters_letter_change", args=[signature.letter_id]),
        reverse("admin:index"),
    ]


@pytest.mark.parametrize("group", WITHOUT)
def test_admin_pages_show_no_personal_data_to_staff_without_the_permission(client, signer, group):
    signature, contact = signer
    client.force_login(staff_in(group))
    pages = admin_pages(signature, contact)
    assert len(pages) > 12  # the history has versions to open

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaked(response) == [], url
    # The pages are the signer's pages: they show who signed, just not the private part.
    change = client.get(reverse("admin:signatories_signature_change", args=[signature.pk]))
    assert "Frida Hidden" in text_of(change)


@pytest.mark.parametrize("group", WITH)
def test_moderators_see_the_personal_data_on_the_change_and_history_pages(client, signer, group):
    signature, contact = signer
    client.force_login(staff_in(group))

    change = client.get(reverse("admin:signatories_signature_change", args=[signature.pk]))
    history = client.get(reverse("admin:signatories_signature_history", args=[signature.pk]))
    contact_page = client.get(reverse("admin:signatories_signatory_change", args=[contact.pk]))

    assert {EMAIL, IP, NOTE, HELD, CONSENT_TEXT} <= set(leaked(change))
    assert NOTE in text_of(history)
    assert {SIGNATORY_EMAIL, SIGNATORY_NOTE} <= set(leaked(contact_page))


def signature_list(client, query: str):
    return client.get(reverse("admin:signatories_signature_changelist") + query)


def listed(response, signature: Signature) -> bool:
    return reverse("admin:signatories_signature_change", args=[signature.pk]) in (
        response.content.decode()
    )


@pytest.mark.parametrize("group", WITHOUT)
def test_staff_without_the_permission_cannot_search_signatures_by_email(client, signer, group):
    signature, _ = signer
    client.force_login(staff_in(group))

    by_email = signature_list(client, f"?q={EMAIL}")
    by_name = signature_list(client, "?q=Frida")

    assert by_email.status_code == 200
    assert not listed(by_email, signature)
    assert listed(by_name, signature)


@pytest.mark.parametrize("group", WITH)
def test_moderators_can_search_signatures_by_email(client, signer, group):
    signature, _ = signer
    client.force_login(staff_in(group))

    assert listed(signature_list(client, f"?q={EMAIL}"), signature)


@pytest.mark.parametrize("group", WITHOUT)
@pytest.mark.parametrize(
    "query",
    [
        f"?email={EMAIL}",
        "?email__startswith=h",
        f"?ip_address={IP}",
        "?notes__icontains=07700",
        "?moderation_reason__contains=fast",
        "?consented_at__isnull=False",
        f"?signatory__email={SIGNATORY_EMAIL}",
    ],
)
def test_filtering_the_list_by_a_personal_field_in_its_address_is_refused(
    client, signer, group, query
):
    """Otherwise ``?email__startswith=a``, then ``ab``… spells an address out."""
    client.force_login(staff_in(group))

    response = signature_list(client, query)

    assert response.status_code == 400
    assert leaked(response) == []


def test_moderators_may_filter_by_email_in_the_address(client, signer):
    signature, _ = signer
    client.force_login(staff_in("Moderators"))

    response = signature_list(client, f"?email={EMAIL}")

    assert response.status_code == 200
    assert listed(response, signature)


@pytest.mark.parametrize("group", WITHOUT)
def test_signatory_search_and_autocomplete_ignore_emails_without_the_permission(
    client, signer, group
):
    _, contact = signer
    client.force_login(staff_in(group))
    contact_url = reverse("admin:signatories_signatory_change", args=[contact.pk])

    search = client.get(reverse("admin:signatories_signatory_changelist") + "?q=partner.contact")
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {
            "term": "partner.contact",
            "app_label": "signatories",
            "model_name": "signature",
            "field_name": "signatory",
        },
    )

    assert contact_url not in search.content.decode()
    assert autocomplete.status_code == 200
    assert autocomplete.json()["results"] == []


def test_moderators_find_a_signatory_by_email_in_the_autocomplete(client, signer):
    _, contact = signer
    client.force_login(staff_in("Moderators"))

    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {
            "term": "partner.contact",
            "app_label": "signatories",
            "model_name": "signature",
            "field_name": "signatory",
        },
    )

    assert [r["id"] for r in autocomplete.json()["results"]] == [str(contact.pk)]


# The record of who saw what


def test_each_change_page_showing_personal_data_is_recorded(client, signer):
    signature, contact = signer
    moderator = staff_in("Moderators")
    client.force_login(moderator)

    client.get(reverse("admin:signatories_signature_change", args=[signature.pk]))
    client.get(reverse("admin:signatories_signature_change", args=[signature.pk]))
    client.get(reverse("admin:signatories_signatory_change", args=[contact.pk]))

    assert list(
        PersonalDataView.objects.filter(user=moderator)
        .order_by("pk")
        .values_list("model", "object_id", "page")
    ) == [
        ("signature", signature.pk, "change"),
        ("signature", signature.pk, "change"),
        ("signatory", contact.pk, "change"),
    ]


def test_history_pages_shown_with_personal_data_are_recorded(client, signer):
    signature, _ = signer
    moderator = staff_in("Moderators")
    client.force_login(moderator)
    version = signature.history.earliest()

    client.get(reverse("admin:signatories_signature_history", args=[signature.pk]))
    client.get(
        reverse(
            "admin:signatories_signature_simple_history",
            args=[signature.pk, version.history_id],
        )
    )

    assert list(
        PersonalDataView.objects.filter(user=moderator).order_by("pk").values_list("page")
    ) == [("history",), ("history_version",)]


@pytest.mark.parametrize("group", WITHOUT)
def test_pages_shown_without_personal_data_are_not_recorded(client, signer, group):
    signature, contact = signer
    client.force_login(staff_in(group))

    for url in admin_pages(signature, contact):
        client.get(url)

    assert not PersonalDataView.objects.exists()


def test_a_signature_holding_no_personal_data_is_not_recorded(client, letter):
    signature = make_signature(letter)  # entered by staff: no email, IP or notes
    client.force_login(staff_in("Moderators"))

    response = client.get(reverse("admin:signatories_signature_change", args=[signature.pk]))

    assert response.status_code == 200
    assert not PersonalDataView.objects.exists()


def test_the_record_is_read_only_and_shown_to_superusers(admin_client, client, signer):
    signature, _ = signer
    moderator = staff_in("Moderators")
    client.force_login(moderator)
    client.get(reverse("admin:signatories_signature_change", args=[signature.pk]))
    entry = PersonalDataView.objects.get()

    log = admin_client.get(reverse("admin:signatories_personaldataview_changelist"))

    assert log.status_code == 200
    assert "moderators-user" in text_of(log)
    assert reverse("admin:signatories_signature_change", args=[signature.pk]) in text_of(log)
    assert leaked(log) == []
    assert admin_client.get(reverse("admin:signatories_personaldataview_add")).status_code == 403
    delete = reverse("admin:signatories_personaldataview_delete", args=[entry.pk])
    assert admin_client.post(delete).status_code == 403
    # Moderators see personal data, not the record of who looked at it.
    assert client.get(reverse("admin:signatories_personaldataview_changelist")).status_code == 403


# Saving without the permission keeps what the form did not show


def test_staff_who_may_change_signatures_but_not_see_personal_data_keep_the_notes(client, signer):
    signature, _ = signer
    user = User.objects.create_user("changer", password="unused", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_signature", "change_signature"])
    )
    client.force_login(user)
    change = reverse("admin:signatories_signature_change", args=[signature.pk])
    assert leaked(client.get(change)) == []

    response = client.post(
        change,
        {
            "letter": signature.letter_id,
            "signatory": signature.signatory_id,
            "signed_on": signature.signed_on.isoformat(),
            "display": signature.display,
            "statement": "A statement added by staff",
            "status": signature.status,
            "source": signature.source,
            "notes": "overwritten?",
        },
    )

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.statement == "A statement added by staff"
    assert (signature.notes, signature.email, signature.moderation_reason) == (NOTE, EMAIL, HELD)


@pytest.mark.parametrize("url_name", ["signature_history", "signature_simple_history"])
@pytest.mark.parametrize("bad", ["abc", "1x", "9" * 30])
def test_history_pages_with_a_malformed_id_are_not_found(admin_client, url_name, bad):
    args = [bad] if url_name == "signature_history" else [bad, bad]

    response = admin_client.get(reverse(f"admin:signatories_{url_name}", args=args))

    assert response.status_code == 404

"""Staff roles (Editors, Moderators, Viewers) and the recorded private export."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from letters.models import Letter
from signatories.models import PrivateExport, Signature
from tests.factories import make_signature
from tests.helpers import letter_admin_form

pytestmark = pytest.mark.django_db


def staff_in(group_name: str, *extra_perms: str) -> User:
    user = User.objects.create_user(f"{group_name.lower()}-user", password="unused", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    for codename in extra_perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.mark.parametrize(
    ("group", "allowed", "refused"),
    [
        (
            "Editors",
            ["letters.change_letter", "letters.add_responseevent", "signatories.view_signature"],
            [
                "signatories.change_signature",
                "signatories.import_signatures",
                "signatories.view_signer_personal_data",
            ],
        ),
        (
            "Moderators",
            [
                "signatories.change_signature",
                "signatories.import_signatures",
                "signatories.view_signer_personal_data",
            ],
            ["letters.change_letter", "letters.change_addressee"],
        ),
        (
            "Viewers",
            ["letters.view_letter", "signatories.view_signatory"],
            [
                "letters.change_letter",
                "signatories.change_signature",
                "signatories.view_signer_personal_data",
            ],
        ),
    ],
)
def test_each_role_has_its_permissions_and_no_more(group, allowed, refused):
    user = staff_in(group)

    assert all(user.has_perm(perm) for perm in allowed)
    assert not any(user.has_perm(perm) for perm in refused)


@pytest.mark.parametrize("group", ["Editors", "Moderators", "Viewers"])
def test_no_role_may_export_private_fields(group):
    assert not staff_in(group).has_perm("signatories.export_private_signatures")


def test_viewer_can_read_a_letter_in_the_admin_but_not_change_it(client, letter):
    client.force_login(staff_in("Viewers"))
    url = reverse("admin:letters_letter_change", args=[letter.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, letter_admin_form(letter, title="Changed")).status_code == 403
    assert Letter.objects.get(pk=letter.pk).title == letter.title


def test_editor_can_change_a_letter(client, letter):
    client.force_login(staff_in("Editors"))

    response = client.post(
        reverse("admin:letters_letter_change", args=[letter.pk]),
        letter_admin_form(letter, title="Changed by an editor"),
    )

    assert response.status_code == 302
    assert Letter.objects.get(pk=letter.pk).title == "Changed by an editor"


def test_moderator_can_publish_but_editor_cannot(client, letter):
    signature = make_signature(letter, status=Signature.Status.PENDING)
    publish = {"action": "publish", ACTION_CHECKBOX_NAME: [signature.pk]}

    client.force_login(staff_in("Editors"))
    client.post("/admin/signatories/signature/", publish)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING

    client.force_login(staff_in("Moderators"))
    client.post("/admin/signatories/signature/", publish)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED


def test_each_private_export_is_recorded_with_who_and_how_many(client, letter):
    exporter = staff_in("Moderators", "export_private_signatures")
    signatures = [make_signature(letter) for _ in range(3)]
    client.force_login(exporter)

    response = client.post(
        "/admin/signatories/signature/",
        {"action": "export_private_csv", ACTION_CHECKBOX_NAME: [s.pk for s in signatures[:2]]},
    )
    b"".join(response.streaming_content)

    [record] = PrivateExport.objects.all()
    assert record.user == exporter
    assert record.row_count == 2
    assert record.letters == letter.slug
    assert record.filename in response["Content-Disposition"]


def test_refused_private_export_is_not_recorded(client, letter):
    client.force_login(staff_in("Moderators"))
    signature = make_signature(letter)

    client.post(
        "/admin/signatories/signature/",
        {"action": "export_private_csv", ACTION_CHECKBOX_NAME: [signature.pk]},
    )

    assert not PrivateExport.objects.exists()


def test_private_export_log_is_read_only_in_the_admin(admin_client, admin_user, letter):
    record = PrivateExport.objects.create(
        user=admin_user, row_count=1, letters=letter.slug, filename="x.csv"
    )

    assert (
        admin_client.get(reverse("admin:signatories_privateexport_changelist")).status_code == 200
    )
    assert admin_client.get(reverse("admin:signatories_privateexport_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:signatories_privateexport_delete", args=[record.pk])
        ).status_code
        == 403
    )

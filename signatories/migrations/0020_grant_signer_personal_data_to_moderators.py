"""Moderators may see signers' personal data (``view_signer_personal_data``).

Moderators vet and hold signatures, answer signers and judge abuse: they need the email,
the IP address, the consent record and the moderation notes. Viewers read; Editors look
after letters, recipients and responses, and never write to signers themselves (follow-up
emails go out from the app): neither gets it. Anyone else gets it one by one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Moderators"
CODENAME = "view_signer_personal_data"


def _permission(apps):
    # Permissions are normally created after all migrations run; make sure it exists now.
    app_config = apps.get_app_config("signatories")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label="signatories", codename=CODENAME)


def grant(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(_permission(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(_permission(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("signatories", "0006_staff_roles"),
        ("signatories", "0019_signer_personal_data_permission_and_view_log"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

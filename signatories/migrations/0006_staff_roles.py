"""Staff roles as groups: Editors, Moderators, Viewers.

Editors look after letters, recipients and responses; Moderators after signatories,
signatures and imports; Viewers read everything. Exporting private fields is a permission of
its own, granted to people one by one, never through a group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

LETTER_MODELS = ["letter", "lettersource", "recipient", "addressee", "responseevent"]
SIGNATORY_MODELS = ["signatory", "signature"]
ACTIONS = ["add", "change", "delete", "view"]


def codenames(app, models, actions):
    return [(app, f"{action}_{model}") for model in models for action in actions]


ROLES = {
    "Editors": codenames("letters", LETTER_MODELS, ACTIONS)
    + codenames("signatories", SIGNATORY_MODELS, ["view"]),
    "Moderators": codenames("signatories", SIGNATORY_MODELS, ACTIONS)
    + [("signatories", "import_signatures")]
    + codenames("letters", LETTER_MODELS, ["view"]),
    "Viewers": codenames("letters", LETTER_MODELS, ["view"])
    + codenames("signatories", SIGNATORY_MODELS, ["view"]),
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations run; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        found = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in perms
        ]
        group.permissions.set(found)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("letters", "0004_response_event_timeline"),
        ("signatories", "0005_private_export_log_and_import_permission"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

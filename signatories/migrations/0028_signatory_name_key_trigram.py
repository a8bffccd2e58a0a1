"""A trigram index on the identity key, for the import's possible duplicates on
PostgreSQL: GiST, which gives a name's nearest keys first (``ORDER BY name_key <->
'barnardos uk' LIMIT 3``), so a name like ten thousand others costs no more than a rare
one. SQLite, for trying the app, compares names another way."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS signatory_name_key_trgm_idx ON signatories_signatory "
        "USING gist (name_key gist_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS signatory_name_key_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("signatories", "0027_signatory_identity_key")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""A trigram index for the admin's search on the email a public signer gave (PostgreSQL).

As in 0009: ``icontains`` over a million signatures needs a GIN trigram index; SQLite needs
none.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS signature_email_trgm_idx ON signatories_signature "
        'USING gin ((UPPER("email"::text)) gin_trgm_ops)'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS signature_email_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("signatories", "0010_public_signing_fields_and_blocked_domains")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

import unicodedata

from django.db import migrations, models

# Frozen copies of signatories.identity as this migration first filled the keys.
TYPOGRAPHIC = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    }
)
SHARED_HOSTS = frozenset(
    [
        "facebook.com",
        "fb.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "linkedin.com",
        "youtube.com",
        "tiktok.com",
        "google.com",
        "linktr.ee",
        "medium.com",
        "substack.com",
        "wordpress.com",
        "blogspot.com",
        "wixsite.com",
        "squarespace.com",
        "github.com",
        "gofundme.com",
        "justgiving.com",
        "eventbrite.com",
        "wikipedia.org",
    ]
)
BATCH = 2000


def _name_key(name, organisation):
    key = unicodedata.normalize("NFKC", name).casefold().translate(TYPOGRAPHIC)
    key = " ".join(key.split())
    if organisation and key.startswith("the ") and len(key) > 4:
        key = key[4:]
    return key[:200]


def _website_domain(website):
    from signatories.emails import FREE_MAIL, registrable_domain, website_host

    if not website:
        return ""
    domain = registrable_domain(website_host(website)) or ""
    return "" if domain in SHARED_HOSTS or domain in FREE_MAIL else domain


def fill_keys(apps, schema_editor):
    Signatory = apps.get_model("signatories", "Signatory")
    rows = Signatory.objects.order_by("pk").only("pk", "name", "kind", "website")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        for signatory in batch:
            organisation = signatory.kind == "organisation"
            signatory.name_key = _name_key(signatory.name, organisation)
            signatory.website_domain = _website_domain(signatory.website) if organisation else ""
        _write(Signatory, batch, schema_editor.connection)
        last = batch[-1].pk


def _write(Signatory, batch: list, connection) -> None:
    """On PostgreSQL one UPDATE … FROM (VALUES …) per batch: bulk_update's CASE over
    every id takes minutes for a million rows."""
    if connection.vendor != "postgresql":
        Signatory.objects.bulk_update(batch, ["name_key", "website_domain"], batch_size=500)
        return
    table = connection.ops.quote_name(Signatory._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(batch))
    params = [value for s in batch for value in (s.pk, s.name_key, s.website_domain)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET name_key = v.key, website_domain = v.domain "  # noqa: S608 - the table name is ours, the values are parameters
            f"FROM (VALUES {rows}) AS v(id, key, domain) WHERE s.id = v.id::bigint",
            params,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0026_import_date_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="signatory",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="signatory",
            name="website_domain",
            field=models.CharField(blank=True, editable=False, max_length=253),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(
            model_name="signatory",
            name="signatory_name_lower_idx",
        ),
        migrations.AddIndex(
            model_name="signatory",
            index=models.Index(fields=["name_key"], name="signatory_name_key_idx"),
        ),
        migrations.AddIndex(
            model_name="signatory",
            index=models.Index(
                condition=models.Q(("website_domain", ""), _negated=True),
                fields=["website_domain"],
                name="signatory_website_domain_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="signatory",
            constraint=models.CheckConstraint(
                condition=models.Q(("name_key", ""), _negated=True),
                name="signatory_name_key_set",
            ),
        ),
    ]

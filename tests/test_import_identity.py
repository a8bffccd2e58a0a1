"""One identity per signatory: an import recognises an organisation however its name is
typed, whatever country a row gives it, and by its website's domain; a person by email,
or by a full name and country, never by a first name, initials or an anonymous row."""

from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from signatories.identity import name_key, website_domain
from signatories.importers import Outcome, import_signatures
from signatories.models import Signatory, SignatoryKind, Signature
from signatories.signing import SignerDetails, sign_letter
from tests.factories import make_letter, make_person, make_signatory
from tests.helpers import migrated_back_to

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent / "files"


def run(letter, data: bytes, name: str = "file.csv"):
    return import_signatures(letter=letter, data=data, filename=name, dry_run=False, publish=True)


def run_file(letter, name: str):
    return run(letter, (FILES / name).read_bytes(), name)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Barnardo’s", "Barnardo's"),
        ("BARNARDO'S", "barnardo's"),
        ("The Children’s Society", "Children's Society"),
        ("Save  the\u00a0Children", "Save the Children"),
        ("Child‐Safety — Network", "Child-Safety - Network"),
        ("ＵＮＩＣＥＦ", "UNICEF"),  # full-width letters, as some keyboards type them
    ],
)
def test_spellings_of_one_organisation_share_a_key(a, b):
    assert name_key(a, organisation=True) == name_key(b, organisation=True)


def test_the_key_keeps_what_tells_names_apart():
    assert name_key("Zoë Adams", organisation=False) != name_key("Zoe Adams", organisation=False)
    # "The" is part of a person's name.
    assert name_key("The Rock", organisation=False) == "the rock"
    assert name_key("The", organisation=True) == "the"


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.nspcc.org.uk/about-us", "nspcc.org.uk"),
        ("http://NSPCC.org.uk", "nspcc.org.uk"),
        ("https://www.facebook.com/somecharity", ""),
        ("https://sites.google.com/view/group", ""),
        ("https://someone.github.io/", "someone.github.io"),
        ("", ""),
    ],
)
def test_website_domain_is_the_registered_domain_unless_shared(website, domain):
    assert website_domain(website) == domain


def test_the_same_organisations_typed_differently_leave_one_signatory_each(letter):
    first = run_file(letter, "same_organisations_1.csv")
    assert first.ok and first.created == 3
    second_letter = make_letter()

    report = run_file(second_letter, "same_organisations_2.csv")

    assert report.ok, report.errors
    barnardos = Signatory.objects.get(name="Barnardo’s")
    phoenix = Signatory.objects.get(name="Phoenix 11")
    society = Signatory.objects.get(name="The Children’s Society")
    assert [(row.outcome, row.signatory_id) for row in report.rows] == [
        (Outcome.MATCH, barnardos.pk),  # capitals, straight apostrophe, no country
        (Outcome.MATCH, phoenix.pk),  # no country where it had CA
        (Outcome.MATCH, society.pk),  # without "The", a country where it had none
        (Outcome.DUPLICATE, None),  # another name on Barnardo's website domain
    ]
    assert Signatory.objects.count() == 3
    assert set(
        Signature.objects.filter(letter=second_letter).values_list("signatory", flat=True)
    ) == {barnardos.pk, phoenix.pk, society.pk}
    # Matched, never modified: the country the record had stays.
    phoenix.refresh_from_db()
    assert phoenix.country == "CA"
    assert any("barnardos.org.uk" in warning for warning in report.warnings)


def test_an_organisation_in_another_country_matches_with_a_warning(letter):
    known = make_signatory(name="Phoenix 11", country="CA")

    report = run(letter, b"name,kind,category,country\nPhoenix 11,organisation,network,US\n")

    assert [(row.outcome, row.signatory_id) for row in report.rows] == [(Outcome.MATCH, known.pk)]
    assert report.warnings == [
        "Line 2: “Phoenix 11” (US) is taken as the organisation “Phoenix 11” recorded in CA. "
        "Check they are the same; if not, rename one of them."
    ]


def test_an_organisation_matches_on_its_website_domain(letter):
    known = make_signatory(name="NSPCC", website="https://www.nspcc.org.uk/")

    report = run(
        letter,
        b"name,kind,category,website\n"
        b"National Society for the Prevention of Cruelty to Children,organisation,charity,"
        b"nspcc.org.uk/what-we-do\n",
    )

    assert [(row.outcome, row.signatory_id) for row in report.rows] == [(Outcome.MATCH, known.pk)]
    assert "same domain (nspcc.org.uk)" in report.warnings[0]


def test_organisations_on_a_shared_site_are_not_matched_by_it(letter):
    make_signatory(name="Group One", website="https://www.facebook.com/groupone")

    report = run(
        letter,
        b"name,kind,category,website\nGroup Two,organisation,ngo,https://facebook.com/grouptwo\n",
    )

    assert [row.outcome for row in report.rows] == [Outcome.NEW]


def test_people_match_on_email_and_on_a_full_name_only(letter):
    by_email = make_person("Jo Bloggs", country="GB", email="jo@example.org")
    by_name = make_person("Amal Haddad", country="LB")
    make_person("Sam", country="GB")
    make_person("J. S.", country="GB")
    make_person("Anonymous", country="GB")
    data = (
        b"name,country,email,display\n"
        b"Joanna Bloggs,FR,JO@example.org,full\n"  # email: the same person
        b"Amal Haddad,LB,,initials\n"  # full name and country: the same
        b"Amal Haddad,FR,,full\n"  # another country: another person
        b"Jo Bloggs,GB,other@example.org,full\n"  # another email: another person
        b"Sam,GB,,first_name\n"  # a first name alone: anyone
        b"J. S.,GB,,initials\n"  # initials alone: anyone
        b"Anonymous,GB,,anonymous\n"
    )

    report = run(letter, data)

    assert report.ok, report.errors
    assert [(row.outcome, row.signatory_id) for row in report.rows[:2]] == [
        (Outcome.MATCH, by_email.pk),
        (Outcome.MATCH, by_name.pk),
    ]
    assert [row.outcome for row in report.rows[2:]] == [Outcome.NEW] * 5


def test_the_same_person_twice_in_a_file_signs_once(letter):
    data = (
        b"name,country,email\n"
        b"Ada Lovelace,GB,ada@example.org\n"
        b"ada  lovelace,UK,\n"  # no email: the full name and country of line 2
        b"A. L.,GB,\n"  # initials: not line 2
        b"A. L.,GB,\n"  # nor each other
    )

    report = run(letter, data)

    assert [(row.outcome, row.duplicate_of) for row in report.rows] == [
        (Outcome.NEW, None),
        (Outcome.DUPLICATE, 2),
        (Outcome.NEW, None),
        (Outcome.NEW, None),
    ]


@pytest.mark.parametrize("written", ["Marie Collins Foundation", "The Marie Collins Foundation"])
def test_a_row_without_a_kind_finds_the_organisation_of_that_name(letter, written):
    known = make_signatory(name="The Marie Collins Foundation", country="GB")

    report = run(letter, f"name,country\n{written},GB\n".encode())

    assert [(row.outcome, row.signatory_id) for row in report.rows] == [(Outcome.MATCH, known.pk)]


def test_every_writer_stores_the_key_and_the_database_refuses_none(letter):
    run(
        letter,
        "name,kind,category,website\nBarnardo’s,organisation,charity,www.barnardos.org.uk\n".encode(),
    )
    imported = Signatory.objects.get(name="Barnardo’s")
    saved = make_person("Zoë  Adams".replace("  ", " "), country="GB")
    bulk = Signatory.objects.bulk_create(
        [
            Signatory(
                name="The Bulk Trust",
                slug="bulk-trust",
                kind=SignatoryKind.ORGANISATION,
                category="charity",
            )
        ]
    )[0]

    assert (imported.name_key, imported.website_domain) == ("barnardo's", "barnardos.org.uk")
    assert (saved.name_key, saved.website_domain) == ("zoë adams", "")
    assert Signatory.objects.get(pk=bulk.pk).name_key == "bulk trust"
    saved.name = "Zoe Adams"
    saved.save(update_fields=["name"])
    saved.refresh_from_db()
    assert saved.name_key == "zoe adams"
    with pytest.raises(IntegrityError), transaction.atomic():
        Signatory.objects.filter(pk=saved.pk).update(name_key="")


def test_the_public_form_never_matches_an_existing_signatory(letter):
    staff_record = make_person("Ada Lovelace", country="GB", email="ada@example.org")
    details = SignerDetails(
        kind=SignatoryKind.INDIVIDUAL,
        name="Ada Lovelace",
        email="ada@example.org",
        category="survivor",
        country="GB",
    )

    first = sign_letter(letter=letter, details=details, ip_address=None, send_email=False)
    second = sign_letter(letter=letter, details=details, ip_address=None, send_email=False)

    # One signatory per submission: a stranger who knows a name and an address cannot
    # attach a signature to the record staff keep for that person.
    assert len({staff_record.pk, first.signatory_id, second.signatory_id}) == 3
    assert first.signatory.name_key == staff_record.name_key == "ada lovelace"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_migration_gives_every_existing_signatory_its_key():
    before = [("signatories", "0026_import_date_order")]
    with migrated_back_to(before) as (old, forward):
        Old = old.get_model("signatories", "Signatory")
        Old.objects.bulk_create(
            [
                Old(
                    name="The Children’s Society",
                    slug="tcs",
                    kind="organisation",
                    category="charity",
                    website="https://www.childrenssociety.org.uk/",
                ),
                Old(
                    name="Zoë  Adams".replace("  ", " "),
                    slug="zoe",
                    kind="individual",
                    category="survivor",
                    website="https://zoe.example.org",
                ),
            ]
            + [
                Old(name=f"Org {n}", slug=f"org-{n}", kind="organisation", category="ngo")
                for n in range(2500)  # more than one batch
            ]
        )
        forward()

    keys = dict(Signatory.objects.values_list("slug", "name_key"))
    assert keys["tcs"] == "children's society"
    assert keys["zoe"] == "zoë adams"
    assert keys["org-2499"] == "org 2499"
    assert Signatory.objects.get(slug="tcs").website_domain == "childrenssociety.org.uk"
    assert Signatory.objects.get(slug="zoe").website_domain == ""  # people match by email
    assert not Signatory.objects.filter(name_key="").exists()

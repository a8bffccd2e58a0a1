"""The demo letter from shared/seed-letter.md, loaded by ``manage.py load_demo``."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from letters.models import Addressee, Letter, LetterSource, Recipient
from signatories.models import (
    Category,
    DeliveredList,
    DeliveredRow,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
)
from tests.helpers import visible_text

pytestmark = pytest.mark.django_db

# The facts of seed-letter.md, written out here so the test checks the loader against the
# seed rather than against itself.
ADDRESSEES = [
    ("Meta", "Mark Zuckerberg", "Chief Executive Officer"),
    ("Snap", "Evan Spiegel", "Chief Executive Officer"),
    ("Signal", "Meredith Whittaker", "President"),
    ("Apple", "Tim Cook", "Chief Executive Officer"),
]
ORGANISATIONS = [
    # name, acceptable categories, country ("" for international)
    ("Phoenix 11", {Category.NETWORK}, ""),
    (
        "The Alliance to Counter Crime Online",
        {Category.NETWORK, Category.ADVOCACY_GROUP},
        "US",
    ),
    ("Barnardo's", {Category.CHARITY}, "GB"),
    ("The Canadian Centre for Child Protection", {Category.CHARITY}, "CA"),
    ("Collective Shout", {Category.ADVOCACY_GROUP}, "AU"),
    ("ECPAT International", {Category.NETWORK, Category.NGO}, "TH"),
    ("Eurochild", {Category.NETWORK, Category.NGO}, "BE"),
    ("The Network for Children's Rights", {Category.NGO}, "GR"),
]


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_letter():
    load_demo()
    return Letter.objects.get()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Letter, Recipient, Addressee, LetterSource, Signatory, Signature)
    }


def test_load_demo_creates_one_published_letter(demo_letter):
    assert demo_letter.is_public
    assert Letter.objects.published().count() == 1


def test_demo_letter_is_addressed_to_the_four_executives(demo_letter):
    addressees = demo_letter.addressees.select_related("recipient").order_by("position")

    assert [(a.recipient.name, a.person_name, a.person_title) for a in addressees] == ADDRESSEES


def test_demo_addressees_are_all_awaiting_a_response(demo_letter):
    statuses = set(demo_letter.addressees.values_list("response_status", flat=True))

    assert statuses == {Addressee.ResponseStatus.AWAITING}


def test_demo_letter_has_the_nine_named_signatories_and_no_others(demo_letter):
    names = set(demo_letter.signatures.values_list("signatory__name", flat=True))

    assert names == {name for name, _, _ in ORGANISATIONS} | {"Frida"}
    assert Signatory.objects.count() == len(ORGANISATIONS) + 1


@pytest.mark.parametrize(("name", "categories", "country"), ORGANISATIONS)
def test_demo_organisation_has_its_reported_kind_category_and_country(
    demo_letter, name, categories, country
):
    signature = demo_letter.signatures.select_related("signatory").get(signatory__name=name)

    assert signature.signatory.kind == SignatoryKind.ORGANISATION
    assert signature.signatory.category in categories
    assert signature.signatory.country.code == country
    assert signature.display == Display.FULL


def test_frida_is_an_individual_survivor_with_no_country_shown_by_first_name(demo_letter):
    signature = demo_letter.signatures.select_related("signatory").get(signatory__name="Frida")

    assert signature.signatory.kind == SignatoryKind.INDIVIDUAL
    assert signature.signatory.category == Category.SURVIVOR
    assert signature.signatory.country.code == ""
    assert signature.display == Display.FIRST_NAME
    assert signature.public_name == "Frida"


def test_every_demo_signature_is_published(demo_letter):
    assert Signature.objects.public().count() == len(ORGANISATIONS) + 1


def test_demo_letter_keeps_the_reported_figures_apart(demo_letter):
    assert demo_letter.reported_signatories == 100
    assert demo_letter.reported_signatories_is_minimum is True
    assert demo_letter.reported_countries == 24
    assert demo_letter.reported_signatories_label == "more than 100"


def test_demo_letter_body_is_marked_as_a_summary(demo_letter):
    assert demo_letter.body
    assert demo_letter.body_is_summary is True


def test_demo_letter_is_dated_to_the_month_only(demo_letter):
    assert demo_letter.published_on_precision == Letter.DatePrecision.MONTH
    assert demo_letter.published_on_label == "September 2023"


def test_demo_letter_records_no_invented_links_or_organiser(demo_letter):
    assert demo_letter.organiser == ""
    assert not LetterSource.objects.exists()
    assert not demo_letter.signatures.exclude(statement="").exists()


def test_load_demo_reports_what_it_loaded():
    output = load_demo()

    assert "4 addressees" in output
    assert f"{len(ORGANISATIONS) + 1} signatures" in output


def test_loading_the_demo_twice_creates_no_duplicates(demo_letter):
    before = counts()

    load_demo()

    assert counts() == before


def test_loading_the_demo_again_keeps_a_response_staff_recorded(demo_letter):
    meta = demo_letter.addressees.get(recipient__name="Meta")
    meta.response_status = Addressee.ResponseStatus.DECLINED
    meta.response_summary = "Declined to meet."
    meta.save()

    load_demo()

    meta.refresh_from_db()
    assert meta.response_status == Addressee.ResponseStatus.DECLINED
    assert meta.response_summary == "Declined to meet."


def test_loading_the_demo_again_keeps_a_signature_staff_hid(demo_letter):
    Signature.objects.filter(signatory__name="Eurochild").update(status=Signature.Status.HIDDEN)

    load_demo()

    assert Signature.objects.get(signatory__name="Eurochild").status == Signature.Status.HIDDEN


def test_loading_the_demo_again_keeps_a_signer_anonymised_by_staff(client, demo_letter):
    # As the admin does it: save() keeps the sort key in step (a hidden name has none).
    frida = Signature.objects.get(signatory__name="Frida")
    frida.display = Signature.Display.ANONYMOUS
    frida.save(update_fields=["display"])

    load_demo()

    assert Signature.objects.get(signatory__name="Frida").display == Signature.Display.ANONYMOUS
    assert "Frida" not in client.get(demo_letter.get_absolute_url()).content.decode()


def test_loading_the_demo_again_restores_edited_letter_facts(demo_letter):
    Letter.objects.filter(pk=demo_letter.pk).update(reported_countries=3)

    load_demo()

    demo_letter.refresh_from_db()
    assert demo_letter.reported_countries == 24


def test_demo_letter_page_shows_frida_and_the_eight_organisations(client, demo_letter):
    response = client.get(demo_letter.get_absolute_url())

    assert response.status_code == 200
    text = visible_text(response)
    assert "Frida" in text
    for name, _, _ in ORGANISATIONS:
        assert name in text
    assert f"Showing {len(ORGANISATIONS) + 1} signatories" in text


def test_demo_letter_page_shows_reported_figures_and_summary_notice(client, demo_letter):
    text = visible_text(client.get(demo_letter.get_absolute_url()))

    assert "More than 100 signatories from 24 countries, as reported by the organisers" in text
    assert "summary of the letter" in text
    assert "Published September 2023" in text
    for recipient, person, title in ADDRESSEES:
        assert f"{recipient} {person}, {title}" in text


def test_create_dev_admin_refuses_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("create_dev_admin", stdout=StringIO())

    assert not get_user_model().objects.exists()


def test_create_dev_admin_creates_a_superuser_when_debug_is_on(settings):
    settings.DEBUG = True

    call_command("create_dev_admin", stdout=StringIO())

    assert get_user_model().objects.get(username="admin").is_superuser


# The delivered list (issue 12, point 5): the letter was delivered in September 2023


def test_load_demo_freezes_the_delivered_list_so_a_fresh_site_shows_a_digest(client, demo_letter):
    delivered = DeliveredList.objects.get(letter=demo_letter)
    out = StringIO()
    call_command("verify_delivered", demo_letter.slug, stdout=out)

    assert delivered.rows == len(ORGANISATIONS) + 1
    assert f"{len(ORGANISATIONS) + 1} rows ({len(ORGANISATIONS) + 1} shown, 0 redacted)" in (
        out.getvalue()
    )
    assert delivered.root in client.get(demo_letter.get_absolute_url()).content.decode()
    delivered_page = client.get(reverse("signatories:delivered", args=[demo_letter.slug]))
    assert delivered_page.status_code == 200
    assert delivered.root in delivered_page.content.decode()


def test_loading_the_demo_again_keeps_the_list_first_frozen(demo_letter):
    root = DeliveredList.objects.get().root

    load_demo()

    assert DeliveredList.objects.get().root == root
    assert DeliveredRow.objects.count() == len(ORGANISATIONS) + 1


def test_a_demo_signer_anonymised_by_staff_leaves_the_delivered_list(client, demo_letter):
    frida = Signature.objects.get(signatory__name="Frida")
    frida.display = Signature.Display.ANONYMOUS
    frida.save(update_fields=["display"])

    load_demo()  # its recount redacts what no path did

    response = client.get(reverse("signatories:delivered_file", args=[demo_letter.slug]))
    assert "Frida" not in b"".join(response.streaming_content).decode()
    assert DeliveredList.objects.get().redacted == 1

"""The admin is where staff enter everything: it must work without the shell."""

import datetime
import re

import pytest
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from letters.models import (
    Addressee,
    Letter,
    LetterSource,
    Recipient,
    ResponseEvent,
    ResponseEventTranslation,
)
from signatories import demo
from signatories.admin import INLINE_SIGNATURES_SHOWN
from signatories.models import (
    BlockedEmailDomain,
    Category,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
)
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_person,
    make_recipient,
    make_signatory,
    make_signature,
)
from tests.helpers import visible_text

# The export, import and personal-data view logs and the follow-up deliveries are
# read-only by design; test_roles.py, test_import_admin.py, test_personal_data.py and
# test_follow_up.py cover their admin pages. django-tasks-db's read-only task results are
# that library's own admin.
REGISTERED = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.model_name
    not in {
        "privateexport",
        "signatureimport",
        "personaldataview",
        "followupdelivery",
        # Made by merging only (test_merge.py opens its pages).
        "signatoryredirect",
        # Made by freezing only, and read-only (test_delivered.py opens its pages).
        "deliveredlist",
    }
    and model._meta.app_label != "django_tasks_database"
)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def management_form(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def signatory_form(**fields) -> dict:
    """The signatory add form as a browser posts it, with its empty letters inline."""
    data = {
        "name": "",
        "slug": "",
        "kind": SignatoryKind.ORGANISATION,
        "category": Category.CHARITY,
        "country": "",
        "role": "",
        "affiliation": "",
        "website": "",
        "description": "",
        "email": "",
        "notes": "",
        **management_form("signatures", 0),
    }
    data.update(fields)
    return data


def signature_form(**fields) -> dict:
    data = {
        "letter": "",
        "signatory": "",
        "signed_on": "",
        "display": Display.FULL,
        "statement": "",
        "status": Signature.Status.PUBLISHED,
        "source": Signature.Source.ADMIN,
        "notes": "",
    }
    data.update(fields)
    return data


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def post_added(client, model, data):
    """POST an admin add form and insist it saved (a redirect, not the form again)."""
    response = client.post(add_url(model), data)
    errors = response.context and [
        form.errors for form in [response.context.get("adminform")] if form
    ]
    assert response.status_code == 302, errors
    return response


@pytest.fixture
def one_of_each(db):
    """A row for every registered model, so changelists render real rows."""
    letter = make_letter()
    addressee = make_addressee(letter, person_name="Ada Chief")
    LetterSource.objects.create(letter=letter, title="Coverage", url="https://example.org/a")
    event = ResponseEvent.objects.create(
        addressee=addressee, kind=ResponseEvent.Kind.ACKNOWLEDGED, date=datetime.date(2024, 1, 2)
    )
    ResponseEventTranslation.objects.create(event=event, language="fr", summary="Reçue.")
    make_signature(letter, make_person("Grace Hopper"))
    get_user_model().objects.create_user("someone")
    Group.objects.create(name="Campaign staff")
    BlockedEmailDomain.objects.create(domain="throwaway.example", reason="Disposable")
    return letter


# Entering the demo letter by hand ---------------------------------------------------------


def test_staff_can_enter_the_demo_letter_through_the_admin_and_the_public_sees_it(
    admin_client,
):
    for name, _slug, _person, _title in demo.ADDRESSEES:
        post_added(
            admin_client,
            Recipient,
            {
                "name": name,
                "slug": name.lower(),
                "kind": Recipient.Kind.COMPANY,
                "website": "",
                "country": "US",
                "description": "",
                **management_form("translations", 0),
            },
        )
    for name, _slug, kind, category, country, description, _display, notes in demo.SIGNATORIES:
        post_added(
            admin_client,
            Signatory,
            signatory_form(
                name=name,
                kind=kind,
                category=category,
                country=country,
                description=description,
                notes=notes,
            ),
        )

    recipients = {r.name: r for r in Recipient.objects.all()}
    letter_data = {
        "title": demo.LETTER["title"],
        "slug": "entered-by-hand",
        "status": Letter.Status.OPEN,
        "summary": demo.LETTER["summary"],
        "body": demo.LETTER["body"],
        "body_is_summary": "on",
        "language": "en",
        "published_on": "2023-09-01",
        "published_on_precision": Letter.DatePrecision.MONTH,
        "delivered_on": "",
        "organiser": "",
        "reported_signatories": "100",
        "reported_signatories_is_minimum": "on",
        "reported_countries": "24",
        "reported_figures_source": "press coverage, September 2023",
        "staff_notes": "",
        **management_form("translations", 0),
        **management_form("addressees", len(demo.ADDRESSEES)),
        **management_form("sources", 1),
        **management_form("signatures", 0),
        "sources-0-kind": LetterSource.Kind.COVERAGE,
        "sources-0-title": "Test coverage of the letter",
        "sources-0-url": "https://example.org/coverage",
        "sources-0-publisher": "Example Times",
        "sources-0-published_on": "",
    }
    for i, (name, _slug, person, title) in enumerate(demo.ADDRESSEES):
        letter_data.update(
            {
                f"addressees-{i}-recipient": recipients[name].pk,
                f"addressees-{i}-position": str(i),
                f"addressees-{i}-person_name": person,
                f"addressees-{i}-person_title": title,
                f"addressees-{i}-response_status": Addressee.ResponseStatus.AWAITING,
                f"addressees-{i}-response_date": "",
                f"addressees-{i}-response_summary": "",
                f"addressees-{i}-response_url": "",
            }
        )
    post_added(admin_client, Letter, letter_data)
    letter = Letter.objects.get(slug="entered-by-hand")

    for name, *_rest, display, _notes in demo.SIGNATORIES:
        post_added(
            admin_client,
            Signature,
            signature_form(
                letter=letter.pk,
                signatory=Signatory.objects.get(name=name).pk,
                display=display,
            ),
        )

    response = admin_client.get(reverse("letters:detail", args=[letter.slug]))
    assert response.status_code == 200
    text = visible_text(response)
    assert demo.LETTER["title"] in text
    assert "Published September 2023" in text
    assert "More than 100 signatories from 24 countries, as reported by the organisers" in text
    assert "summary of the letter" in text
    assert "Test coverage of the letter" in text
    for name, _slug, person, title in demo.ADDRESSEES:
        assert f"{name} {person}, {title}" in text
    # Each answer is shown twice: in the summary at the top and beside its addressee.
    assert text.count("No answer yet") == 2 * len(demo.ADDRESSEES)
    for name, *_rest in demo.SIGNATORIES:
        assert name in text
    assert f"Showing {len(demo.SIGNATORIES)} signatories" in text


def test_signatory_added_with_blank_slug_gets_a_slug_from_its_name(admin_client):
    post_added(admin_client, Signatory, signatory_form(name="Eurochild", country="BE"))

    assert Signatory.objects.get(name="Eurochild").slug == "eurochild"


def test_two_signatories_with_the_same_name_get_different_slugs_and_pages(admin_client):
    letter = make_letter()
    for _ in range(2):
        post_added(admin_client, Signatory, signatory_form(name="Barnardo's", country="GB"))
    barnardos = list(Signatory.objects.filter(name="Barnardo's"))
    assert len(barnardos) == 2
    assert barnardos[0].slug != barnardos[1].slug

    for signatory in barnardos:
        make_signature(letter, signatory)
        response = admin_client.get(signatory.get_absolute_url())
        assertContains(response, '<h1 dir="auto">Barnardo&#x27;s</h1>', html=True)


def test_signatory_name_is_saved_with_spaces_tidied(admin_client):
    post_added(admin_client, Signatory, signatory_form(name="  Collective   Shout "))

    assert Signatory.objects.filter(name="Collective Shout").exists()


# Every page opens -------------------------------------------------------------------------


@pytest.mark.parametrize("label", REGISTERED)
def test_admin_changelist_opens(admin_client, one_of_each, label):
    model = _model(label)
    obj = model.objects.first()

    response = admin_client.get(changelist_url(model))

    assertContains(response, f'href="{change_url(obj)}', status_code=200)


@pytest.mark.parametrize("label", REGISTERED)
def test_admin_add_page_opens(admin_client, one_of_each, label):
    response = admin_client.get(add_url(_model(label)))
    assertContains(response, "<form", status_code=200)


@pytest.mark.parametrize("label", REGISTERED)
def test_admin_change_page_opens(admin_client, one_of_each, label):
    obj = _model(label).objects.first()
    response = admin_client.get(change_url(obj))
    assertContains(response, "<form", status_code=200)
    assert str(obj) in visible_text(response)


def _model(label: str):
    app_label, model_name = label.split(".")
    return next(
        model
        for model in admin.site._registry
        if (model._meta.app_label, model._meta.model_name) == (app_label, model_name)
    )


# Letter pages -----------------------------------------------------------------------------


def test_published_letter_change_page_links_to_its_public_page(admin_client):
    letter = make_letter(status=Letter.Status.OPEN)

    response = admin_client.get(change_url(letter))

    assertContains(
        response,
        f'<a href="{letter.get_absolute_url()}" class="viewsitelink">View on site</a>',
        html=True,
    )


def test_draft_letter_change_page_has_no_view_on_site_link(admin_client):
    letter = make_letter(status=Letter.Status.DRAFT)

    response = admin_client.get(change_url(letter))

    assert response.status_code == 200
    assertNotContains(response, "viewsitelink")
    assertNotContains(response, "View on site")


def _cell(response, row_text: str, column: str) -> str:
    """The text of ``column`` in the changelist row that contains ``row_text``."""
    content = response.content.decode()
    for row in re.findall(r"<tr[^>]*>.*?</tr>", content, flags=re.S):
        if row_text in row:
            match = re.search(rf'class="field-{column}[^"]*"[^>]*>(.*?)</t[dh]>', row, re.S)
            assert match, f"no {column} cell in the row for {row_text}"
            return re.sub(r"<[^>]+>", "", match.group(1)).strip()
    raise AssertionError(f"no changelist row for {row_text}")


def test_letter_changelist_shows_published_and_pending_counts(admin_client):
    busy = make_letter(title="Busy letter")
    for status, count in [
        (Signature.Status.PUBLISHED, 3),
        (Signature.Status.PENDING, 2),
        (Signature.Status.HIDDEN, 1),
        (Signature.Status.WITHDRAWN, 1),
    ]:
        for _ in range(count):
            make_signature(busy, status=status)
    quiet = make_letter(title="Quiet letter")
    make_signature(quiet, status=Signature.Status.PENDING)

    response = admin_client.get(changelist_url(Letter))

    assert _cell(response, "Busy letter", "published_signatures") == "3"
    assert _cell(response, "Busy letter", "pending_signatures") == "2"
    assert _cell(response, "Quiet letter", "published_signatures") == "0"
    assert _cell(response, "Quiet letter", "pending_signatures") == "1"


def test_letter_changelist_lists_newest_letters_first_and_undated_ones_last(admin_client):
    make_letter(title="Undated letter", published_on=None)
    make_letter(title="Older letter", published_on=datetime.date(2022, 1, 1))
    make_letter(title="Newer letter", published_on=datetime.date(2024, 1, 1))

    text = visible_text(admin_client.get(changelist_url(Letter)))

    positions = [text.index(t) for t in ("Newer letter", "Older letter", "Undated letter")]
    assert positions == sorted(positions)


def test_letter_change_page_links_to_all_its_signatures_with_counts(admin_client, letter):
    make_signature(letter, status=Signature.Status.PUBLISHED)
    make_signature(letter, status=Signature.Status.PENDING)
    make_signature(letter, status=Signature.Status.PENDING)

    response = admin_client.get(change_url(letter))

    list_url = changelist_url(Signature) + f"?letter__id__exact={letter.pk}"
    assertContains(response, f'href="{list_url}"')
    text = visible_text(response)
    assert "1 published, 2 pending review, 0 hidden by staff, 0 withdrawn by signatory" in text


def test_letter_with_many_signatures_shows_only_the_most_recent_inline(admin_client, letter):
    make_many_signatures(letter, INLINE_SIGNATURES_SHOWN + 5)
    newest = Signature.objects.order_by("-pk")[:INLINE_SIGNATURES_SHOWN]

    response = admin_client.get(change_url(letter))

    assert response.status_code == 200
    shown = re.findall(r'name="signatures-\d+-id" value="(\d+)"', response.content.decode())
    assert sorted(map(int, shown)) == sorted(s.pk for s in newest)


# Signature actions ------------------------------------------------------------------------


def _run_action(client, action: str, signatures):
    return client.post(
        changelist_url(Signature),
        {
            "action": action,
            "index": "0",
            "_selected_action": [str(s.pk) for s in signatures],
        },
        follow=True,
    )


def test_publish_action_publishes_pending_signatures(admin_client, letter):
    pending = [
        make_signature(letter, make_person(f"Pending Person{i}"), status="pending")
        for i in range(2)
    ]
    untouched = make_signature(letter, make_person("Left Pending"), status="pending")
    before = visible_text(admin_client.get(letter.get_absolute_url()))
    assert "Pending Person0" not in before

    response = _run_action(admin_client, "publish", pending)

    assert "2 signatures were published." in messages_of(response)
    text = visible_text(admin_client.get(letter.get_absolute_url()))
    assert "Pending Person0" in text
    assert "Pending Person1" in text
    assert untouched.signatory.name not in text


def test_hide_action_hides_published_signatures(admin_client, letter):
    shown = make_signature(letter, make_person("Shown Person"))
    to_hide = make_signature(letter, make_person("Hidden Person"))

    response = _run_action(admin_client, "hide", [to_hide])

    assert "1 signature was hidden." in messages_of(response)
    to_hide.refresh_from_db()
    assert to_hide.status == Signature.Status.HIDDEN
    text = visible_text(admin_client.get(letter.get_absolute_url()))
    assert "Hidden Person" not in text
    assert shown.signatory.name in text


@pytest.fixture
def viewer_client(client, db):
    """A staff member who may look at signatures but not change them."""
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="signatories", codename__startswith="view_"
        )
    )
    client.force_login(user)
    return client


def test_user_with_view_permission_only_cannot_publish_signatures(viewer_client, letter):
    pending = make_signature(letter, make_person("Still Pending"), status="pending")
    assert viewer_client.get(changelist_url(Signature)).status_code == 200

    response = _run_action(viewer_client, "publish", [pending])

    assert not any(m.startswith("Published") for m in messages_of(response))
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING
    assert "Still Pending" not in visible_text(viewer_client.get(letter.get_absolute_url()))


def test_user_with_view_permission_only_is_not_offered_the_publish_action(viewer_client):
    response = viewer_client.get(changelist_url(Signature))

    assert response.status_code == 200
    assertNotContains(response, 'value="publish"')
    assertNotContains(response, 'value="hide"')


# Form validation --------------------------------------------------------------------------


def test_signatory_form_rejects_a_category_that_does_not_fit_the_kind(admin_client):
    response = admin_client.post(
        add_url(Signatory),
        signatory_form(name="Ann Example", kind=SignatoryKind.INDIVIDUAL, category="charity"),
    )

    assert response.status_code == 200
    assertContains(response, "For individuals choose one of: survivor")
    assert not Signatory.objects.filter(name="Ann Example").exists()


def test_signatory_form_rejects_an_individual_category_for_an_organisation(admin_client):
    response = admin_client.post(
        add_url(Signatory),
        signatory_form(name="Example Org", kind=SignatoryKind.ORGANISATION, category="survivor"),
    )

    assert response.status_code == 200
    assertContains(response, "For organisations choose one of: charity")
    assert not Signatory.objects.filter(name="Example Org").exists()


@pytest.mark.parametrize("display", [Display.FIRST_NAME, Display.INITIALS, Display.ANONYMOUS])
def test_signature_form_rejects_a_partial_name_for_an_organisation(admin_client, letter, display):
    organisation = make_signatory(kind=SignatoryKind.ORGANISATION)

    response = admin_client.post(
        add_url(Signature),
        signature_form(letter=letter.pk, signatory=organisation.pk, display=display),
    )

    assert response.status_code == 200
    assertContains(response, "Organisations sign by their full name.")
    assert not Signature.objects.exists()


def test_signature_form_accepts_a_first_name_for_an_individual(admin_client, letter):
    person = make_person("Frida Example")

    post_added(
        admin_client,
        Signature,
        signature_form(letter=letter.pk, signatory=person.pk, display=Display.FIRST_NAME),
    )

    text = visible_text(admin_client.get(letter.get_absolute_url()))
    assert "Frida" in text
    assert "Example" not in text


def test_signature_form_refuses_a_second_signature_on_the_same_letter(admin_client, letter):
    signatory = make_signatory()
    make_signature(letter, signatory)

    response = admin_client.post(
        add_url(Signature), signature_form(letter=letter.pk, signatory=signatory.pk)
    )

    assert response.status_code == 200
    assert "already exists" in visible_text(response)
    assert Signature.objects.count() == 1


# Autocomplete -----------------------------------------------------------------------------


def _autocomplete(client, term: str, **extra):
    return client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "signatories",
            "model_name": "signature",
            "field_name": "signatory",
            "term": term,
            **extra,
        },
    )


def test_signatory_autocomplete_finds_signatories_by_name(admin_client):
    barnardos = make_signatory(name="Barnardo's")
    make_signatory(name="Eurochild")

    response = _autocomplete(admin_client, "barn")

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(barnardos.pk), "text": "Barnardo's"}]


def test_signatory_autocomplete_pages_through_thousands_of_signatories(admin_client, letter):
    make_many_signatures(letter, AutocompleteJsonView.paginate_by * 3)

    first = _autocomplete(admin_client, "Bulk").json()
    last = _autocomplete(admin_client, "Bulk", page="3").json()

    assert len(first["results"]) == AutocompleteJsonView.paginate_by
    assert first["pagination"]["more"] is True
    assert len(last["results"]) == AutocompleteJsonView.paginate_by
    assert last["pagination"]["more"] is False


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("signature", "letter"), ("addressee", "letter"), ("addressee", "recipient")],
)
def test_letter_and_recipient_autocompletes_page_through_many_rows(
    admin_client, model_name, field_name
):
    page = AutocompleteJsonView.paginate_by
    for i in range(page + 1):
        make_letter(title=f"Paged letter {i:03}")
        make_recipient(name=f"Paged recipient {i:03}")

    seen = []
    for number in ("1", "2"):
        response = admin_client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "letters" if model_name == "addressee" else "signatories",
                "model_name": model_name,
                "field_name": field_name,
                "term": "Paged",
                "page": number,
            },
        )
        assert response.status_code == 200
        seen += [row["text"] for row in response.json()["results"]]

    assert len(seen) == page + 1
    assert len(set(seen)) == page + 1


def test_signatory_autocomplete_is_refused_to_anonymous_visitors(client, db):
    make_signatory(name="Barnardo's")

    response = _autocomplete(client, "barn")

    assert response.status_code in {302, 403}
    assert "Barnardo" not in response.content.decode()

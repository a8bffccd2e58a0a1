"""The admin home tells moderators what needs doing, with links, in a fixed number of
queries, and only what each may see: never a signer's email or IP address."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from letters.models import Letter, ResponseEvent
from letters.responses import record_response_event
from signatories.models import Category, SignatoryKind, Signature, SignatureImport
from signatories.signing import SignerDetails, sign_letter
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_person,
    make_recipient,
    make_signature,
)
from tests.helpers import visible_text
from tests.test_security_headers import inline_code

pytestmark = pytest.mark.django_db

HOME = "/admin/"


def public_form_signature(letter, name, email):
    return sign_letter(
        letter=letter,
        details=SignerDetails(
            kind=SignatoryKind.INDIVIDUAL,
            name=name,
            email=email,
            category=Category.SURVIVOR,
            country="GB",
        ),
        ip_address="198.51.100.77",
        send_email=False,
    )


def block(response, block_id: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="{block_id}"')
    return html[start : html.index("</table>", start)]


def staff(django_user_model, *codenames):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_the_admin_is_called_undersigned(admin_client):
    response = admin_client.get(HOME)

    assert "<title>What needs doing | Undersigned admin</title>" in response.content.decode()
    assert '<a href="/admin/">Undersigned</a>' in response.content.decode()


def test_home_counts_signatures_awaiting_moderation_and_links_to_them(admin_client, letter):
    for i in range(3):
        make_signature(letter, make_person(f"Held Person{i}"), status="pending")
    make_signature(letter, make_person("Shown Person"))

    response = admin_client.get(HOME)

    signatures = block(response, "needs-signatures")
    url = reverse("admin:signatories_signature_changelist") + "?status__exact=pending"
    assert f'<a href="{url}">3</a>' in signatures
    listed = admin_client.get(url)
    assert listed.context["cl"].result_count == 3


def test_home_counts_unconfirmed_submissions_whose_link_still_works(admin_client, settings):
    letter = make_letter(accepts_public_signatures=True)
    fresh = public_form_signature(letter, "Fresh Signer", "fresh@inbox.example")
    stale = public_form_signature(letter, "Stale Signer", "stale@inbox.example")
    Signature.objects.filter(pk=stale.pk).update(
        created_at=timezone.now()
        - datetime.timedelta(seconds=settings.SIGN_CONFIRMATION_MAX_AGE + 60)
    )

    response = admin_client.get(HOME)

    text = visible_text(response)
    assert "Awaiting their signer’s confirmation (sent from the public form" in text
    html = block(response, "needs-signatures")
    [link] = [part.split('"')[0] for part in html.split('href="')[1:] if "unconfirmed" in part][:1]
    listed = admin_client.get(link.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert [s.pk for s in listed.context["cl"].result_list] == [fresh.pk]
    assert ">1</a>" in html


def test_home_lists_recent_imports_with_links(admin_client, letter, admin_user):
    record = SignatureImport.objects.create(
        letter=letter,
        user=admin_user,
        file_name="partners.csv",
        file_size=10,
        status=SignatureImport.Status.IMPORTED,
        created=12,
        matched=3,
    )

    response = admin_client.get(HOME)

    imports = block(response, "needs-imports")
    assert reverse("admin:signatories_signatureimport_change", args=[record.pk]) in imports
    assert "partners.csv" in imports
    assert "12 new, 3 matched" in imports
    assert "Recent imports: 1 in the last 30 days" in imports


def test_home_lists_recipients_with_no_answer_and_days_since_delivery(admin_client):
    today = timezone.localdate()
    letter = make_letter(title="Safer chat apps", delivered_on=today - datetime.timedelta(40))
    silent = make_addressee(letter, make_recipient(name="Chatterbox"))
    answered = make_addressee(letter, make_recipient(name="Replyco"))
    record_response_event(
        addressee=answered, kind=ResponseEvent.Kind.REPLIED, date=today, summary="Yes."
    )
    later = make_addressee(make_letter(title="Later letter"), make_recipient(name="Slowpoke"))
    record_response_event(
        addressee=later, kind=ResponseEvent.Kind.DELIVERED, date=today - datetime.timedelta(1)
    )
    make_addressee(make_letter(status=Letter.Status.DRAFT), make_recipient(name="Drafty"))

    response = admin_client.get(HOME)

    answers = visible_text(response).split("Recipients with no answer: 2")[1]
    assert "Chatterbox on “Safer chat apps” No answer 40 days after delivery" in answers
    assert "Slowpoke on “Later letter” No answer 1 day after delivery" in answers
    assert "Replyco" not in answers and "Drafty" not in answers
    assert reverse("admin:letters_addressee_change", args=[silent.pk]) in response.content.decode()


def test_home_shows_no_signer_email_or_ip(admin_client):
    letter = make_letter(accepts_public_signatures=True)
    public_form_signature(letter, "Private Person", "private.person@inbox.example")

    html = admin_client.get(HOME).content.decode()

    assert "private.person" not in html
    assert "198.51.100.77" not in html
    assert "Private Person" not in html


def test_a_viewer_without_signature_permission_sees_no_moderation_queue(
    client, django_user_model, letter
):
    make_signature(letter, status="pending")
    client.force_login(staff(django_user_model, "view_letter", "view_addressee"))

    response = client.get(HOME)

    assert response.status_code == 200
    assert 'id="needs-signatures"' not in response.content.decode()
    assert 'id="needs-imports"' not in response.content.decode()
    assert 'id="needs-answers"' in response.content.decode()


def test_a_moderator_sees_the_queue(client, django_user_model, letter):
    make_signature(letter, status="pending")
    client.force_login(staff(django_user_model, "view_signature"))

    response = client.get(HOME)

    assert 'id="needs-signatures"' in response.content.decode()
    assert 'id="needs-answers"' not in response.content.decode()


def _rows(count: int) -> None:
    letter = make_letter(delivered_on=datetime.date(2024, 1, 1))
    make_many_signatures(letter, count)
    Signature.objects.filter(letter=letter).update(status="pending")
    for _ in range(count):
        make_addressee(letter)
        SignatureImport.objects.create(
            letter=letter, file_name="f.csv", file_size=1, status="imported"
        )


def test_home_runs_the_same_queries_for_few_and_many_rows(admin_client):
    _rows(2)
    admin_client.get(HOME)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(HOME)
    _rows(60)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(HOME)

    assert "Recipients with no answer: 62" in visible_text(response)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert len(many.captured_queries) <= 10


def test_home_has_no_inline_code(admin_client, letter):
    make_signature(letter, status="pending")
    make_addressee(letter)

    found = inline_code(admin_client.get(HOME))

    assert found.inline_scripts == []
    assert found.style_attributes == []
    assert found.style_elements == []

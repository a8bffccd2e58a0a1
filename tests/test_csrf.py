"""A form sent without its anti-forgery cookie gets a plain explanation, not Django's page."""

import pytest
from django.test import Client
from django.urls import reverse

from signatories.models import Signature
from tests.factories import make_letter

pytestmark = pytest.mark.django_db


def test_sign_form_without_csrf_cookie_explains_and_records_nothing():
    letter = make_letter(accepts_public_signatures=True)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        reverse("signatories:sign", args=[letter.slug]),
        {"name": "Someone", "email": "someone@example.org"},
    )

    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
    assert not Signature.objects.exists()

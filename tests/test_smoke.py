from django.urls import reverse

from tests.factories import make_addressee, make_person, make_signature


def test_letter_page_shows_title_addressee_and_signatory(client, letter):
    addressee = make_addressee(letter, person_name="Ada Chief", person_title="Chief Executive")
    make_signature(letter, make_person("Grace Hopper"))
    response = client.get(reverse("letters:detail", args=[letter.slug]))
    assert response.status_code == 200
    content = response.content.decode()
    assert letter.title in content
    assert addressee.recipient.name in content
    assert "Ada Chief" in content
    assert "Grace Hopper" in content

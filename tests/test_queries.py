"""Public pages run as many SQL queries for 300 signatures as for 3, and admin lists run
no query per row.

Each test measures a page, grows what the page shows (signatures, and the letters,
recipients, addressees, statements and countries around them), measures again and
expects the same count: a query per row would add hundreds.
"""

import csv
import datetime
import io
import itertools
import math

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_countries import countries

from letters.models import Addressee, Letter, LetterSource, Recipient
from signatories.admin import INLINE_SIGNATURES_SHOWN
from signatories.models import Signature
from tests.factories import (
    make_addressee,
    make_letter,
    make_many_signatures,
    make_recipient,
    make_signatory,
    make_signature,
)

FEW = 3
MANY = 300
LETTER_PAGE_QUERY_LIMIT = 8
ADMIN_FEW_ROWS = 3
ADMIN_MANY_ROWS = 60
ROW_CHECKBOX = b'name="_selected_action"'

_seq = itertools.count(1)


def many_countries(count: int = 30) -> list[str]:
    return [code for code, _name in list(countries)[:count]]


def make_letters(count: int, **fields) -> list[Letter]:
    """``count`` letters in one insert."""
    n = next(_seq)
    return Letter.objects.bulk_create(
        [
            Letter(
                title=f"Bulk letter {n}-{i}",
                slug=f"bulk-letter-{n}-{i}",
                summary=f"Summary of bulk letter {n}-{i}.",
                **{"status": Letter.Status.OPEN, **fields},
                closed_on=datetime.date(2024, 1, 1)
                if fields.get("status") == Letter.Status.CLOSED
                else None,
            )
            for i in range(count)
        ]
    )


def make_recipients(count: int) -> list[Recipient]:
    n = next(_seq)
    return Recipient.objects.bulk_create(
        [
            Recipient(name=f"Bulk recipient {n}-{i}", slug=f"bulk-recipient-{n}-{i}")
            for i in range(count)
        ]
    )


def measure(client, url: str) -> tuple[list[str], bytes]:
    """The SQL that a GET of ``url`` runs, and the body, read (streamed or not) while
    the queries are still being captured."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return [query["sql"] for query in captured.captured_queries], body


def assert_same_count(few: list[str], many: list[str]) -> None:
    assert len(many) == len(few), (
        f"{len(few)} queries with few rows, {len(many)} with many. With many rows:\n"
        + "\n".join(many)
    )


def csv_data_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]


def letter_with_few_signatures() -> Letter:
    letter = make_letter()
    make_addressee(letter)
    LetterSource.objects.create(letter=letter, title="Source 0", url="https://example.org/0")
    make_many_signatures(letter, FEW)
    return letter


def grow_letter(letter: Letter) -> None:
    """Up to MANY signatures over thirty countries, with more addressees, sources and
    featured statements."""
    make_many_signatures(letter, MANY - FEW, countries=many_countries())
    for i in range(1, 6):
        make_addressee(letter, position=i)
        LetterSource.objects.create(
            letter=letter, title=f"Source {i}", url=f"https://example.org/{i}"
        )


def make_letters_with_signatures(count: int, status: str, signatures_each: int) -> None:
    for letter in make_letters(count, status=status):
        make_many_signatures(letter, signatures_each, countries=many_countries())


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["letters:home", "letters:list"])
def test_letter_listing_runs_same_queries_for_few_and_many_signatures(client, url_name):
    open_letter = make_letter(status=Letter.Status.OPEN)
    make_many_signatures(open_letter, FEW)
    make_letter(status=Letter.Status.CLOSED)
    url = reverse(url_name)
    few, _ = measure(client, url)

    make_many_signatures(open_letter, MANY - FEW, countries=many_countries())
    make_letters_with_signatures(8, Letter.Status.OPEN, signatures_each=5)
    make_letters_with_signatures(8, Letter.Status.CLOSED, signatures_each=5)
    make_letters(8, status=Letter.Status.DRAFT)
    many, body = measure(client, url)

    assert open_letter.title.encode() in body
    assert_same_count(few, many)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["", "?kind=organisation&country=gb&q=Bulk", "?page=2"],
    ids=["unfiltered", "filtered", "page-2"],
)
def test_letter_page_runs_same_queries_for_few_and_many_signatures(client, query):
    letter = letter_with_few_signatures()
    url = reverse("letters:detail", args=[letter.slug]) + query
    few, _ = measure(client, url)

    grow_letter(letter)
    many, _ = measure(client, url)

    assert_same_count(few, many)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["", "?kind=organisation&country=gb&q=Bulk", "?page=2"],
    ids=["unfiltered", "filtered", "page-2"],
)
def test_letter_page_runs_at_most_eight_queries(client, query):
    letter = letter_with_few_signatures()
    grow_letter(letter)

    queries, _ = measure(client, reverse("letters:detail", args=[letter.slug]) + query)

    assert len(queries) <= LETTER_PAGE_QUERY_LIMIT, "\n".join(queries)


@pytest.mark.django_db
def test_share_image_runs_one_query_for_few_and_many_signatures(client):
    letter = letter_with_few_signatures()
    url = reverse("letters:share_image", args=[letter.slug])
    few, _ = measure(client, url)

    grow_letter(letter)
    many, body = measure(client, url)  # a new count: drawn afresh

    assert body.startswith(b"\x89PNG")
    assert_same_count(few, many)
    assert len(many) == 1, "\n".join(many)


@pytest.mark.django_db
def test_sitemap_sections_run_same_queries_for_few_and_many_rows(client):
    letter = letter_with_few_signatures()
    urls = ["/sitemap.xml"] + [f"/sitemap-{s}.xml" for s in ("letters", "recipients", "countries")]
    few = [query for url in urls for query in measure(client, url)[0]]

    grow_letter(letter)
    make_letters_with_signatures(8, Letter.Status.OPEN, signatures_each=5)
    make_letters(8, status=Letter.Status.DRAFT)
    many = [query for url in urls for query in measure(client, url)[0]]

    assert_same_count(few, many)


@pytest.mark.django_db
def test_letter_csv_runs_same_queries_for_few_and_many_signatures(client):
    letter = letter_with_few_signatures()
    url = reverse("signatories:letter_csv", args=[letter.slug])
    few, few_body = measure(client, url)

    grow_letter(letter)
    many, many_body = measure(client, url)

    assert len(csv_data_rows(few_body)) == FEW
    assert len(csv_data_rows(many_body)) == MANY
    assert_same_count(few, many)


@pytest.mark.django_db
def test_filtered_letter_csv_runs_same_queries_for_few_and_many_signatures(client):
    letter = letter_with_few_signatures()
    url = reverse("signatories:letter_csv", args=[letter.slug]) + "?kind=organisation&q=Bulk"
    few, few_body = measure(client, url)

    grow_letter(letter)
    many, many_body = measure(client, url)

    assert len(csv_data_rows(many_body)) > len(csv_data_rows(few_body)) > 0
    assert_same_count(few, many)


@pytest.mark.django_db
def test_signatory_page_runs_same_queries_for_few_and_many_letters(client):
    signatory = make_signatory()
    for letter in make_letters(FEW):
        make_signature(letter, signatory, statement="We support this letter.")
    url = reverse("signatories:detail", args=[signatory.slug])
    few, _ = measure(client, url)

    Signature.objects.bulk_create(
        [
            Signature(letter=letter, signatory=signatory, statement=f"Statement {i}")
            for i, letter in enumerate(make_letters(MANY - FEW))
        ]
    )
    many, body = measure(client, url)

    assert body.count(b"Bulk letter") == MANY
    assert_same_count(few, many)


@pytest.mark.django_db
def test_recipient_list_runs_same_queries_for_few_and_many_recipients(client):
    for letter in make_letters(FEW):
        make_addressee(letter)
    url = reverse("letters:recipient_list")
    few, _ = measure(client, url)

    letters = make_letters(MANY)
    recipients = make_recipients(MANY)
    Addressee.objects.bulk_create(
        [
            Addressee(letter=letter, recipient=recipient)
            for letter, recipient in zip(letters, recipients, strict=True)
        ]
    )
    many, body = measure(client, url)

    assert body.count(b"Bulk recipient") == MANY
    assert_same_count(few, many)


@pytest.mark.django_db
def test_recipient_page_runs_same_queries_for_few_and_many_letters(client):
    recipient = make_recipient()
    for letter in make_letters(FEW):
        make_addressee(letter, recipient)
        make_many_signatures(letter, 2)
    url = reverse("letters:recipient_detail", args=[recipient.slug])
    few, _ = measure(client, url)

    letters = make_letters(MANY - FEW)
    Addressee.objects.bulk_create(
        [
            Addressee(
                letter=letter,
                recipient=recipient,
                response_status=Addressee.ResponseStatus.RESPONDED,
                response_summary=f"Answer {i}",
            )
            for i, letter in enumerate(letters)
        ]
    )
    for letter in letters[:10]:
        make_many_signatures(letter, 5)
    many, body = measure(client, url)

    assert body.count(b"Bulk letter") == MANY
    assert_same_count(few, many)


@pytest.mark.django_db
def test_country_list_runs_same_queries_for_few_and_many_countries(client):
    make_many_signatures(make_letter(), FEW, countries=many_countries(FEW))
    url = reverse("signatories:country_list")
    few, _ = measure(client, url)

    make_many_signatures(make_letter(), MANY - FEW, countries=many_countries(100))
    many, body = measure(client, url)

    assert body.count(b'<th scope="row">') == 100
    assert_same_count(few, many)


@pytest.mark.django_db
def test_country_page_runs_same_queries_for_few_and_many_signatures(client):
    make_many_signatures(make_letter(), FEW, countries=("GB",))
    url = reverse("signatories:country_detail", args=["GB"])
    few, _ = measure(client, url)

    for _ in range(3):
        make_many_signatures(make_letter(), (MANY - FEW) // 3, countries=("GB",))
    many, body = measure(client, url)

    pages = math.ceil(MANY / settings.SIGNATURES_PER_PAGE)
    assert f"Page 1 of {pages}".encode() in body
    assert_same_count(few, many)


def _letters(count: int) -> None:
    recipient = make_recipient()
    for letter in make_letters(count):
        make_addressee(letter, recipient)
        make_signature(letter)


def _signatures(count: int) -> None:
    make_many_signatures(make_letter(), count // 2)
    make_many_signatures(make_letter(), count - count // 2)


def _signatories(count: int) -> None:
    make_many_signatures(make_letter(), count)


def _recipients(count: int) -> None:
    letter = make_letter()
    for recipient in make_recipients(count):
        make_addressee(letter, recipient)


def _addressees(count: int) -> None:
    for letter in make_letters(count):
        make_addressee(letter)


def superuser(user_model):
    return user_model.objects.create_superuser("admin", "admin@example.org", password=None)


ADMIN_CHANGELISTS = {
    "admin:letters_letter_changelist": _letters,
    "admin:signatories_signature_changelist": _signatures,
    "admin:signatories_signatory_changelist": _signatories,
    "admin:letters_recipient_changelist": _recipients,
    "admin:letters_addressee_changelist": _addressees,
}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ADMIN_CHANGELISTS)
def test_admin_changelist_runs_same_queries_for_few_and_many_rows(
    client, django_user_model, url_name
):
    make_rows = ADMIN_CHANGELISTS[url_name]
    client.force_login(superuser(django_user_model))
    url = reverse(url_name)
    make_rows(ADMIN_FEW_ROWS)
    # A first, unmeasured visit fills per-process caches (content types, the session)
    # that earlier tests may or may not have filled already.
    client.get(url)
    few, few_body = measure(client, url)

    make_rows(ADMIN_MANY_ROWS - ADMIN_FEW_ROWS)
    many, many_body = measure(client, url)

    assert few_body.count(ROW_CHECKBOX) == ADMIN_FEW_ROWS
    assert many_body.count(ROW_CHECKBOX) == ADMIN_MANY_ROWS
    assert_same_count(few, many)


@pytest.mark.django_db
def test_admin_letter_page_opens_with_many_signatures_showing_the_latest_inline(
    client, django_user_model
):
    client.force_login(superuser(django_user_model))
    letter = make_letter()
    make_many_signatures(letter, MANY)
    signatures = letter.signatures.order_by("pk").select_related("signatory")
    oldest, newest = signatures.first(), signatures.last()

    response = client.get(reverse("admin:letters_letter_change", args=[letter.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert f'name="signatures-INITIAL_FORMS" value="{INLINE_SIGNATURES_SHOWN}"' in content
    assert newest.signatory.name in content
    assert oldest.signatory.name not in content


def translate_everything(letter: Letter, code: str) -> None:
    """A translation of the letter, its recipients' descriptions, their answers and every
    step of them into ``code``, as an organiser would enter them."""
    from letters.models import (
        AddresseeTranslation,
        LetterTranslation,
        RecipientTranslation,
        ResponseEvent,
        ResponseEventTranslation,
    )

    LetterTranslation.objects.create(
        letter=letter, language=code, title=f"Titre {code}", summary=f"Résumé {code}"
    )
    for addressee in letter.addressees.select_related("recipient"):
        RecipientTranslation.objects.get_or_create(
            recipient=addressee.recipient, language=code, defaults={"description": code}
        )
        AddresseeTranslation.objects.create(
            addressee=addressee, language=code, response_summary=f"Réponse {code}"
        )
        event = ResponseEvent.objects.create(
            addressee=addressee,
            kind=ResponseEvent.Kind.ACKNOWLEDGED,
            date=datetime.date(2024, 2, 1),
            summary="Acknowledged.",
        )
        ResponseEventTranslation.objects.create(event=event, language=code, summary=code)


def public_urls(letter: Letter) -> list[str]:
    addressee = letter.addressees.select_related("recipient").first()
    signature = Signature.objects.filter(letter=letter).select_related("signatory").first()
    return [
        reverse("letters:home"),
        reverse("letters:list"),
        reverse("letters:detail", args=[letter.slug]),
        reverse("letters:detail", args=[letter.slug]) + "?kind=organisation&country=gb",
        reverse("letters:recipient_list"),
        reverse("letters:recipient_detail", args=[addressee.recipient.slug]),
        reverse("signatories:country_list"),
        reverse("signatories:country_detail", args=["GB"]),
        reverse("signatories:detail", args=[signature.signatory.slug]),
        reverse("letters:letter_feed", args=[letter.slug]),
        reverse("letters:embed", args=[letter.slug]),
    ]


@pytest.mark.django_db
def test_every_language_runs_the_queries_english_runs(client, settings):
    """A page in French, German or Spanish, its texts translated, runs exactly the queries
    of the English page (translations are read in the same query as their rows), with few
    signatures and with many."""
    from django.utils import translation

    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    letter = letter_with_few_signatures()
    for size in ("few", "many"):
        if size == "many":
            grow_letter(letter)
        with translation.override("en-gb"):
            english_urls = public_urls(letter)
        english = {url: len(measure(client, url)[0]) for url in english_urls}
        for code in ("fr", "de", "es"):
            if size == "few":
                translate_everything(letter, code)
            with translation.override(code):
                urls = public_urls(letter)
            for english_url, url in zip(english_urls, urls, strict=True):
                assert url.startswith(f"/{code}/")
                queries, body = measure(client, url)
                assert len(queries) == english[english_url], (url, "\n".join(queries))
                if "letters/" in url and url.endswith(f"{letter.slug}/"):
                    assert f"Résumé {code}".encode() in body

"""The admin stays usable at scale: no full COUNT, no per-row queries, indexed search."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signatories.admin import INLINE_SIGNATURES_SHOWN, CappedCountPaginator
from signatories.models import Signature
from tests.factories import make_many_signatures

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_capped_paginator_stops_counting_at_its_cap(letter, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 10)
    make_many_signatures(letter, 25)

    paginator = CappedCountPaginator(Signature.objects.order_by("-pk"), 5)

    assert paginator.count == 10
    assert paginator.is_capped
    assert paginator.num_pages == 2


def test_capped_paginator_counts_exactly_below_its_cap(letter):
    make_many_signatures(letter, 25)

    paginator = CappedCountPaginator(Signature.objects.order_by("-pk"), 5)

    assert paginator.count == 25
    assert not paginator.is_capped


def test_signature_list_says_or_more_when_the_count_is_capped(admin_client, letter, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 10)
    make_many_signatures(letter, 25)

    content = admin_client.get("/admin/signatories/signature/").content.decode()

    assert "10 or more signatures" in content


def test_signature_list_never_counts_the_whole_table(admin_client, letter):
    make_many_signatures(letter, 30)

    sql = queries_for(admin_client, "/admin/signatories/signature/")

    counts = [q for q in sql if "COUNT(" in q.upper()]
    assert counts, "the list should still count, up to the cap"
    assert all("LIMIT" in q.upper() for q in counts)


def test_signature_list_is_ordered_newest_first_by_primary_key(admin_client, letter):
    make_many_signatures(letter, 5)

    sql = queries_for(admin_client, "/admin/signatories/signature/")

    listing = next(q for q in sql if "ORDER BY" in q and "signatories_signature" in q)
    assert 'ORDER BY "signatories_signature"."id" DESC' in listing


def test_letter_change_page_runs_the_same_queries_for_40_and_300_signatures(admin_client, letter):
    url = f"/admin/letters/letter/{letter.pk}/change/"
    make_many_signatures(letter, 40)
    admin_client.get(url)  # the first request also fills per-process caches
    few = len(queries_for(admin_client, url))

    make_many_signatures(letter, 260)
    many = len(queries_for(admin_client, url))

    assert many == few
    assert INLINE_SIGNATURES_SHOWN < 40


def test_list_counts_are_not_computed_for_the_change_page(admin_client, letter):
    make_many_signatures(letter, 5)

    list_sql = " ".join(queries_for(admin_client, "/admin/letters/letter/"))
    change_sql = queries_for(admin_client, f"/admin/letters/letter/{letter.pk}/change/")

    assert "COALESCE((SELECT COUNT" in list_sql
    assert not any(q.startswith("SELECT") and "COALESCE((SELECT COUNT" in q for q in change_sql)


def test_signatory_search_has_trigram_indexes_on_postgresql():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'signatories_signatory'"
            )
            names = {row[0] for row in cursor.fetchall()}
            assert {"signatory_name_trgm_idx", "signatory_email_trgm_idx"} <= names
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            names = {row[0] for row in cursor.fetchall()}
            assert "signatory_name_idx" in names
            assert "signatory_name_trgm_idx" not in names


def test_letter_change_page_runs_no_query_per_inline_row(admin_client, letter):
    url = f"/admin/letters/letter/{letter.pk}/change/"
    make_many_signatures(letter, 2)
    admin_client.get(url)  # the first request also fills per-process caches
    two_rows = len(queries_for(admin_client, url))

    make_many_signatures(letter, INLINE_SIGNATURES_SHOWN)
    full_inline = len(queries_for(admin_client, url))

    assert full_inline == two_rows

"""What the suite's own handling of the test database (conftest.py) must leave as Django
would: a transactional test's flush empties every table."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from letters.models import ResponseEvent
from letters.responses import record_response_event
from tests.factories import make_addressee, make_letter, make_signature

# Made again by post_migrate after each flush, as Django's TransactionTestCase does.
REMADE = {ContentType._meta.db_table, Permission._meta.db_table}


def row_counts() -> dict[str, int]:
    tables = connection.introspection.django_table_names(only_existing=True)
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_the_flush_after_a_transactional_test_empties_every_table():
    letter = make_letter()
    make_signature(letter)
    record_response_event(
        addressee=make_addressee(letter),
        kind=ResponseEvent.Kind.ACKNOWLEDGED,
        date=letter.created_at.date(),
        summary="Acknowledged.",
    )
    before = row_counts()

    # As TransactionTestCase._fixture_teardown flushes (pytest-django's transactional tests).
    call_command(
        "flush",
        verbosity=0,
        interactive=False,
        reset_sequences=False,
        allow_cascade=False,
        inhibit_post_migrate=False,
    )

    after = row_counts()
    assert sum(1 for table, n in before.items() if n and table not in REMADE) >= 8
    assert {table: n for table, n in after.items() if n and table not in REMADE} == {}
    assert all(after[table] for table in REMADE)

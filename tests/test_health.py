"""/healthz, the load balancer's probe (docs/deploy.md): answers whatever the Host, reports
the database and Redis separately, and fails (503) only when the database does."""

import os

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Nothing listens on the discard port: connecting is refused at once.
STOPPED_REDIS_URL = "redis://127.0.0.1:9/0"


def redis_caches(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "undersigned-tests",
        },
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }


@pytest.fixture
def unreachable_database(db):
    """Points the default connection at a database that cannot be reached, for the
    duration of the test: a fresh connection with a bad address (PostgreSQL) or file
    path (SQLite), so the test database and its transaction are left untouched."""
    original = connections[DEFAULT_DB_ALIAS]
    unreachable = {**original.settings_dict}
    if original.vendor == "sqlite":
        unreachable["NAME"] = "/nonexistent-directory/undersigned.sqlite3"
    else:
        unreachable.update(HOST="127.0.0.1", PORT="9", CONN_HEALTH_CHECKS=False)
        unreachable["OPTIONS"] = {**unreachable.get("OPTIONS", {}), "connect_timeout": 2}
    broken = original.__class__(unreachable, alias=DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = broken
    try:
        yield
    finally:
        broken.close()
        connections[DEFAULT_DB_ALIAS] = original


@pytest.fixture
def running_redis():
    """The default cache on a real Redis (TEST_REDIS_URL); skipped without one, except
    under REQUIRE_REDIS=1 (CI), as in test_redis_limits.py."""
    with override_settings(CACHES=redis_caches(REDIS_URL)):
        from django.core.cache import cache

        try:
            cache.get("healthz")
        except Exception as error:  # noqa: BLE001 -- any connection failure means "no Redis"
            if os.environ.get("REQUIRE_REDIS") == "1":
                pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but {REDIS_URL} failed: {error}")
            pytest.skip(f"No Redis at {REDIS_URL}")
        yield


def test_healthz_answers_ok_in_json_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "up", "redis": "not configured"}


def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "host",
    ["10.0.0.11:8000", "10.0.0.11", "[fd00::11]:8000", "not a host!", "evil.example.com"],
)
def test_healthz_answers_a_probe_whatever_its_host_header(client, host):
    page = client.get("/privacy/", headers={"host": host})
    health = client.get("/healthz", headers={"host": host})

    assert page.status_code == 400  # the Host is refused everywhere else
    assert health.status_code == 200
    assert health.json()["database"] == "up"


def test_healthz_answers_head_requests(client):
    response = client.head("/healthz", headers={"host": "10.0.0.11:8000"})

    assert response.status_code == 200
    assert response.content == b""


def test_healthz_refuses_a_post(client):
    response = client.post("/healthz", headers={"host": "10.0.0.11:8000"})

    assert response.status_code == 405


def test_healthz_answers_503_when_the_database_is_unreachable(client, unreachable_database):
    response = client.get("/healthz", headers={"host": "10.0.0.11:8000"})

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "redis": "not configured"}


def test_healthz_reports_redis_up_when_it_answers(client, running_redis):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "redis": "up"}


def test_healthz_stays_200_with_redis_down_and_says_so(client):
    with override_settings(CACHES=redis_caches(STOPPED_REDIS_URL)):
        response = client.get("/healthz", headers={"host": "10.0.0.11:8000"})

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "up", "redis": "down"}


def test_healthz_reports_both_down_when_neither_answers(client, unreachable_database):
    with override_settings(CACHES=redis_caches(STOPPED_REDIS_URL)):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "redis": "down"}

"""Per-IP sign limits on Redis, as in production (several app servers share the counts).

Needs a Redis server: ``TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15), where each
test process writes under a key prefix of its own and removes only those keys; the test of
the commands sent starts a redis-server of its own. Without Redis the tests are skipped,
except when ``REQUIRE_REDIS=1``, which ``.ci/run`` sets: there they fail instead.
"""

import os
import shutil

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from signatories.models import Signature
from signatories.signing import confirm_signature
from tests.factories import make_letter
from tests.helpers import RedisServer, sign

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_caches(location: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }


@pytest.fixture
def redis_cache():
    """The default cache on Redis, under keys of this process's own: pytest-xdist runs
    several test processes against the one server, so they are removed one by one, never
    flushed (which would empty the other processes' counters mid-test). The settings are
    put back before conftest's ``empty_cache`` clears the cache after the test."""
    prefix = f"undersigned-tests-{os.getpid()}"
    with override_settings(CACHES=redis_caches(REDIS_URL, prefix)):
        cache = caches["default"]
        server = cache._cache.get_client(write=True)

        def forget() -> None:
            keys = list(server.scan_iter(f"{prefix}:*"))
            if keys:
                server.delete(*keys)

        try:
            forget()
        except Exception as error:  # noqa: BLE001 -- any connection failure means "no Redis"
            if os.environ.get("REQUIRE_REDIS") == "1":
                pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but {REDIS_URL} failed: {error}")
            pytest.skip(f"No Redis at {REDIS_URL}")
        yield cache
        forget()


@pytest.fixture
def own_redis_cache():
    """The default cache on a redis-server of this test's own, whose command statistics
    count this test's commands only (other test processes share the one on 6379)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is required (REQUIRE_REDIS=1) but is not installed")
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    try:
        with override_settings(CACHES=redis_caches(server.url, "undersigned-tests")):
            yield caches["default"], redis.Redis.from_url(server.url)
    finally:
        server.stop()


def test_signatures_over_the_per_ip_limit_wait_for_a_moderator_on_redis(client, redis_cache):
    letter = make_letter(accepts_public_signatures=True)

    for n in range(7):
        response = sign(
            client,
            letter,
            name=f"Redis Signer {n}",
            email=f"redis-signer-{n}@example.org",
            ip="192.0.2.50",
        )
        assert response.status_code == 302
    for signature in Signature.objects.filter(letter=letter):
        confirm_signature(signature_id=signature.pk)

    statuses = list(
        Signature.objects.filter(letter=letter).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == ["published"] * 5 + ["pending"] * 2
    counters = redis.Redis.from_url(REDIS_URL).keys(f"{redis_cache.key_prefix}:*")
    assert counters, "the per-IP counters should live in Redis"


def test_the_redis_cache_reuses_one_client_and_still_counts_across_calls(redis_cache):
    """config/cache.py: one redis.Redis per connection pool, not one per cache call."""
    client = redis_cache._cache.get_client(write=True)

    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache.add("counter", 1, 60)
    assert redis_cache.incr("counter") == 2
    assert redis_cache.get("counter") == 2


def test_the_redis_cache_increments_in_one_round_trip_and_keeps_the_expiry(own_redis_cache):
    """config/cache.py: ``incr`` is one script call on the wire, which checks and
    increments inside Redis (Django's own sends EXISTS, then INCRBY), keeps the counter's
    expiry, and still refuses a key that does not exist."""
    redis_cache, server = own_redis_cache
    # A fresh server learns the script on its first use (NOSCRIPT, SCRIPT LOAD, EVALSHA
    # again); a running one has long known it.
    assert redis_cache.add("first", 1, 60)
    assert redis_cache.incr("first") == 2
    assert redis_cache.add("counter", 1, 60)
    key = redis_cache.make_and_validate_key("counter")
    before = server.info("commandstats")

    assert redis_cache.incr("counter", 5) == 6

    after = server.info("commandstats")
    calls = {
        name: after[name]["calls"] - before.get(name, {"calls": 0})["calls"]
        for name in after
        if after[name]["calls"] != before.get(name, {"calls": 0})["calls"]
    }
    sent = calls.get("cmdstat_evalsha", 0) + calls.get("cmdstat_eval", 0)
    assert sent == 1, calls
    # Redis counts the script's own commands too: the check and the increment ran in it.
    assert calls.get("cmdstat_exists") == calls.get("cmdstat_incrby") == 1, calls
    assert 0 < server.ttl(key) <= 60
    with pytest.raises(ValueError, match="not found"):
        redis_cache.incr("no-such-counter")
    assert server.exists(redis_cache.make_and_validate_key("no-such-counter")) == 0

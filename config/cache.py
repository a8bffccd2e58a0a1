"""Django's Redis cache, with one client per connection pool and ``incr`` in one round trip.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call,
and each one fills a table of about 170 response callbacks: some 0.3 ms of Python per
call, several times per sign request. A ``redis.Redis`` over a connection pool is safe to
share between threads, so one per pool does the same work.

Django's ``incr`` asks whether the key exists, then increments it: two round trips, and a
key that expires between them comes back as a new counter without an expiry. Here one
script does both, atomically, in one round trip (the per-IP sign limits call it for each
limit on every signature).
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# Increment an existing key; nothing (nil) for a missing one, which Django reports as
# ValueError, so a counter is never created here without its expiry.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_scripts = {}

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

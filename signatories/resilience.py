"""What a signer does to protect themselves never waits on Redis or the task worker.

Withdrawing, stopping emails and confirming change one row in PostgreSQL; recounting the
letter (``tallies``), rate limits (``abuse``) and emails (``tasks``) go through the cache
and the task queue, which can fail on their own. Those calls go through here: an error
is logged and the caller gets a safe answer, never an exception:

- a cache call answers a fallback value chosen by the caller (a per-IP limit: "over", so
  the signature waits for a moderator; a "refresh queued" marker: "not queued", so one
  is queued again);
- a task that cannot be queued is run now when it is cheap and safe to (an email), or
  left to ``reconcile_counts`` (a recount), which runs from cron.

The task queue is queued in a savepoint, so a queue stored in the database that fails
leaves the caller's transaction (the withdrawal itself) intact.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def cache_or(default, call, *args, **kwargs):
    """``call(*args, **kwargs)`` on a cache, or ``default`` when the cache fails."""
    try:
        return call(*args, **kwargs)
    except Exception:
        # Any backend's failure (Redis down, a timeout, a full memcached) means the same.
        logger.warning("Cache unavailable: %s gave %r", call.__qualname__, default, exc_info=True)
        return default


def enqueue(task, *args, delay: int = 0) -> bool:
    """Queue ``task(*args)`` (to run ``delay`` seconds from now); False, logged, when the
    queue refused it."""
    try:
        with transaction.atomic():
            if delay > 0:
                run_after = timezone.now() + datetime.timedelta(seconds=delay)
                task.using(run_after=run_after).enqueue(*args)
            else:
                task.enqueue(*args)
    except Exception:
        logger.error("Task queue unavailable: %s%r not queued", task.name, args, exc_info=True)
        return False
    return True

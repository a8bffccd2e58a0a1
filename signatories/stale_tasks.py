"""Tasks left RUNNING by a worker that died mid-task (killed, out of memory, machine lost).

django-tasks-db marks a task RUNNING when a worker claims it and finished when the worker
records the outcome; a worker that dies in between leaves the row RUNNING forever, and
nothing runs the task again. ``resume_stale_tasks`` (cron, every few minutes) marks each
task running longer than any run takes as failed and queues it again.

Every task queued again here is safe to run twice: a follow-up round skips followers
already claimed (``FollowUpDelivery``), so it resumes where it stopped; a confirmation
email may arrive twice, which is harmless; a recount is a recount.

An import of a big file (``signatories.importers.background``) is not queued again: its
record, which the worker updates as it goes, is marked failed once it has had no news for
as long (``fail_stale_imports``), and staff upload the file again. A file that exhausted
one worker's memory would exhaust the next, every few minutes.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from signatories.importers.background import fail_stale_imports
from signatories.tallies import refresh_letter_tally
from signatories.tasks import notify_followers, send_signature_email

RESUMABLE = {task.module_path for task in (notify_followers, send_signature_email)} | {
    refresh_letter_tally.module_path
}


class StaleTask(Exception):
    """Recorded as the failure of a task whose worker stopped without finishing it."""


@dataclass(frozen=True)
class StaleReport:
    failed: int  # stale tasks marked failed
    requeued: int  # of which queued again
    imports_failed: int = 0  # imports of big files marked failed


def resume_stale_tasks(*, older_than: datetime.timedelta) -> StaleReport:
    """Mark tasks RUNNING for longer than ``older_than`` failed, and queue each again;
    mark imports whose worker said nothing for as long failed."""
    cutoff = timezone.now() - older_than
    stale = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    failed = requeued = 0
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            # A worker finishing it now holds no lock on the row; re-check its status.
            row = stale.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                continue
            row.set_failed(StaleTask(f"Still running after {older_than}: its worker is gone."))
            failed += 1
            if row.task_path in RESUMABLE:
                row.task.using(run_after=timezone.now()).enqueue(
                    *row.args_kwargs["args"], **row.args_kwargs["kwargs"]
                )
                requeued += 1
    imports_failed = fail_stale_imports(older_than=older_than)
    return StaleReport(failed=failed, requeued=requeued, imports_failed=imports_failed)

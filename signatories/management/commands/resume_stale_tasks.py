import datetime

from django.core.management.base import BaseCommand

from signatories.stale_tasks import resume_stale_tasks


class Command(BaseCommand):
    help = (
        "Find background tasks still marked running long after any run ends (their worker "
        "was killed), mark them failed and queue them again. A follow-up round resumes "
        "where it stopped, emailing nobody twice. Imports of big files whose worker "
        "went silent as long are marked failed. Run it from cron every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=float,
            default=15,
            help="Running longer than this is stale (default 15; a run takes seconds).",
        )

    def handle(self, *args, minutes, **options):
        report = resume_stale_tasks(older_than=datetime.timedelta(minutes=minutes))
        self.stdout.write(
            f"{report.failed} stale task(s) marked failed, {report.requeued} queued again; "
            f"{report.imports_failed} import(s) marked failed."
        )

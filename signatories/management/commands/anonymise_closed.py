from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from signatories.retention import anonymise_closed


class Command(BaseCommand):
    help = (
        "Erase signers' email and IP addresses (and those in the change history) on letters "
        "closed at least --days days ago. Safe to run every day, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.RETENTION_DAYS,
            help="Days after a letter closes (default: DJANGO_RETENTION_DAYS, else 180).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be erased; change nothing."
        )

    def handle(self, *args, days, dry_run, **options):
        if days < 0:
            raise CommandError("--days must be zero or more.")
        report = anonymise_closed(days=days, dry_run=dry_run)
        verb = "Would erase" if dry_run else "Erased"
        self.stdout.write(
            f"{verb} email and IP data of {report.signatures} signature(s) and the email of "
            f"{report.signatories} signatory(ies), plus {report.history_rows} history row(s), "
            f"on {report.letters} letter(s) closed on or before {report.cutoff:%Y-%m-%d}; "
            f"{verb.lower()} the record of {report.form_stamps} expired sign-form stamp(s); "
            f"{'would delete' if dry_run else 'deleted'} {report.expired_submissions} "
            "submission(s) never confirmed while their link worked."
        )

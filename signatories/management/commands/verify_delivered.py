from django.core.management.base import BaseCommand, CommandError

from signatories.delivered import redact_stale_rows, verify
from signatories.models import DeliveredList, DeliveredRow


class Command(BaseCommand):
    help = (
        "Recompute a letter's delivered list from its stored rows and salts: each row's "
        "hash, the tree and its root, compared with what was published. Report OK with the "
        "counts, or each difference, and exit with status 1. Also reports rows still shown "
        "whose signer has since withdrawn or hidden them (--redact redacts those)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The letter's slug.")
        parser.add_argument(
            "--redact",
            action="store_true",
            help="Redact the rows whose signature no longer shows them, then check again.",
        )

    def handle(self, *args, slug, redact, **options):
        try:
            delivered = DeliveredList.objects.select_related("letter").get(letter__slug=slug)
        except DeliveredList.DoesNotExist:
            raise CommandError(f"No delivered list for a letter with the slug “{slug}”.") from None
        report = verify(delivered)
        if redact and report.should_be_redacted:
            ids = DeliveredRow.objects.filter(
                delivered_list=delivered, position__in=report.should_be_redacted
            ).values_list("signature_id", flat=True)
            done = redact_stale_rows(signature_ids=list(ids))
            self.stdout.write(f"Redacted {done:,} row(s).")
            delivered.refresh_from_db()
            report = verify(delivered)
        for problem in report.problems:
            self.stdout.write(problem)
        for position in report.should_be_redacted:
            self.stdout.write(
                f"Row {position}: still shown, but its signature no longer shows it "
                "(withdrawn, hidden or changed): run with --redact."
            )
        if not report.ok:
            raise CommandError(
                f"The delivered list of {slug} does not verify: "
                f"{len(report.problems) + len(report.should_be_redacted)} problem(s)."
            )
        self.stdout.write(
            f"OK: {slug} delivered list, root {report.root}: {report.rows:,} rows "
            f"({report.shown:,} shown, {report.redacted:,} redacted)."
        )

from django.core.management.base import BaseCommand, CommandError

from letters.models import Letter
from signatories.list_keys import reconcile_list_keys
from signatories.tallies import reconcile


class Command(BaseCommand):
    help = (
        "Recount every letter's signatures and compare with the counts its pages show "
        "(its tally), and every signature's stored place in the list (its list key) with "
        "what its signatory's name and its display give; report each difference and fix "
        "it. With --check, only report, and exit with status 1 if anything differs. Safe "
        "to run at any time, e.g. daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("letters", nargs="*", help="Slugs of the letters (default: all).")
        parser.add_argument(
            "--check", action="store_true", help="Report differences; change nothing."
        )

    def handle(self, *args, letters, check, **options):
        letter_ids = None
        if letters:
            found = dict(Letter.objects.filter(slug__in=letters).values_list("slug", "pk"))
            if missing := sorted(set(letters) - set(found)):
                raise CommandError(f"No letter with the slug: {', '.join(missing)}.")
            letter_ids = set(found.values())
        # Keys first: a repaired key moves its signature, and the recount then re-marks
        # the list's pages.
        stale_keys = reconcile_list_keys(letter_ids=letter_ids, fix=not check)
        drifts = reconcile(letter_ids=letter_ids, fix=not check)
        slugs = dict(
            Letter.objects.filter(
                pk__in=[d.letter_id for d in drifts] + list(stale_keys)
            ).values_list("pk", "slug")
        )
        for letter_id, count in sorted(stale_keys.items()):
            self.stdout.write(
                f"{slugs[letter_id]}: {count:,} signature(s) stored out of place in the list "
                "(a stale list key)"
            )
        for drift in drifts:
            recorded = "no count yet" if drift.recorded is None else f"{drift.recorded:,}"
            detail = " (and its breakdown)" if drift.breakdown_differs else ""
            if drift.marks_differ:
                detail += " (its list marks for page numbers)"
            self.stdout.write(
                f"{slugs[drift.letter_id]}: showed {recorded}, counted {drift.actual:,}{detail}"
            )
        keys = sum(stale_keys.values())
        differences = [
            *([f"{len(drifts)} letter(s) differ"] if drifts else []),
            *([f"{keys:,} signature(s) have a stale list key"] if keys else []),
        ]
        if not differences:
            self.stdout.write(
                "No differences: every letter's counts and list keys match its signatures."
            )
        elif check:
            raise CommandError(f"{'; '.join(differences)}; run without --check to fix.")
        else:
            self.stdout.write(f"Fixed: {'; '.join(differences)}.")

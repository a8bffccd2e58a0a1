from django.core.management.base import BaseCommand, CommandError

from letters.models import Letter
from signatories.synthetic import NAME_PREFIX, NUMBER_WIDTH, generate_signatures


class Command(BaseCommand):
    help = (
        "Add COUNT published, obviously synthetic signatures to a letter, each by a new "
        f"signatory named “{NAME_PREFIX} 0000123”, for benchmarks and development: never "
        "on a database with real signatures. Spread over kinds, categories, countries, "
        "displays and verifications, some with a statement; the letter's counts are "
        "recounted at the end. PostgreSQL writes with COPY (about a minute for a million), "
        "other databases in batches. No change-history rows are written for them."
    )

    def add_arguments(self, parser):
        parser.add_argument("letter", help="The letter's slug.")
        parser.add_argument("count", type=int, help="How many signatures to add.")

    def handle(self, *args, letter, count, **options):
        if count <= 0:
            raise CommandError(f"COUNT must be a positive number of signatures, not {count}.")
        try:
            letter_obj = Letter.objects.get(slug=letter)
        except Letter.DoesNotExist:
            raise CommandError(f"No letter with the slug “{letter}”.") from None
        result = generate_signatures(letter=letter_obj, count=count)
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {result.count:,} synthetic signatures to “{letter_obj.slug}” "
                f"({NAME_PREFIX} {result.first_number:0{NUMBER_WIDTH}d} to "
                f"{result.last_number:0{NUMBER_WIDTH}d}) in {result.seconds:.1f} s "
                f"with {result.method}; its counts are up to date."
            )
        )

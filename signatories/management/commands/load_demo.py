from django.core.management.base import BaseCommand

from signatories.demo import load_demo_letter


class Command(BaseCommand):
    help = "Load the demo letter (safe to run again: it updates rather than duplicates)."

    def handle(self, *args, **options):
        letter = load_demo_letter()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo letter ready: “{letter.title}” with {letter.addressees.count()} "
                f"addressees and {letter.signatures.count()} signatures at "
                f"{letter.get_absolute_url()}"
            )
        )

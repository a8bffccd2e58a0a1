from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "admin"


class Command(BaseCommand):
    help = "Create a local superuser admin/admin for trying the admin. Refuses unless DEBUG is on."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "create_dev_admin only runs with DJANGO_DEBUG=1 (local development)."
            )
        User = get_user_model()
        if User.objects.filter(username=USERNAME).exists():
            self.stdout.write(f"Local admin login: {USERNAME} (already exists; password unchanged)")
            return
        User.objects.create_superuser(USERNAME, "admin@localhost", PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"Local admin login: {USERNAME} / {PASSWORD}"))

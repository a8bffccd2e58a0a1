"""The one preamble of every bench script: production settings, PostgreSQL, Django set up.

What is measured is production: DEBUG off (no query log growing in memory), no developer's
``.env``, plain HTTP for the in-process client. There is no task worker in a bench run, so
tasks (the count refresh an import schedules) run at once. SQLite is refused: its figures
would say nothing about the site.

Each script puts the checkout on ``sys.path`` (one line: this module is imported from it),
then calls ``setup_django()`` before importing anything of Django's or the project's.
"""

import os
import sys


def setup_django(script: str) -> None:
    """Set the production environment, refuse anything but PostgreSQL (exit with how to
    set ``DATABASE_URL``, naming ``script``), and set Django up."""
    os.environ.update(
        DJANGO_ENV_FILE=os.devnull,
        DJANGO_DEBUG="0",
        DJANGO_SSL_REDIRECT="0",
        DJANGO_TASKS_BACKEND="immediate",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit(
            f"{script} measures PostgreSQL, as production runs: set DATABASE_URL, e.g.\n"
            "  createdb -h 127.0.0.1 -U postgres undersigned_bench\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench make bench\n"
            "SQLite is refused: its figures would say nothing about the site."
        )

    import django

    django.setup()

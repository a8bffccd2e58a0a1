import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.db import connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.utils import translation
from whitenoise.middleware import WhiteNoiseMiddleware

from signatories.abuse import blocked_domains
from tests.factories import make_letter


@pytest.fixture
def letter(db):
    return make_letter()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Staff users are made in many tests (``admin_client``, the roles): their passwords
    hashed cheaply, as no test depends on the hasher's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def slow_machine_form_timing(settings):
    """A form posted with a fresh stamp is "sent too fast" however long a busy machine
    (several test processes at once) takes to handle it; every stamp a test means to be
    in time is a minute old or more."""
    settings.SIGN_FORM_MIN_SECONDS = 30


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Background tasks run at once in tests, whatever the environment chose."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's default language: a request to /fr/… activates
    French in the thread that served it (the test's own), and Django never switches back."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters live in the cache, drawn page fragments in theirs, the blocked
    email domains in each process's memory: each test starts with none."""

    def forget():
        cache.clear()
        caches["fragments"].clear()
        blocked_domains.forget()

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    """Pages render afresh on every request in tests (test_http_cache.py turns the
    server-side page cache on where it is the subject)."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback, and the default mailer pointed at it."""
    from tests.smtp import SMTPServer, start

    server = SMTPServer()
    controller = start(server)
    settings.MAILERS = server.mailers
    yield server
    controller.stop()


# Settings WhiteNoiseMiddleware reads besides its own WHITENOISE_* ones.
WHITENOISE_READS = ("DEBUG", "FORCE_SCRIPT_NAME", "STATIC_ROOT", "STATIC_URL", "STORAGES")


def whitenoise_settings() -> str:
    """Every setting a WhiteNoise middleware is made from, as they stand now."""
    names = sorted(n for n in dir(django_settings) if n.startswith("WHITENOISE_"))
    return repr(
        [(name, getattr(django_settings, name, None)) for name in [*names, *WHITENOISE_READS]]
    )


class StaticFilesReadOnce:
    """WhiteNoise's middleware reads every file under STATIC_ROOT when it is made (1,200
    files, each stat'ed, its compressed variants looked for, its headers made: ~45 ms). A
    server makes it once per process; Django's test client makes it once per client, so
    once per test, a fifth of the suite's time. Here a middleware made with the same
    settings as an earlier one gets the files that one read: STATIC_ROOT does not change
    during a run (``make collectstatic`` runs first), and every request still goes through
    WhiteNoise as configured. test_static_files.py holds them equal to a fresh read."""

    def __init__(self):
        self.read_by_settings: dict[tuple, dict] = {}
        self.read = WhiteNoiseMiddleware.update_files_dictionary  # WhiteNoise's own

    def fresh(self, middleware: WhiteNoiseMiddleware, root: str, prefix: str) -> dict:
        """The files ``middleware`` reads from ``root``, read anew."""
        kept, middleware.files = middleware.files, {}
        try:
            self.read(middleware, root, prefix)
            return middleware.files
        finally:
            middleware.files = kept

    def update_files_dictionary(self, middleware, root: str, prefix: str) -> None:
        key = (type(middleware), root, prefix, whitenoise_settings())
        if key not in self.read_by_settings:
            self.read_by_settings[key] = self.fresh(middleware, root, prefix)
        middleware.files.update(self.read_by_settings[key])


@pytest.fixture(scope="session", autouse=True)
def static_files_read_once():
    once = StaticFilesReadOnce()
    WhiteNoiseMiddleware.update_files_dictionary = lambda middleware, root, prefix: (
        once.update_files_dictionary(middleware, root, prefix)
    )
    yield once
    del WhiteNoiseMiddleware.update_files_dictionary


# PostgreSQL: a rolled-back test leaves the rows it inserted in its tables and indexes,
# dead, until a VACUUM removes them; later queries step over them. A test that makes
# thousands of signatures leaves thousands (22,000 after test_paging.py, test_country_page.py
# and test_delivered.py, when the next similar-names query took 3.7 s instead of 0.1 s).
# Autovacuum would clear them, but a server may run without it (this machine's does) and
# it naps a minute between rounds. So once a test leaves this many dead rows or more, the
# tables that hold them are vacuumed (a tenth of a second): what the rows say is never
# touched, only space and index entries that no transaction can see any more.
DEAD_ROWS_TO_VACUUM = 2000

db_blocker = None  # pytest-django's DjangoDbBlocker, once a test has asked for the database


@pytest.fixture(scope="session", autouse=True)
def database_blocker_for_vacuum(django_db_blocker):
    global db_blocker
    db_blocker = django_db_blocker


def vacuum_dead_rows() -> None:
    if connection.vendor != "postgresql" or db_blocker is None:
        return
    if not connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        return  # the test database is not set up (yet): nothing of ours to clear
    if connection.in_atomic_block:
        return  # a transaction left open (VACUUM can't run in one): the test fails anyway
    with db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('%I.%I', schemaname, relname), n_dead_tup FROM pg_stat_user_tables "
            "WHERE n_dead_tup > 0"
        )
        dead = cursor.fetchall()
        if sum(count for _, count in dead) >= DEAD_ROWS_TO_VACUUM:
            cursor.execute(f"VACUUM {', '.join(table for table, _ in dead)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's fixtures are torn down (its transaction rolled back), before the
    next test's are set up; not after the last, whose teardown drops the database."""
    result = yield
    if nextitem is not None:
        vacuum_dead_rows()
    return result


@pytest.fixture(scope="session", autouse=True)
def transactional_tests_emptied_by_delete(django_db_blocker):
    """PostgreSQL: after a transactional test Django empties every table (``flush``) with
    one TRUNCATE, which gives each table and index new files: ~0.2 s on a quiet machine,
    over a second while other PostgreSQL work writes to the same disk, and this suite has
    thirty such tests a run. A DELETE of their few rows takes 10 ms and leaves the same
    state: every table empty (Django makes every foreign key deferred to the commit, so the
    order does not matter), sequences left as TRUNCATE without RESTART IDENTITY leaves
    them; a flush asked to reset sequences or to cascade still truncates.
    test_test_database.py holds every table empty after it."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(ops, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(
                ops, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        delete = style.SQL_KEYWORD("DELETE FROM")
        return [f"{delete} {style.SQL_FIELD(ops.quote_name(table))};" for table in tables]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate

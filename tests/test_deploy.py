"""Production deployment (docs/deploy.md): `check --deploy`, HTTPS, the replica router, and
the benchmark-only hello page."""

import functools
import importlib
import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.checks import Tags, run_checks
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import transaction
from django.urls import clear_url_caches
from django_tasks_db.models import DBTaskResult

from config.db_router import PrimaryReplicaRouter
from letters.models import Letter
from signatories.models import Signature

# The production environment docs/deploy.md documents, at its smallest.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "letters.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_SITE_URL": "https://letters.example.org",
    "DJANGO_DATA_CONTROLLER": "Example Coalition for Children",
    "DJANGO_DATA_CONTROLLER_CONTACT": "privacy@example.org",
}

SETTINGS_PROBE = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_REDIRECT_EXEMPT": settings.SECURE_REDIRECT_EXEMPT,
    "DATABASES": sorted(settings.DATABASES),
    "DATABASE_ROUTERS": settings.DATABASE_ROUTERS,
    "BENCH_HELLO": settings.BENCH_HELLO,
}))
"""


def run_python(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Python in a fresh interpreter with only the given Django settings variables (no
    .env, nothing from the test run's own environment)."""
    return _run_python(tuple(args), tuple(sorted(env.items())))


@functools.cache
def _run_python(args: tuple[str, ...], env: tuple[tuple[str, str], ...]):
    # Several tests ask the same question of the same environment: a fresh interpreter
    # costs seconds, and its answer cannot change within a run, so it is asked once.
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_")) and k != "REDIS_URL"
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings", DJANGO_ENV_FILE=os.devnull, **dict(env)
    )
    return subprocess.run(
        [sys.executable, *args],
        env=environ,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)


def production_settings(**env: str) -> dict:
    result = run_python(["-c", SETTINGS_PROBE], **PRODUCTION_ENV, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_check_deploy_finds_nothing_in_the_documented_production_environment():
    result = check_deploy(**PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.slow
def test_check_deploy_is_quiet_about_redis_and_site_url_when_both_are_set():
    result = check_deploy(**PRODUCTION_ENV)

    assert "undersigned.W001" not in result.stdout + result.stderr
    assert "undersigned.W002" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("missing", "changed", "warning"),
    [
        ("REDIS_URL", {}, "undersigned.W001"),
        ("DJANGO_SITE_URL", {}, "undersigned.W002"),
        (None, {"DJANGO_SITE_URL": "http://localhost:8000"}, "undersigned.W002"),
        (None, {"DJANGO_SITE_URL": "https://[::1]"}, "undersigned.W002"),
        ("DJANGO_DATA_CONTROLLER", {}, "undersigned.W004"),
        ("DJANGO_DATA_CONTROLLER_CONTACT", {}, "undersigned.W004"),
        (None, {"DJANGO_DATA_CONTROLLER": "  "}, "undersigned.W004"),
    ],
)
@pytest.mark.slow
def test_check_deploy_warns_without_redis_the_site_url_or_the_data_controller(
    missing, changed, warning
):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing} | changed

    result = check_deploy(**env)

    assert result.returncode != 0
    assert f"({warning})" in result.stderr
    assert "HINT: Set " in result.stderr


def deploy_warnings() -> list[str]:
    """The ids of our own deployment checks' messages, with this run's settings."""
    return [
        message.id
        for message in run_checks(include_deployment_checks=True, tags=[Tags.security])
        if message.id.startswith("undersigned.")
    ]


SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("mailer", "warned"),
    [
        ({"BACKEND": SMTP, "OPTIONS": {"host": "smtp.example.org"}}, True),
        ({"BACKEND": SMTP, "OPTIONS": {"host": "smtp.example.org", "timeout": None}}, True),
        ({"BACKEND": "tests.test_deploy.OurSMTPBackend", "OPTIONS": {"host": "mx"}}, True),
        ({"BACKEND": SMTP, "OPTIONS": {"host": "smtp.example.org", "timeout": 10}}, False),
        ({"BACKEND": "django.core.mail.backends.console.EmailBackend"}, False),
    ],
)
def test_check_deploy_warns_on_an_smtp_mailer_without_timeout(settings, mailer, warned):
    settings.MAILERS = {"default": mailer}

    assert ("undersigned.W003" in deploy_warnings()) is warned


class OurSMTPBackend(SMTPBackend):
    """A project's own subclass of the SMTP backend is still SMTP."""


def test_check_deploy_warns_on_a_cache_of_each_process_own(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert "undersigned.W001" in deploy_warnings()

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    }
    assert "undersigned.W001" not in deploy_warnings()


@pytest.mark.parametrize(
    ("site_url", "warned"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.0.0.2", True),
        ("http://localhost:8000", True),
        ("https://letters.example.org", False),
        ("https://10.0.0.11", False),
    ],
)
def test_check_deploy_warns_on_a_site_url_on_this_machine(settings, site_url, warned):
    settings.SITE_URL = site_url

    assert ("undersigned.W002" in deploy_warnings()) is warned


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"DJANGO_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_SSL_REDIRECT": "0"}, "security.W008"),
        ({"DJANGO_HSTS_PRELOAD": "1"}, "security.W005"),
    ],
)
@pytest.mark.slow
def test_check_deploy_warns_when_https_is_weakened(env, warning):
    result = check_deploy(**PRODUCTION_ENV, **env)

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


@pytest.mark.slow
def test_production_redirects_to_https_and_sends_hsts_for_a_year_by_default():
    values = production_settings()

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.slow
def test_behind_a_proxy_its_forwarded_protocol_is_trusted():
    values = production_settings(DJANGO_BEHIND_PROXY="1")

    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.fixture
def https_settings(settings):
    """This test run's settings, with the production HTTPS settings applied (the suite
    itself runs without the redirect, and may run in debug mode)."""
    values = production_settings(DJANGO_BEHIND_PROXY="1")
    settings.SECURE_SSL_REDIRECT = values["SECURE_SSL_REDIRECT"]
    settings.SECURE_REDIRECT_EXEMPT = values["SECURE_REDIRECT_EXEMPT"]
    settings.SECURE_HSTS_SECONDS = values["SECURE_HSTS_SECONDS"]
    settings.SECURE_PROXY_SSL_HEADER = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return settings


@pytest.mark.slow
def test_plain_http_is_redirected_to_https_except_the_health_check(client, db, https_settings):

    page = client.get("/privacy/")
    health = client.get("/healthz")

    assert page.status_code == 301
    assert page["Location"] == "https://testserver/privacy/"
    assert health.status_code == 200


@pytest.mark.slow
def test_a_load_balancer_probing_by_ip_over_plain_http_gets_200(client, db, https_settings):
    response = client.get("/healthz", headers={"host": "10.0.0.11:8000"})

    assert response.status_code == 200
    assert response.json()["database"] == "up"


@pytest.mark.slow
def test_https_forwarded_by_the_proxy_is_served_with_hsts(client, db, https_settings):
    response = client.get("/privacy/", headers={"x-forwarded-proto": "https"})

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.slow
def test_the_replica_is_used_only_when_its_url_is_set():
    without = production_settings()
    with_replica = production_settings(
        DATABASE_REPLICA_URL="postgres://reader@replica.example.org:5432/undersigned"
    )

    assert without["DATABASES"] == ["default"]
    assert without["DATABASE_ROUTERS"] == []
    assert with_replica["DATABASES"] == ["default", "replica"]
    assert with_replica["DATABASE_ROUTERS"] == ["config.db_router.PrimaryReplicaRouter"]


def test_router_sends_reads_to_the_replica_and_writes_to_the_primary():
    router = PrimaryReplicaRouter()

    assert router.db_for_read(Letter) == "replica"
    assert router.db_for_read(Signature) == "replica"
    assert router.db_for_write(Letter) == "default"
    assert router.db_for_write(Signature) == "default"


def test_router_keeps_the_task_queue_and_logins_on_the_primary():
    router = PrimaryReplicaRouter()

    assert router.db_for_read(DBTaskResult) == "default"
    assert router.db_for_read(Session) == "default"
    assert router.db_for_read(get_user_model()) == "default"


def test_router_reads_from_the_primary_inside_a_transaction(db):
    router = PrimaryReplicaRouter()

    with transaction.atomic():
        assert router.db_for_read(Signature) == "default"


def test_router_migrates_only_the_primary():
    router = PrimaryReplicaRouter()

    assert router.allow_migrate("default", "letters") is True
    assert router.allow_migrate("replica", "letters") is False


def test_bench_hello_is_not_found_by_default(client, db):
    assert django_settings.BENCH_HELLO is False
    assert client.get("/bench/hello").status_code == 404


@pytest.fixture
def bench_hello_routed(settings):
    import config.urls

    settings.BENCH_HELLO = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.BENCH_HELLO = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_bench_hello_answers_when_enabled(bench_hello_routed, client, db):
    response = client.get("/bench/hello")

    assert response.status_code == 200
    assert response.content == b"hello\n"

"""The one settings module, loaded in a fresh interpreter from a controlled environment."""

import json
import os
import subprocess
import sys

from django.conf import settings as test_settings

# Prints what these tests look at, as JSON, once settings have loaded. Only the settings
# module: loading the apps (django.setup(), seconds of imports) changes none of these
# values; test_deploy.py loads them under production settings (manage.py check --deploy).
PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "NAME": str(settings.DATABASES["default"]["NAME"]),
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
}))
"""

CONTROLLED = (
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "DJANGO_ALLOWED_HOSTS",
    "REDIS_URL",
    "DJANGO_ENV_FILE",
)


def load_settings(**env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # A developer's .env (written by `make run`) must not leak into these tests.
    environ["DJANGO_ENV_FILE"] = os.devnull
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environ,
        cwd=test_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(**env: str) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def last_error_line(result: subprocess.CompletedProcess) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_settings_refuse_to_load_without_secret_key_when_debug_is_unset():
    result = load_settings()

    assert result.returncode != 0
    error = last_error_line(result)
    assert error.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert "DJANGO_SECRET_KEY" in error


def test_settings_refuse_to_load_without_secret_key_when_debug_is_off():
    result = load_settings(DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in last_error_line(result)


def test_settings_refuse_an_empty_secret_key_in_production():
    result = load_settings(DJANGO_SECRET_KEY="")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in last_error_line(result)


def test_settings_load_without_secret_key_in_debug_mode():
    values = loaded(DJANGO_DEBUG="1")

    assert values["DEBUG"] is True
    assert values["SECRET_KEY"]


def test_settings_load_in_production_with_a_secret_key():
    values = loaded(DJANGO_SECRET_KEY="a-real-secret")

    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == "a-real-secret"


def test_postgres_database_url_selects_the_postgresql_engine():
    values = loaded(
        DJANGO_SECRET_KEY="x",
        DATABASE_URL="postgres://someone@db.example.org:5432/undersigned",
    )

    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["NAME"] == "undersigned"


def test_unset_database_url_selects_sqlite_beside_manage_py():
    values = loaded(DJANGO_SECRET_KEY="x")

    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["NAME"] == str(test_settings.BASE_DIR / "db.sqlite3")


def test_allowed_hosts_are_split_on_commas():
    values = loaded(
        DJANGO_SECRET_KEY="x",
        DJANGO_ALLOWED_HOSTS="undersigned.example.org, www.undersigned.example.org,,",
    )

    assert values["ALLOWED_HOSTS"] == [
        "undersigned.example.org",
        "www.undersigned.example.org",
    ]


def test_production_allows_no_host_unless_told():
    assert loaded(DJANGO_SECRET_KEY="x")["ALLOWED_HOSTS"] == []


def test_debug_mode_allows_local_hosts_by_default():
    assert "localhost" in loaded(DJANGO_DEBUG="1")["ALLOWED_HOSTS"]


def test_env_file_supplies_settings_missing_from_the_environment(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=1\nDJANGO_ALLOWED_HOSTS=from-the-file.example\n")

    settings = loaded(DJANGO_ENV_FILE=str(env_file))

    assert settings["DEBUG"] is True
    assert settings["ALLOWED_HOSTS"] == ["from-the-file.example"]


def test_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=1\n")

    result = load_settings(DJANGO_ENV_FILE=str(env_file), DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in last_error_line(result)

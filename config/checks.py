"""Deployment checks of our own, run by ``manage.py check --deploy`` (docs/deploy.md).

Each catches a setting that works on a laptop and fails quietly in production: the
site runs, and the mistake shows only as a signer held for no reason, a link that points
nowhere, or a worker stuck on a silent mail server.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.utils.module_loading import import_string

# Caches that each process keeps to itself (or that keep nothing).
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}

W001 = "undersigned.W001"
W002 = "undersigned.W002"
W003 = "undersigned.W003"
W004 = "undersigned.W004"


@register(Tags.security, Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Warning(
            "REDIS_URL is not set: the default cache is each process's own memory, so the "
            "per-IP sign limits count per process (with 3 app processes a sender gets 3 "
            "times the limit).",
            hint="Set REDIS_URL=redis://<host>:6379/0, the same on every app server.",
            id=W001,
        )
    ]


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    host = urlsplit(settings.SITE_URL).hostname or ""
    if not _is_local(host):
        return []
    return [
        Warning(
            f"DJANGO_SITE_URL is {settings.SITE_URL}: the links in emails (confirm, "
            "withdraw, stop emails) point at this machine, not at the public site.",
            hint="Set DJANGO_SITE_URL to the public address, e.g. https://letters.example.org.",
            id=W002,
        )
    ]


@register(Tags.security, deploy=True)
def check_smtp_timeout(app_configs, **kwargs):
    if hasattr(settings, "MAILERS"):
        mailer = settings.MAILERS.get("default", {})
        backend = mailer.get("BACKEND", "")
        timeout = mailer.get("OPTIONS", {}).get("timeout")
    else:  # Django's settings before MAILERS
        backend, timeout = settings.EMAIL_BACKEND, settings.EMAIL_TIMEOUT
    if timeout is not None or not _is_smtp(backend):
        return []
    return [
        Warning(
            "The default mailer sends through SMTP without a timeout: a mail server that "
            "accepts the connection and then stops answering holds the worker (or the "
            "request) forever.",
            hint=(
                "Set DJANGO_EMAIL_TIMEOUT (seconds), or 'timeout' in MAILERS['default']['OPTIONS']."
            ),
            id=W003,
        )
    ]


@register(Tags.security, deploy=True)
def check_data_controller(app_configs, **kwargs):
    missing = [
        name
        for name, value in [
            ("DJANGO_DATA_CONTROLLER", settings.DATA_CONTROLLER),
            ("DJANGO_DATA_CONTROLLER_CONTACT", settings.DATA_CONTROLLER_CONTACT),
        ]
        if not value
    ]
    if not missing:
        return []
    return [
        Warning(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the "
            "privacy page names no data controller or no way to reach them, which data "
            "protection law (UK and EU GDPR, article 13) requires of a site that collects "
            "signers' details.",
            hint=(
                "Set DJANGO_DATA_CONTROLLER to the organisation's legal name and "
                "DJANGO_DATA_CONTROLLER_CONTACT to an email or postal address that answers."
            ),
            id=W004,
        )
    ]


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_smtp(backend: str) -> bool:
    try:
        backend_class = import_string(backend)
    except ImportError:
        return False  # Django reports a mailer it cannot import
    return isinstance(backend_class, type) and issubclass(backend_class, SMTPBackend)

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ProjectConfig(AppConfig):
    """The project itself as an app, so that its deployment checks (config/checks.py) are
    registered when Django starts."""

    name = "config"
    verbose_name = "Undersigned"
    # This module holds two app configs: "config" in INSTALLED_APPS means this one.
    default = True

    def ready(self):
        from config import checks  # noqa: F401 -- registers the checks


class UndersignedAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the project's site (``config.admin_site``) as its default."""

    default_site = "config.admin_site.UndersignedAdminSite"
    default = False  # named in full in INSTALLED_APPS; "config" means ProjectConfig

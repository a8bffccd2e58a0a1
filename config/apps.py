from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself as an app, so that its deployment checks (config/checks.py) are
    registered when Django starts."""

    name = "config"
    verbose_name = "Undersigned"

    def ready(self):
        from config import checks  # noqa: F401 -- registers the checks

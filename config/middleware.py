"""Middleware of our own: the health check answered before Host validation, and the
Permissions-Policy header (Django sets the other security headers itself)."""

from django.conf import settings

from config.views import healthz

HEALTHZ_PATH = "/healthz"


class HealthCheckMiddleware:
    """Serves ``/healthz`` before CommonMiddleware validates the Host header.

    Load balancers probe each app server by its address (``Host: 10.0.0.11:8000``), which
    is not in ``ALLOWED_HOSTS``: through the usual path that probe gets 400 and the server
    is taken out of rotation. The health check reads no host and builds no URL, so it is
    safe to answer whatever the Host. Placed after SecurityMiddleware (``/healthz`` is in
    ``SECURE_REDIRECT_EXEMPT``) and the header middleware, so it is sent with theirs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY``: a feature mapped
    to the origins allowed to use it, an empty list for none (``camera=()``)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in getattr(settings, "PERMISSIONS_POLICY", {}).items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response

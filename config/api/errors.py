"""Errors as JSON on the API and on every ``.json`` URL: ``{"detail": …}``, and for a bad
query parameter also ``"errors": {parameter: [messages]}``, so that a client is told
which parameter to fix. Nothing a client sends picks another format: the API answers
JSON whatever its ``Accept`` header or ``?format=`` says."""

from django.http import HttpRequest, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


def is_json_url(path: str) -> bool:
    return path.startswith(API_PREFIX) or path.endswith(".json")


def page_not_found(request: HttpRequest, exception=None):
    """Django's 404 (``handler404``): JSON on API and ``.json`` URLs — an unknown letter's
    ``count.json``, an address under ``/api/`` that names nothing — the site's page
    elsewhere. It never repeats what was asked for: a guessed slug may be a name."""
    if is_json_url(request.path):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def exception_handler(exc, context):
    """DRF's answer to an error, with a bad parameter named in ``detail`` too."""
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"": response.data}
        errors = {name: [str(m) for m in _as_list(messages)] for name, messages in errors.items()}
        name, messages = next(iter(errors.items()))
        response.data = {"detail": f"Invalid {name}: {messages[0]}", "errors": errors}
    return response


def _as_list(messages) -> list:
    return messages if isinstance(messages, list) else [messages]


def bad_parameter(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]})


class JSONOnly(BaseContentNegotiation):
    """The view's first renderer, whatever the request asks: no 406, no browsable API,
    no ``?format=`` switch (an unknown parameter, ignored like any other)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

"""The suite reads STATIC_ROOT once per set of WhiteNoise settings (``static_files_read_once``
in conftest.py) instead of once per test client: each test's middleware must still serve
exactly what a middleware made afresh would."""

from django.test import override_settings
from whitenoise.middleware import WhiteNoiseMiddleware


def served(middleware: WhiteNoiseMiddleware) -> dict:
    """Every URL the middleware answers, with each file it would send and its headers."""
    return {
        url: (
            static_file.etag,
            static_file.last_modified,
            [
                (pattern.pattern, path, list(headers))
                for pattern, path, headers in static_file.alternatives
            ],
            static_file.not_modified_response.headers,
        )
        for url, static_file in middleware.files.items()
    }


def made_afresh(static_files_read_once, monkeypatch) -> WhiteNoiseMiddleware:
    with monkeypatch.context() as patched:
        patched.setattr(
            WhiteNoiseMiddleware, "update_files_dictionary", static_files_read_once.read
        )
        return WhiteNoiseMiddleware(lambda request: None)


def test_a_middleware_made_again_serves_what_one_made_afresh_serves(
    static_files_read_once, monkeypatch
):
    WhiteNoiseMiddleware(lambda request: None)
    again = WhiteNoiseMiddleware(lambda request: None)
    fresh = made_afresh(static_files_read_once, monkeypatch)

    assert len(fresh.files) > 500
    assert served(again) == served(fresh)
    assert "/static/favicon.svg" in again.files


def test_a_middleware_made_with_other_settings_reads_them(static_files_read_once, monkeypatch):
    WhiteNoiseMiddleware(lambda request: None)
    with override_settings(WHITENOISE_MAX_AGE=7):
        other = WhiteNoiseMiddleware(lambda request: None)
        fresh = made_afresh(static_files_read_once, monkeypatch)

    assert served(other) == served(fresh)
    assert ("Cache-Control", "max-age=7, public") in other.files[
        "/static/favicon.svg"
    ].alternatives[0][2]


def test_the_test_client_is_served_a_static_file_with_its_headers(client):
    response = client.get("/static/favicon.svg")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b"".join(response.streaming_content).lstrip().startswith(b"<svg")

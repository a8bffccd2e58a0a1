"""The API's OpenAPI schema is valid OpenAPI 3, and a client written from it alone reads
every resource: each GET path requested with its parameters filled from what the API
lists, each answer — and each error it declares — checked against the schema.

The documentation page loads nothing but this site's static files, served by WhiteNoise
from collectstatic's output, with no inline script or style for the CSP to refuse."""

import copy
import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.urls import reverse
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


@pytest.fixture
def spec(client) -> dict:
    response = client.get(reverse("api:schema"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def closed(spec: dict) -> dict:
    """The schema's components with every object closed to properties it does not name,
    so that an answer with a field the schema leaves out fails too."""
    components = copy.deepcopy(spec["components"])

    def close(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(components)
    return components


def check(spec: dict, operation: dict, status: int, body) -> None:
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = OAS30Validator({**schema, "components": closed(spec)})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == [], f"{operation['operationId']} {status}: {errors[:5]}"


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def test_schema_is_valid_openapi_3(client, spec):
    validate(spec)

    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/v1/",
        "/api/v1/letters/",
        "/api/v1/letters/{slug}/",
        "/api/v1/letters/{slug}/signatures/",
        "/api/v1/recipients/",
        "/api/v1/recipients/{slug}/",
        "/api/v1/countries/",
    }
    assert {method for path in spec["paths"].values() for method in path} == {"get"}


def test_a_client_written_from_the_schema_reads_every_resource(client, demo, spec):
    """Path parameters come from the lists the API gives: a letter's slug from
    /letters/, a recipient's from /recipients/."""
    letters = client.get("/api/v1/letters/").json()["results"]
    recipients = client.get("/api/v1/recipients/").json()
    assert letters and recipients
    slugs = {"letters": letters[0]["slug"], "recipients": recipients[0]["slug"]}

    read = []
    for path, methods in spec["paths"].items():
        operation = methods["get"]
        resource = path.removeprefix("/api/v1/").split("/")[0]
        url = fill(path, {"slug": slugs.get(resource, "")})
        response = client.get(url, {"page_size": 2} if "signatures" in path else {})
        assert response.status_code == 200, url
        check(spec, operation, 200, response.json())
        read.append(operation["operationId"])
        if "signatures" in path:  # the next page, by the link the page gives
            next_page = response.json()["next"]
            assert next_page
            check(spec, operation, 200, client.get(next_page).json())

    assert len(read) == len(spec["paths"]) == 7


def bad_value(parameter: dict) -> str:
    """A value the parameter's schema allows in form but the API cannot take."""
    schema = parameter["schema"]
    if "enum" in schema:
        return "not-one-of-them"
    if schema.get("type") == "integer":
        return "0"
    return {"after": "forged", "q": "x" * 101}.get(parameter["name"], "no-such-thing")


def test_every_declared_error_answers_as_the_schema_says(client, demo, spec):
    letter = client.get("/api/v1/letters/").json()["results"][0]["slug"]
    checked = set()
    for path, methods in spec["paths"].items():
        operation = methods["get"]
        responses = operation["responses"]
        if "404" in responses:
            response = client.get(fill(path, {"slug": "no-such-slug"}))
            assert response.status_code == 404, path
            check(spec, operation, 404, response.json())
            checked.add((path, 404))
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            url = fill(path, {"slug": letter})
            response = client.get(url, {parameter["name"]: bad_value(parameter)})
            assert "400" in responses, (path, parameter["name"])
            assert response.status_code == 400, (path, parameter["name"])
            check(spec, operation, 400, response.json())
            assert list(response.json()["errors"]) == [parameter["name"]]
            checked.add((path, parameter["name"]))

    assert {name for _, name in checked} >= {
        404,
        "status",
        "recipient",
        "page",
        "kind",
        "category",
        "country",
        "verification",
        "q",
        "after",
        "page_size",
    }


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._tag = tag
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("rel") in ("stylesheet", "icon"):
            self.urls.append(attrs["href"])
        if "style" in attrs:
            self.inline.append(f"style attribute on <{tag}>")

    def handle_data(self, data):
        if self._tag in ("script", "style") and data.strip():
            self.inline.append(f"inline <{self._tag}>")

    def handle_endtag(self, tag):
        self._tag = None


def test_docs_page_loads_only_this_sites_static_files(client):
    response = client.get(reverse("api:docs"))

    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    # The site's policy, with data: images only (Swagger UI's icons): no inline script.
    assert policy["default-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert "script-src" not in policy and "style-src" not in policy
    assert (
        client.get(reverse("api:schema")).get("Content-Security-Policy")
        == (client.get(reverse("letters:home"))["Content-Security-Policy"])
    )
    assets = _Assets()
    assets.feed(response.content.decode())
    assert assets.inline == []
    assert len(assets.urls) == 5
    for url in assets.urls:
        assert url.startswith("/static/"), url
        served = client.get(url)  # WhiteNoise, from collectstatic's output
        assert served.status_code == 200, url
        body = b"".join(served.streaming_content)
        assert len(body) > 100, url
    assert any("swagger-ui-bundle" in url for url in assets.urls)
    assert 'data-schema-url="/api/v1/schema/"' in response.content.decode()

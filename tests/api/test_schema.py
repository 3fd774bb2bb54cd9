"""The OpenAPI schema generates without warnings; Swagger UI is served from our own static files."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_and_validates_with_warnings_as_failures(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/customers/",
        "/api/orders/bulk/",
        "/api/events/bulk/",
        "/api/invitations/",
        "/api/segment-snapshots/",
    ):
        assert f"{path}:" in text


def test_the_schema_is_served_to_authenticated_and_anonymous_clients(client, agent_api) -> None:
    for c in (client, agent_api):
        response = c.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        assert response.json()["info"]["title"] == "Rapport API"


def test_the_bulk_endpoints_document_their_batch_and_error_report(client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    bulk = schema["paths"]["/api/orders/bulk/"]["post"]
    assert set(bulk["responses"]) >= {"200", "201", "400", "401", "403", "429"}
    assert "unchanged" in bulk["description"]
    created = schema["paths"]["/api/invitations/"]["post"]["responses"]["201"]
    ref = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "link" in schema["components"]["schemas"][ref]["properties"]


def test_swagger_ui_loads_its_assets_from_our_static_files_only(client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    external = re.findall(r"""(?:src|href)=["']?(?:https?:)?//[^"'\s>]+""", html)
    assert external == []
    assert "cdn" not in html.lower()
    # The referenced files ship with drf-spectacular-sidecar and are collected with the other static files.
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"drf_spectacular_sidecar/swagger-ui-dist/{name}" in html
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}")


def test_unknown_api_addresses_answer_json_404(agent_api) -> None:
    response = agent_api.post("/api/customers/1.5/", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}

"""A favicon on every page and an API root listing the endpoints."""

import pytest

pytestmark = pytest.mark.django_db


def test_pages_link_a_favicon_and_favicon_ico_leads_to_it(agent_client):
    page = agent_client.get("/customers/").content.decode()
    assert 'rel="icon"' in page and "favicon" in page
    response = agent_client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".svg")


def test_the_api_root_lists_every_endpoint(agent_client):
    response = agent_client.get("/api/")
    assert response.status_code == 200
    data = response.json()
    for name in ("customers", "interactions", "orders", "surveys", "invitations", "customer-metrics"):
        assert data["endpoints"][name].endswith(f"/api/{name}/")
    assert data["schema"].endswith("/api/schema/")
    assert agent_client.get(data["endpoints"]["customers"]).status_code == 200


def test_the_api_root_needs_a_login(client):
    assert client.get("/api/").status_code in (401, 403)

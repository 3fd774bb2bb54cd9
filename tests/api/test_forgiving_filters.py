"""The API takes the forgiving filters of the list page, and `?search=` is `?q=` or a 400, never ignored."""

import pytest

from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def external_ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["external_id"] for row in response.json()["results"]}


def test_the_api_filters_countries_by_name_and_choices_in_any_case(agent_api):
    CustomerFactory(external_id="T-1", country="TH", plan="pro")
    CustomerFactory(external_id="M-1", country="MY", plan="pro")
    assert external_ids(agent_api.get("/api/customers/", {"country": "泰國"})) == {"T-1"}
    assert external_ids(agent_api.get("/api/customers/", {"country": "Malaysia", "plan": "Pro"})) == {"M-1"}


def test_an_unknown_country_is_a_400_naming_the_parameter(agent_api):
    response = agent_api.get("/api/customers/", {"country": "Narnia"})
    assert response.status_code == 400
    assert "Unknown country" in response.json()["country"][0]


def test_search_is_an_alias_of_q_on_customers(agent_api):
    CustomerFactory(external_id="S-1", name="Somchai Jaidee")
    CustomerFactory(external_id="A-1", name="Aisyah Rahman")
    assert external_ids(agent_api.get("/api/customers/", {"search": "somchai"})) == {"S-1"}
    assert external_ids(agent_api.get("/api/customers/", {"q": "somchai"})) == {"S-1"}


def test_search_on_an_endpoint_without_search_is_a_400(agent_api):
    InteractionFactory()
    response = agent_api.get("/api/interactions/", {"search": "refund"})
    assert response.status_code == 400
    assert "no search parameter" in response.json()["detail"]


def test_a_customer_written_with_a_country_name_is_stored_with_its_code(agent_api):
    response = agent_api.post("/api/customers/", {"external_id": "N-1", "name": "Nurul", "country": "Malaysia"})
    assert response.status_code == 201, response.content
    assert response.json()["country"] == "MY"
    response = agent_api.post("/api/customers/", {"external_id": "N-2", "name": "X", "country": "Narnia"})
    assert response.status_code == 400 and "country" in response.json()

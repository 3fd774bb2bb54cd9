from datetime import date

import pytest
from django.urls import reverse

from tests.customers.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db
URL = reverse("customers:list")


def names(response) -> list[str]:
    return [c.name for c in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("somchai", ["Somchai Jaidee"]),
        ("mei@shop.example", ["Mei Lin"]),
        ("0812345", ["Somchai Jaidee"]),
        ("tw-00042", ["Mei Lin"]),
    ],
)
def test_the_search_box_finds_customers_by_name_email_phone_and_external_id(agent_client, query, expected):
    CustomerFactory(name="Somchai Jaidee", phone="+66 081234567", external_id="TH-00001")
    CustomerFactory(name="Mei Lin", email="mei@shop.example", external_id="TW-00042")
    CustomerFactory(name="Ahmad Razak")
    response = agent_client.get(URL, {"q": query})
    assert response.status_code == 200
    assert names(response) == expected


def test_the_filters_narrow_the_list(agent_client):
    vip = TagFactory(name="vip")
    CustomerFactory(name="A", country="TH", plan="pro").tags.add(vip)
    CustomerFactory(name="B", country="TH", plan="free")
    CustomerFactory(name="C", country="MY", plan="pro")
    assert names(agent_client.get(URL, {"country": "th", "plan": "pro"})) == ["A"]
    assert names(agent_client.get(URL, {"tag": "vip"})) == ["A"]
    assert names(agent_client.get(URL, {"acquired_after": "2999-01-01"})) == []


def test_it_pages_25_customers_and_keeps_the_filters_in_the_page_links(agent_client):
    for i in range(30):
        CustomerFactory(name=f"Customer {i:02d}", country="TH")
    CustomerFactory(name="Elsewhere", country="MY")
    response = agent_client.get(URL, {"country": "TH"})
    page = response.context["page"]
    assert len(page.object_list) == 25
    assert page.paginator.count == 30
    content = response.content.decode()
    assert "?country=TH&amp;page=2" in content
    assert "<strong>30</strong> customers" in content
    second = agent_client.get(URL, {"country": "TH", "page": 2})
    assert len(second.context["page"].object_list) == 5


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Anna", "Bob", "Chai"]),
        ("-name", ["Chai", "Bob", "Anna"]),
        ("acquired", ["Bob", "Chai", "Anna"]),
        ("-acquired", ["Anna", "Chai", "Bob"]),
        ("country", ["Chai", "Anna", "Bob"]),
        ("nonsense", ["Anna", "Bob", "Chai"]),
    ],
)
def test_columns_sort_the_list(agent_client, sort, expected):
    CustomerFactory(name="Anna", acquired_at=date(2025, 3, 1), country="MY")
    CustomerFactory(name="Bob", acquired_at=date(2024, 1, 1), country="TH")
    CustomerFactory(name="Chai", acquired_at=date(2024, 6, 1), country="ID")
    assert names(agent_client.get(URL, {"sort": sort})) == expected


def test_the_sort_links_keep_the_filters(agent_client):
    CustomerFactory(country="TH")
    content = agent_client.get(URL, {"country": "TH", "sort": "name"}).content.decode()
    assert 'href="?country=TH&amp;sort=-name"' in content


def test_it_says_when_nothing_matches(agent_client):
    CustomerFactory(name="Somchai")
    content = agent_client.get(URL, {"q": "nobody-like-this"}).content.decode()
    assert "No customers match" in content
    assert agent_client.get(URL).status_code == 200


def test_an_empty_database_invites_to_add_or_import(agent_client):
    content = agent_client.get(URL).content.decode()
    assert "No customers yet" in content
    assert reverse("customers:import") in content


def test_the_list_shows_owner_and_stage(agent_client, agent):
    CustomerFactory(name="Owned", owner=agent, lifecycle_stage="at_risk")
    content = agent_client.get(URL).content.decode()
    assert "Aom" in content
    assert '<span class="badge warn">At risk</span>' in content


def test_agents_get_the_survey_link_with_the_filters_but_not_the_manager_links(agent_client):
    CustomerFactory(country="TH")
    content = agent_client.get(URL, {"country": "TH", "page": "1", "sort": "-name"}).content.decode()
    assert 'href="/surveys/send/?country=TH"' in content
    assert "/reports/segments/new/" not in content
    assert "/reports/customers.csv" not in content


def test_managers_can_save_the_filter_as_a_segment_and_export_it(manager_client):
    CustomerFactory(country="TH")
    content = manager_client.get(URL, {"country": "TH", "q": ""}).content.decode()
    assert 'href="/reports/segments/new/?country=TH"' in content
    assert 'href="/reports/customers.csv?country=TH"' in content


def test_an_invalid_filter_shows_nobody_and_says_why(agent_client):
    CustomerFactory()
    response = agent_client.get(URL, {"lifecycle_stage": "bogus"})
    assert names(response) == []
    assert "Some filters are not valid" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 60])
def test_the_list_query_count_does_not_grow_with_the_rows(agent_client, agent, django_assert_num_queries, rows):
    # session, user, groups (role), count, page of customers with owners, and the filter form's
    # choices of tags, owners and segments.
    for _ in range(rows):
        CustomerFactory(owner=agent).tags.add(TagFactory(name="vip"))
    with django_assert_num_queries(8):
        response = agent_client.get(URL, {"q": "example", "sort": "-acquired"})
    assert response.status_code == 200


def test_my_customers_lists_the_customers_the_agent_owns(agent_client, agent):
    CustomerFactory(name="Mine", owner=agent)
    CustomerFactory(name="Not mine")
    content = agent_client.get(URL).content.decode()
    assert f'href="/customers/?owner={agent.pk}"' in content
    assert names(agent_client.get(URL, {"owner": agent.pk})) == ["Mine"]

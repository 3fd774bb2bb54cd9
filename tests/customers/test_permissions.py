import pytest
from django.urls import reverse

from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages():
    customer = CustomerFactory()
    interaction = InteractionFactory(customer=customer)
    return {
        "get": [
            reverse("customers:list"),
            reverse("customers:create"),
            reverse("customers:import"),
            reverse("customers:detail", args=[customer.pk]),
            reverse("customers:edit", args=[customer.pk]),
            reverse("customers:interaction", args=[interaction.pk]),
            reverse("customers:interaction_edit", args=[interaction.pk]),
        ],
        "post": [
            reverse("customers:interaction_resolve", args=[interaction.pk]),
            reverse("customers:interaction_reopen", args=[interaction.pk]),
            reverse("customers:detail", args=[customer.pk]),
            reverse("customers:import"),
        ],
    }


def test_anonymous_users_are_sent_to_the_login_page(client, pages):
    for method in ("get", "post"):
        for url in pages[method]:
            response = getattr(client, method)(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login") + "?next="), url


def test_users_without_a_role_are_refused(outsider_client, pages):
    for method in ("get", "post"):
        for url in pages[method]:
            assert getattr(outsider_client, method)(url).status_code == 403, url


@pytest.mark.parametrize("role_client", ["agent_client", "manager_client", "admin_client_"])
def test_every_role_can_open_the_customer_pages(request, pages, role_client):
    client = request.getfixturevalue(role_client)
    for url in pages["get"]:
        assert client.get(url).status_code == 200, url


def test_an_inactive_user_is_refused(make_user, pages):
    from django.test import Client

    from customers.roles import Role

    user = make_user("gone", Role.AGENT, is_active=False)
    client = Client()
    client.force_login(user)
    assert client.get(pages["get"][0]).status_code in (302, 403)

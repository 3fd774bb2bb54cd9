import pytest
from django.urls import reverse

from customers.models import Customer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    data = {
        "external_id": "CRM-1",
        "name": "Nurul Aisyah",
        "first_name": "Nurul",
        "email": "nurul@example.my",
        "phone": "+60 12 345 6789",
        "company": "",
        "country": "my",
        "city": "Kuala Lumpur",
        "language": "ms",
        "lifecycle_stage": "active",
        "plan": "basic",
        "acquired_at": "2025-02-01",
        "churned_at": "",
        "owner": "",
        "tags_text": "VIP, reseller",
    }
    data.update(overrides)
    return data


def test_an_agent_creates_a_customer(agent_client, agent):
    response = agent_client.post(reverse("customers:create"), form_data(), follow=True)
    customer = Customer.objects.get(external_id="CRM-1")
    assert customer.country == "MY"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["reseller", "vip"]
    assert customer.history.get().history_user == agent
    assert "Customer “Nurul Aisyah” created." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[customer.pk])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "nurul@"}, "email", "Enter a valid email address."),
        ({"country": "Narnia"}, "country", "Unknown country “Narnia”: give a 2-letter code"),
        ({"country": "M1"}, "country", "Unknown country “M1”"),
        ({"churned_at": "2025-01-01"}, "churned_at", "cannot be before the acquisition date"),
        ({"name": ""}, "name", "This field is required."),
        ({"language": "fr"}, "language", "Select a valid choice."),
    ],
)
def test_the_customer_form_explains_invalid_values(agent_client, overrides, field, message):
    response = agent_client.post(reverse("customers:create"), form_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Customer.objects.exists()


def test_the_external_id_must_be_unique(agent_client):
    CustomerFactory(external_id="CRM-1")
    response = agent_client.post(reverse("customers:create"), form_data())
    assert "Customer with this External id already exists." in response.context["form"].errors["external_id"]


def test_editing_a_customer_keeps_its_own_external_id_and_records_the_change(agent_client, agent):
    customer = CustomerFactory(external_id="CRM-1", name="Old")
    customer.tags.add(*[])
    url = reverse("customers:edit", args=[customer.pk])
    assert 'value="CRM-1"' in agent_client.get(url).content.decode()
    response = agent_client.post(url, form_data(name="New name", tags_text="gold"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New name"
    assert list(customer.tags.values_list("name", flat=True)) == ["gold"]
    latest = customer.history.first()
    assert latest.history_user == agent and latest.name == "New name"


def test_the_new_customer_page_renders(agent_client):
    content = agent_client.get(reverse("customers:create")).content.decode()
    assert "New customer" in content and 'name="external_id"' in content

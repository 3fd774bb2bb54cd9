import pytest
from django.urls import reverse

from customers import services
from tests.customers.factories import (
    CustomerFactory,
    EngagementEventFactory,
    InteractionFactory,
    InteractionReplyFactory,
    OrderFactory,
    ReferralFactory,
    SegmentFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ["customer", "interaction", "interactionreply", "order", "engagementevent", "referral", "segment", "tag"]


@pytest.fixture
def data():
    customer = CustomerFactory(name="Somchai Jaidee")
    customer.tags.add(TagFactory(name="vip"))
    interaction = InteractionFactory(customer=customer, subject="Login trouble")
    InteractionReplyFactory(interaction=interaction)
    return {
        "customer": customer,
        "interaction": interaction,
        "interactionreply": interaction.replies.get(),
        "order": OrderFactory(customer=customer),
        "engagementevent": EngagementEventFactory(customer=customer),
        "referral": ReferralFactory(referrer=customer),
        "segment": SegmentFactory(),
        "tag": customer.tags.get(),
    }


@pytest.mark.parametrize("model", MODELS)
def test_every_customers_model_has_a_working_changelist_search_and_change_page(admin_client_, data, model):
    changelist = reverse(f"admin:customers_{model}_changelist")
    assert admin_client_.get(changelist).status_code == 200
    assert admin_client_.get(changelist, {"q": "somchai"}).status_code == 200
    change = reverse(f"admin:customers_{model}_change", args=[data[model].pk])
    assert admin_client_.get(change).status_code == 200


def test_the_customer_admin_shows_interactions_and_orders_inline_and_the_history(admin_client_, data):
    customer = data["customer"]
    content = admin_client_.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "Login trouble" in content
    assert "Interactions (latest 20" in content and "Orders (latest 20)" in content
    services.customer_update(customer=customer, name="Renamed")
    history = admin_client_.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert history.status_code == 200 and "Renamed" in history.content.decode()


def test_the_customer_inline_lists_only_the_latest_interactions(admin_client_):
    customer = CustomerFactory()
    for _ in range(25):
        InteractionFactory(customer=customer)
    response = admin_client_.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.context["inline_admin_formsets"][0].formset.total_form_count() == 20


def test_the_customer_changelist_query_count_does_not_grow_with_the_rows(admin_client_, django_assert_max_num_queries):
    for _ in range(60):
        CustomerFactory()
    with django_assert_max_num_queries(10):
        assert admin_client_.get(reverse("admin:customers_customer_changelist")).status_code == 200


def test_agents_and_managers_cannot_use_the_admin(agent_client, manager_client):
    for client in (agent_client, manager_client):
        response = client.get(reverse("admin:customers_customer_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_searching_orders_by_a_customers_external_id_lists_that_customers_orders(admin_client_):
    mine = OrderFactory(customer=CustomerFactory(external_id="C-42"))
    OrderFactory()
    response = admin_client_.get(reverse("admin:customers_order_changelist"), {"q": "C-42"})
    assert list(response.context["cl"].result_list) == [mine]

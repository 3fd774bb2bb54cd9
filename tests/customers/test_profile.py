from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import EngagementEvent, Interaction
from customers.timeline import customer_timeline_page
from surveys.models import FollowUp
from tests.customers.factories import (
    CustomerFactory,
    EngagementEventFactory,
    InteractionFactory,
    InteractionReplyFactory,
    OrderFactory,
    TagFactory,
)
from tests.surveys.factories import FollowUpFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def ago(**kwargs) -> timezone.datetime:
    return timezone.now() - timedelta(**kwargs)


def a_customer_with_one_of_everything(days: int = 0):
    """Five kinds of timeline items, newest first: event, follow-up, answer, order, interaction."""
    customer = CustomerFactory(name="Somchai Jaidee", company="Siam Widgets")
    interaction = InteractionFactory(customer=customer, subject="Cannot log in", opened_at=ago(days=days + 5))
    InteractionReplyFactory(interaction=interaction, body="Reset link sent")
    OrderFactory(customer=customer, ordered_at=ago(days=days + 4))
    response = ResponseFactory(invitation__customer=customer, score=3, comment="Slow", submitted_at=ago(days=days + 3))
    FollowUpFactory(
        response=response,
        status=FollowUp.Status.CLOSED,
        note="Called back, gave a discount",
        closed_at=ago(days=days + 2),
    )
    EngagementEventFactory(customer=customer, kind="session", duration_seconds=60, occurred_at=ago(days=days + 1))
    return customer


def test_the_timeline_merges_every_source_newest_first():
    customer = a_customer_with_one_of_everything()
    # Still open: its answer is on the timeline, the follow-up itself is not (yet).
    FollowUpFactory(response__invitation__customer=customer, response__submitted_at=ago(days=30))
    page = customer_timeline_page(customer, 1)
    assert [item.kind for item in page] == ["event", "follow_up", "response", "order", "interaction", "response"]
    assert [item.at for item in page] == sorted((item.at for item in page), reverse=True)


def test_the_timeline_pages_through_thousands_of_events_without_loading_them(django_assert_max_num_queries):
    customer = CustomerFactory()
    start = ago(days=3000)
    EngagementEvent.objects.bulk_create(
        EngagementEvent(customer=customer, kind="page_view", occurred_at=start + timedelta(hours=i))
        for i in range(3000)
    )
    InteractionFactory(customer=customer, subject="Between events", opened_at=start + timedelta(hours=1500, minutes=30))
    with django_assert_max_num_queries(4):
        page = customer_timeline_page(customer, 3, per_page=30)
        items = list(page)
    assert page.paginator.count == 3001
    assert len(items) == 30
    assert items[0].at == start + timedelta(hours=2999 - 60)
    # The interaction sits between the events of its hour, wherever its page is.
    middle = customer_timeline_page(customer, 50, per_page=30)
    assert "Between events" in [getattr(i.obj, "subject", "") for i in middle]


def test_an_out_of_range_page_shows_the_last_page():
    customer = a_customer_with_one_of_everything()
    assert customer_timeline_page(customer, 99, per_page=2).number == 3


def test_the_profile_shows_the_header_timeline_panels_and_history(agent_client, agent):
    customer = a_customer_with_one_of_everything()
    customer.tags.add(TagFactory(name="vip"))
    services.customer_update(customer=customer, actor=agent, city="Chiang Mai", owner=agent)
    content = agent_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for text in [
        "Somchai Jaidee",
        "Siam Widgets",
        "vip",
        "Chiang Mai",
        "Cannot log in",
        "Reset link sent",
        "Order 100.00 USD",
        "answer: 3",
        "Called back, gave a discount",
        "Session",
        'class="card metrics-card"',
        'class="card surveys-panel"',
        "Change history",
    ]:
        assert text in content, text
    # The audit trail says who changed what.
    assert "City: <del>Bangkok</del> → <ins>Chiang Mai</ins>" in content
    assert "Owner: <del>—</del> → <ins>Aom</ins>" in content


def test_the_profile_of_a_missing_customer_is_404(agent_client):
    assert agent_client.get(reverse("customers:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("extra_days", [0, 1])
def test_the_profile_query_count_does_not_grow_with_the_timeline(agent_client, django_assert_num_queries, extra_days):
    customer = a_customer_with_one_of_everything()
    # Changes to the customer and an interaction, so the audit trail has diffs to compute.
    services.customer_update(customer=customer, city="Phuket")
    services.interaction_resolve(interaction=customer.interactions.get())
    if extra_days:
        # Many more items of every kind, replies and history records: the same number of queries.
        for day in range(40):
            interaction = InteractionFactory(customer=customer, opened_at=ago(days=day, hours=1))
            InteractionReplyFactory(interaction=interaction)
            InteractionReplyFactory(interaction=interaction, body="Second")
            services.interaction_resolve(interaction=interaction)
            OrderFactory(customer=customer, ordered_at=ago(days=day, hours=2))
            EngagementEventFactory(customer=customer, occurred_at=ago(days=day, hours=3))
            ResponseFactory(invitation__customer=customer, submitted_at=ago(days=day, hours=4))
    # session, user, groups; customer with metrics and owner; tags; timeline count and keys; one
    # query per source on the page (5) + replies and their authors; audit trail (2 x 2); the surveys
    # panel (active surveys, recent invitations with their answers).
    with django_assert_num_queries(19):
        response = agent_client.get(reverse("customers:detail", args=[customer.pk]), {"page": 1})
    assert response.status_code == 200


def test_the_quick_form_logs_an_interaction_and_shows_it_on_the_timeline(agent_client, agent):
    customer = CustomerFactory()
    response = agent_client.post(
        reverse("customers:detail", args=[customer.pk]),
        {"subject": "Asked about the invoice", "channel": "phone", "kind": "billing", "direction": "inbound"},
        follow=True,
    )
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.staff == agent and interaction.kind == "billing"
    content = response.content.decode()
    assert "Interaction “Asked about the invoice” logged." in content
    assert "Asked about the invoice" in content.split('id="timeline-heading"')[1]


def test_the_quick_form_explains_what_is_missing(agent_client):
    customer = CustomerFactory()
    response = agent_client.post(
        reverse("customers:detail", args=[customer.pk]), {"subject": "  ", "channel": "carrier-pigeon"}
    )
    assert response.status_code == 200
    assert not Interaction.objects.exists()
    errors = response.context["quick_form"].errors
    assert "subject" in errors and "channel" in errors


def test_the_quick_form_has_the_subject_focused(agent_client):
    content = agent_client.get(reverse("customers:detail", args=[CustomerFactory().pk])).content.decode()
    assert 'name="subject"' in content and "autofocus" in content.split('name="subject"')[1].split(">")[0]

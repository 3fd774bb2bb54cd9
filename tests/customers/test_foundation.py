from datetime import date

import pytest
from django.db import models
from django.urls import reverse

from customers.demo_data import generate
from customers.models import Customer, Interaction, Segment
from surveys.models import Response

pytestmark = pytest.mark.django_db


def test_roles_and_the_builtin_segment_exist_after_migrating():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"Agent", "Manager", "Admin"}
    assert Segment.objects.get(slug="all-customers").is_builtin


def test_the_customer_list_asks_anonymous_users_to_log_in(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_user_without_a_role_is_refused_the_customer_list(outsider_client):
    assert outsider_client.get(reverse("customers:list")).status_code == 403


def test_the_demo_generator_writes_consistent_history():
    result = generate(customers=50, seed=3, today=date(2026, 6, 30))
    assert Customer.objects.count() == 50 == result.customers
    assert Interaction.objects.count() == result.interactions > 0
    assert Response.objects.count() == result.responses > 0
    # Nothing happens to a customer before they were acquired.
    for interaction in Interaction.objects.select_related("customer")[:200]:
        assert interaction.opened_at.date() >= interaction.customer.acquired_at
    # Ids continue after the bulk load (sequences were moved past the explicit ids).
    created = Customer.objects.create(external_id="X-1", name="New")
    assert created.pk > max(Customer.objects.exclude(pk=created.pk).values_list("pk", flat=True))


def test_demo_history_is_plausible():
    from django.utils import timezone

    from customers.models import EngagementEvent

    generate(customers=300, seed=5)
    now = timezone.now()
    assert not Interaction.objects.filter(opened_at__gt=now).exists()
    assert not Interaction.objects.filter(resolved_at__gt=now).exists()
    assert not EngagementEvent.objects.filter(occurred_at__gt=now).exists()
    # Opens and clicks follow sends: no customer opened more emails than were sent to them.
    sent = dict(
        EngagementEvent.objects.filter(kind="email_sent").values_list("customer").annotate(n=models.Count("id"))
    )
    opened = EngagementEvent.objects.filter(kind="email_opened").values("customer").annotate(n=models.Count("id"))
    assert opened and all(row["n"] <= sent.get(row["customer"], 0) for row in opened)
    # Detractors do not praise.
    detractor_comments = Response.objects.filter(kind="nps", score__lte=6).exclude(comment="")
    assert not detractor_comments.filter(comment="Great service, thank you!").exists()
    assert not Response.objects.filter(kind="nps", score__gte=9, comment="Too slow to answer").exists()

"""PDPA rights: a manager exports everything held about a customer, or erases the personal data while the
anonymous figures stay true. Both audited, both with a confirmation, both in the API."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Customer, PrivacyAction, Segment
from metrics.models import CustomerMetrics, SegmentSnapshot
from metrics.services import customers_recompute
from metrics.snapshots import build_segment
from tests.api.conftest import token_client
from tests.customers.factories import (
    EngagementEventFactory,
    InteractionFactory,
    InteractionReplyFactory,
    OrderFactory,
    ReferralFactory,
)
from tests.surveys.factories import FollowUpFactory, ResponseFactory

pytestmark = pytest.mark.django_db

PERSONAL = [
    "Somchai Jaidee",
    "Somchai",
    "somchai@example.com",
    "+66811111111",
    "Siam Widgets",
    "Chiang Mai",
    "C-PRIVATE-7",
    "my order never came",
    "called about the refund",
    "the parcel was opened",
    "please call my wife",
    "Somsri Friend",
    "somsri@example.com",
    "Nobody else",
]


@pytest.fixture
def somchai(agent):
    customer = services.customer_create(
        actor=agent,
        external_id="C-PRIVATE-7",
        name="Nobody else",
        first_name="Somchai",
        email="somchai@example.com",
        phone="+66811111111",
        company="Siam Widgets",
        country="TH",
        city="Chiang Mai",
        acquired_at=date(2025, 1, 10),
        tags=["vip"],
    )
    services.customer_update(customer=customer, actor=agent, name="Somchai Jaidee")  # a second history row
    interaction = InteractionFactory(customer=customer, subject="my order never came", notes="called about the refund")
    services.interaction_update(interaction=interaction, actor=agent, notes="called about the refund again")
    InteractionReplyFactory(interaction=interaction, body="the parcel was opened")
    OrderFactory(customer=customer, amount=Decimal("120.00"), ordered_at=timezone.now() - timedelta(days=5))
    EngagementEventFactory(customer=customer)
    ReferralFactory(referrer=customer, referred_name="Somsri Friend", referred_email="somsri@example.com")
    answer = ResponseFactory(invitation__customer=customer, score=3, comment="the parcel was opened")
    FollowUpFactory(response=answer, note="please call my wife")
    customers_recompute(customer_ids=[customer.pk])
    return Customer.objects.get(pk=customer.pk)


def every_text_value() -> list[str]:
    """Every text held in the database by the project's apps, history tables included."""
    values: list[str] = []
    for model in apps.get_models():
        if model._meta.app_label not in ("customers", "surveys", "metrics"):
            continue
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        if names:
            values += [str(v) for row in model.objects.values_list(*names) for v in row if v]
    return values


def figures() -> dict:
    build_segment(Segment.objects.get(slug="all-customers"), months=3)
    snapshot = list(
        SegmentSnapshot.objects.order_by("period", "period_start").values_list(
            "period", "period_start", "member_count", "customers_end", "orders", "revenue", "detractors",
            "interactions", "sessions", "referrals",
        )
    )  # fmt: skip
    metrics = list(CustomerMetrics.objects.values_list("orders", "revenue", "interactions_total", "health_score"))
    return {"snapshots": snapshot, "metrics": metrics}


def test_the_export_holds_every_kind_of_data(manager_client, manager, somchai):
    page = reverse("customers:privacy", args=[somchai.pk])
    assert manager_client.get(page).status_code == 200
    response = manager_client.post(page, {"action": "export", "confirm": "yes"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{somchai.pk}.json"'
    data = json.loads(response.content)
    assert data["profile"]["email"] == "somchai@example.com" and data["tags"] == ["vip"]
    for kind in ("interactions", "replies", "orders", "events", "referrals_made", "invitations", "answers",
                 "follow_ups", "metrics"):  # fmt: skip
        assert len(data[kind]) == 1, kind
    assert data["answers"][0]["comment"] == "the parcel was opened"
    assert "token_hash" not in data["invitations"][0]
    assert [row["name"] for row in data["history"]["customer"]] == ["Nobody else", "Somchai Jaidee"]
    assert len(data["history"]["interactions"]) >= 2
    audit = PrivacyAction.objects.get()
    assert (audit.kind, audit.performed_by, audit.customer_ref, audit.channel) == (
        "export",
        manager,
        somchai.pk,
        "page",
    )


def test_the_export_needs_the_confirmation_box(manager_client, somchai):
    response = manager_client.post(reverse("customers:privacy", args=[somchai.pk]), {"action": "export"})
    assert response.status_code == 302
    assert not PrivacyAction.objects.exists()


def test_erasure_removes_every_personal_value_everywhere_and_keeps_the_figures(manager_client, manager, somchai):
    values = every_text_value()
    assert all(any(p in v for v in values) for p in PERSONAL)  # the check below can fail
    before = figures()
    page = reverse("customers:privacy", args=[somchai.pk])

    response = manager_client.post(page, {"action": "erase", "confirm": "C-PRIVATE-7"})

    assert response.status_code == 302
    values = every_text_value()
    leaks = [(p, v) for p in PERSONAL for v in values if p in v]
    assert leaks == []
    customers_recompute(customer_ids=[somchai.pk])
    assert figures() == before
    somchai.refresh_from_db()
    assert (somchai.name, somchai.external_id, somchai.country, somchai.consent_email) == (
        "Erased customer", f"erased-{somchai.pk}", "TH", False,
    )  # fmt: skip
    assert list(somchai.tags.values_list("name", flat=True)) == ["vip"]
    audit = PrivacyAction.objects.get()
    assert (audit.kind, audit.performed_by) == ("erase", manager)
    assert "Erased personal data" in manager_client.get(page).content.decode()


def test_erasure_needs_the_external_id_typed_and_loses_nothing_otherwise(manager_client, somchai):
    response = manager_client.post(
        reverse("customers:privacy", args=[somchai.pk]), {"action": "erase", "confirm": "yes please"}
    )
    assert response.status_code == 400
    assert "Type C-PRIVATE-7 exactly" in response.content.decode()
    somchai.refresh_from_db()
    assert somchai.email == "somchai@example.com"
    assert not PrivacyAction.objects.exists()


def test_agents_cannot_export_or_erase(agent_client, agent, somchai):
    page = reverse("customers:privacy", args=[somchai.pk])
    assert agent_client.get(page).status_code == 403
    assert agent_client.post(page, {"action": "erase", "confirm": "C-PRIVATE-7"}).status_code == 403
    api = token_client(agent)
    assert api.get(f"/api/customers/{somchai.pk}/export/").status_code == 403
    assert api.post(f"/api/customers/{somchai.pk}/erase/", {"confirm": "C-PRIVATE-7"}, format="json").status_code == 403
    somchai.refresh_from_db()
    assert somchai.email == "somchai@example.com"


def test_the_api_exports_and_erases_for_managers(manager, somchai):
    api = token_client(manager)
    export = api.get(f"/api/customers/{somchai.pk}/export/")
    assert export.status_code == 200
    assert export.json()["profile"]["phone"] == "+66811111111" and len(export.json()["orders"]) == 1

    wrong = api.post(f"/api/customers/{somchai.pk}/erase/", {"confirm": "C-OTHER"}, format="json")
    assert wrong.status_code == 400 and "confirm" in wrong.json()
    assert api.post(f"/api/customers/{somchai.pk}/erase/", {}, format="json").status_code == 400

    erased = api.post(f"/api/customers/{somchai.pk}/erase/", {"confirm": "C-PRIVATE-7"}, format="json")
    assert erased.status_code == 200 and erased.json()["erased"] is True
    assert [p for p in PERSONAL for v in every_text_value() if p in v] == []
    assert list(PrivacyAction.objects.order_by("id").values_list("kind", "channel")) == [
        ("export", "api"),
        ("erase", "api"),
    ]

"""The profile's metrics card and the admin's recompute button."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from metrics.models import RecomputeRun
from metrics.services import customers_recompute
from tests.customers.factories import CustomerFactory, InteractionFactory, OrderFactory
from tests.metrics.factories import answer

pytestmark = pytest.mark.django_db


def _card(customer: Customer) -> str:
    customer = Customer.objects.select_related("metrics").get(pk=customer.pk)
    return render_to_string("metrics/customer_metrics_card.html", {"customer": customer})


def test_the_card_says_when_metrics_are_not_computed_yet():
    html = _card(CustomerFactory())
    assert "not computed yet" in html


def test_the_card_shows_every_figure_with_its_unit_and_age():
    now = timezone.now()
    customer = CustomerFactory()
    OrderFactory(customer=customer, amount=Decimal("80.00"))
    OrderFactory(customer=customer, amount=Decimal("40.00"))
    opened = now - timedelta(days=3)
    InteractionFactory(customer=customer, opened_at=opened, first_response_at=opened + timedelta(minutes=90))
    answer(customer, "nps", 4, now - timedelta(days=1))
    customers_recompute(customer_ids=[customer.id])

    html = _card(customer)

    assert "ago" in html and "not computed yet" not in html
    assert "detractor" in html
    assert "60.00 USD" in html  # average order value, in the base currency
    assert "120.00 USD" in html  # revenue
    assert re.search(r"\(last \d{4}-\d{2}-\d{2}\)", html)  # the last order's date, as every page shows dates
    assert "1 h 30 min" in html  # average first response
    assert "Health score" in html and "/100" in html
    assert "Latest NPS answer was a detractor" in html


def test_the_card_rounds_halves_up_like_the_reports():
    customer = CustomerFactory()
    for score in (5, 5, 5, 5, 5, 3, 3, 3):  # 5 of 8 satisfied = 62.5 %, mean 4.25
        answer(customer, "csat", score, timezone.now() - timedelta(days=1))
    customers_recompute(customer_ids=[customer.id])

    html = _card(customer)

    assert "63 % satisfied, mean 4.3 / 5" in html


def test_an_admin_starts_a_recompute_from_the_run_list(admin_client_, django_capture_on_commit_callbacks):
    CustomerFactory.create_batch(2)
    changelist = reverse("admin:metrics_recomputerun_changelist")
    assert "Start a full recompute" in admin_client_.get(changelist).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("admin:metrics_recomputerun_start"))

    assert response.status_code == 302
    run = RecomputeRun.objects.get()
    assert run.status == "done" and run.started_by.username == "boss"
    detail = admin_client_.get(reverse("admin:metrics_recomputerun_change", args=[run.pk]))
    assert detail.status_code == 200


def test_staff_without_the_permission_cannot_start_a_recompute(client, make_user):
    user = make_user("staff-only", is_staff=True)
    client.force_login(user)
    client.post(reverse("admin:metrics_recomputerun_start"))
    assert not RecomputeRun.objects.exists()


def test_the_card_does_not_extrapolate_orders_a_year_from_a_new_customers_first_weeks():
    today = timezone.localdate()
    new = CustomerFactory(acquired_at=today - timedelta(days=1))
    settled = CustomerFactory(acquired_at=today - timedelta(days=730))
    for customer in (new, settled):
        for _ in range(6):
            OrderFactory(customer=customer, ordered_at=timezone.now() - timedelta(hours=1))
    customers_recompute(customer_ids=[new.id, settled.id])

    assert "under 90 days as a customer" in _card(new)
    assert " orders a year</dd>" not in _card(new)
    # 6 orders over two years: 3.0 a year.
    assert "3.0 orders a year" in _card(settled)

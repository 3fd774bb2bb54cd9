"""Every list endpoint runs a fixed number of queries, however many rows the page holds."""

from collections.abc import Callable
from datetime import date

import pytest
from django.utils import timezone

from metrics.models import CustomerMetrics, SegmentSnapshot
from tests.customers.factories import (
    CustomerFactory,
    EngagementEventFactory,
    InteractionFactory,
    OrderFactory,
    SegmentFactory,
    TagFactory,
)
from tests.surveys.factories import FollowUpFactory, InvitationFactory, SurveyFactory, SurveyTextFactory

pytestmark = pytest.mark.django_db


def customers(n: int) -> None:
    for _ in range(n):
        CustomerFactory().tags.set([TagFactory(), TagFactory()])


def interactions(n: int) -> None:
    InteractionFactory.create_batch(n)


def orders(n: int) -> None:
    OrderFactory.create_batch(n, referred_by=CustomerFactory())


def events(n: int) -> None:
    EngagementEventFactory.create_batch(n)


def surveys(n: int) -> None:
    for _ in range(n):
        survey = SurveyFactory()
        SurveyTextFactory(survey=survey, language="en")
        SurveyTextFactory(survey=survey, language="th")


def invitations(n: int) -> None:
    InvitationFactory.create_batch(n)


def follow_ups(n: int) -> None:
    FollowUpFactory.create_batch(n)


def segments(n: int) -> None:
    SegmentFactory.create_batch(n)


def customer_metrics(n: int) -> None:
    for customer in CustomerFactory.create_batch(n):
        CustomerMetrics.objects.create(customer=customer, computed_at=timezone.now())


def snapshots(n: int) -> None:
    segment = SegmentFactory()
    for month in range(1, n + 1):
        SegmentSnapshot.objects.create(
            segment=segment,
            period_start=date(2025, month, 1),
            period_end=date(2025, month, 2),
            computed_at=timezone.now(),
        )


def notifications(n: int) -> None:
    from django.contrib.auth.models import User

    from support.models import Notification

    manager = User.objects.get(username="manager")
    for interaction in InteractionFactory.create_batch(n):
        Notification.objects.create(recipient=manager, kind="assigned", message="Assigned", target=interaction)


# Token and user (1), the user's groups for the role (1), COUNT(*) (1), the page (1), then prefetches.
# Events page with a cursor: no COUNT(*).
LIST_ENDPOINTS = [
    pytest.param("/api/customers/", customers, 5, id="customers (+tags)"),
    pytest.param("/api/interactions/", interactions, 4, id="interactions"),
    pytest.param("/api/orders/", orders, 4, id="orders"),
    pytest.param("/api/events/", events, 3, id="events"),
    pytest.param("/api/surveys/", surveys, 5, id="surveys (+texts)"),
    pytest.param("/api/invitations/", invitations, 4, id="invitations"),
    pytest.param("/api/responses/", follow_ups, 4, id="responses"),
    pytest.param("/api/follow-ups/", follow_ups, 4, id="follow-ups"),
    pytest.param("/api/segments/", segments, 4, id="segments"),
    pytest.param("/api/customer-metrics/", customer_metrics, 4, id="customer metrics"),
    pytest.param("/api/segment-snapshots/", snapshots, 4, id="segment snapshots"),
    pytest.param("/api/notifications/", notifications, 4, id="notifications"),
]


@pytest.mark.parametrize(("url", "make_rows", "queries"), LIST_ENDPOINTS)
def test_a_list_endpoint_runs_the_same_queries_for_3_or_9_rows(
    manager_api: object, django_assert_num_queries: Callable, url: str, make_rows: Callable[[int], None], queries: int
) -> None:
    make_rows(3)
    with django_assert_num_queries(queries):
        response = manager_api.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 3

    make_rows(6)
    with django_assert_num_queries(queries):
        response = manager_api.get(url)
    assert len(response.json()["results"]) >= 9

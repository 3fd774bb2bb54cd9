"""Who may do what through the API, per role and endpoint.

Agents read and write customers, interactions, orders, events, invitations and follow-ups, and read
surveys, responses, segments and customer metrics. Managers also write segments and read segment
snapshots. Admins may do everything, including deleting. Users without a role get 403, anonymous 401.
"""

from collections.abc import Callable
from itertools import count
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from tests.api.conftest import token_client
from tests.customers.factories import (
    CustomerFactory,
    EngagementEventFactory,
    InteractionFactory,
    OrderFactory,
    SegmentFactory,
)
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db

RANK = {"outsider": 0, "agent": 1, "manager": 2, "admin": 3}
NOW = timezone.now().isoformat()
_serial = count(1)


def uid(prefix: str) -> str:
    """A fresh value per request: every role's attempt stands alone."""
    return f"{prefix}{next(_serial)}"


Url = Callable[[SimpleNamespace], str]
Body = Callable[[SimpleNamespace], Any] | None


def op(name: str, method: str, url: Url, body: Body, role: str, status: int) -> Any:
    return pytest.param(method, url, body, role, status, id=name)


OPERATIONS = [
    # Customers
    op("list customers", "get", lambda w: "/api/customers/", None, "agent", 200),
    op("read customer", "get", lambda w: f"/api/customers/{w.customer.pk}/", None, "agent", 200),
    op(
        "create customer",
        "post",
        lambda w: "/api/customers/",
        lambda w: {"external_id": uid("N-"), "name": "Nok"},
        "agent",
        201,
    ),
    op(
        "update customer",
        "patch",
        lambda w: f"/api/customers/{w.customer.pk}/",
        lambda w: {"city": "Phuket"},
        "agent",
        200,
    ),
    op("delete customer", "delete", lambda w: f"/api/customers/{CustomerFactory().pk}/", None, "admin", 204),
    # Interactions
    op("list interactions", "get", lambda w: "/api/interactions/", None, "agent", 200),
    op(
        "create interaction",
        "post",
        lambda w: "/api/interactions/",
        lambda w: {"customer": w.customer.pk, "channel": "phone", "subject": "Refund"},
        "agent",
        201,
    ),
    op(
        "update interaction",
        "patch",
        lambda w: f"/api/interactions/{w.interaction.pk}/",
        lambda w: {"status": "waiting"},
        "agent",
        200,
    ),
    op("delete interaction", "delete", lambda w: f"/api/interactions/{InteractionFactory().pk}/", None, "admin", 204),
    # Orders
    op("list orders", "get", lambda w: "/api/orders/", None, "agent", 200),
    op(
        "create order",
        "post",
        lambda w: "/api/orders/",
        lambda w: {
            "customer": w.customer.pk,
            "external_id": uid("O-"),
            "amount": "12.50",
            "currency": "THB",
            "ordered_at": NOW,
        },
        "agent",
        201,
    ),
    op("update order", "patch", lambda w: f"/api/orders/{w.order.pk}/", lambda w: {"amount": "30.00"}, "agent", 200),
    op("delete order", "delete", lambda w: f"/api/orders/{OrderFactory().pk}/", None, "admin", 204),
    op(
        "bulk orders",
        "post",
        lambda w: "/api/orders/bulk/",
        lambda w: [{"external_id": uid("B-"), "customer_external_id": "C-1", "amount": "5.00", "ordered_at": NOW}],
        "agent",
        201,
    ),
    # Engagement events
    op("list events", "get", lambda w: "/api/events/", None, "agent", 200),
    op(
        "create event",
        "post",
        lambda w: "/api/events/",
        lambda w: {
            "customer": w.customer.pk,
            "kind": "session",
            "duration_seconds": 60,
            "pages": 3,
            "occurred_at": NOW,
        },
        "agent",
        201,
    ),
    op("update event", "patch", lambda w: f"/api/events/{w.event.pk}/", lambda w: {"campaign": "launch"}, "agent", 200),
    op("delete event", "delete", lambda w: f"/api/events/{EngagementEventFactory().pk}/", None, "admin", 204),
    op(
        "bulk events",
        "post",
        lambda w: "/api/events/bulk/",
        lambda w: {
            "items": [
                {"external_id": uid("EV-"), "customer_external_id": "C-1", "kind": "email_opened", "occurred_at": NOW}
            ]
        },
        "agent",
        201,
    ),
    # Surveys
    op("list surveys", "get", lambda w: "/api/surveys/", None, "agent", 200),
    op("read survey", "get", lambda w: f"/api/surveys/{w.survey.pk}/", None, "agent", 200),
    op(
        "create survey",
        "post",
        lambda w: "/api/surveys/",
        lambda w: {"slug": uid("ces-"), "name": uid("CES "), "kind": "ces"},
        "admin",
        201,
    ),
    op(
        "update survey", "patch", lambda w: f"/api/surveys/{w.survey.pk}/", lambda w: {"is_active": False}, "admin", 200
    ),
    op("delete survey", "delete", lambda w: f"/api/surveys/{SurveyFactory().pk}/", None, "admin", 204),
    # Invitations
    op("list invitations", "get", lambda w: "/api/invitations/", None, "agent", 200),
    op("read invitation", "get", lambda w: f"/api/invitations/{w.invitation.pk}/", None, "agent", 200),
    op(
        "create invitation",
        "post",
        lambda w: "/api/invitations/",
        lambda w: {"survey": w.survey.pk, "customer": w.customer.pk},
        "agent",
        201,
    ),
    # Responses
    op("list responses", "get", lambda w: "/api/responses/", None, "agent", 200),
    op("read response", "get", lambda w: f"/api/responses/{w.response.pk}/", None, "agent", 200),
    # Follow-ups
    op("list follow-ups", "get", lambda w: "/api/follow-ups/", None, "agent", 200),
    op(
        "update follow-up",
        "patch",
        lambda w: f"/api/follow-ups/{w.follow_up.pk}/",
        lambda w: {"note": "Called back"},
        "agent",
        200,
    ),
    # Segments
    op("list segments", "get", lambda w: "/api/segments/", None, "agent", 200),
    op(
        "create segment",
        "post",
        lambda w: "/api/segments/",
        lambda w: {"name": uid("Pro plan "), "slug": uid("pro-plan-"), "filter_params": {"plan": "pro"}},
        "manager",
        201,
    ),
    op(
        "update segment",
        "patch",
        lambda w: f"/api/segments/{w.segment.pk}/",
        lambda w: {"description": "x"},
        "manager",
        200,
    ),
    op("delete segment", "delete", lambda w: f"/api/segments/{SegmentFactory().pk}/", None, "manager", 204),
    # Metrics
    op("list customer metrics", "get", lambda w: "/api/customer-metrics/", None, "agent", 200),
    op("read customer metrics", "get", lambda w: f"/api/customer-metrics/{w.customer.pk}/", None, "agent", 200),
    op("list segment snapshots", "get", lambda w: "/api/segment-snapshots/", None, "manager", 200),
    op("read segment snapshot", "get", lambda w: f"/api/segment-snapshots/{w.snapshot.pk}/", None, "manager", 200),
]


@pytest.mark.parametrize(("method", "url", "body", "required", "success"), OPERATIONS)
def test_each_role_may_do_exactly_what_its_rank_allows(
    request: pytest.FixtureRequest,
    world: SimpleNamespace,
    method: str,
    url: Url,
    body: Body,
    required: str,
    success: int,
) -> None:
    outcomes, expected = {}, {}
    for role in RANK:
        client = token_client(request.getfixturevalue(role))
        kwargs = {"format": "json", "data": body(world)} if body else {}
        response = getattr(client, method)(url(world), **kwargs)
        outcomes[role] = response.status_code
        expected[role] = success if RANK[role] >= RANK[required] else 403
    assert outcomes == expected


@pytest.mark.parametrize("url", ["/api/customers/", "/api/orders/bulk/", "/api/segment-snapshots/"])
def test_anonymous_requests_are_asked_to_authenticate(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", lambda w: "/api/responses/"),
        ("delete", lambda w: f"/api/responses/{w.response.pk}/"),
        ("delete", lambda w: f"/api/invitations/{w.invitation.pk}/"),
        ("patch", lambda w: f"/api/invitations/{w.invitation.pk}/"),
        ("post", lambda w: "/api/follow-ups/"),
        ("delete", lambda w: f"/api/follow-ups/{w.follow_up.pk}/"),
        ("post", lambda w: "/api/customer-metrics/"),
        ("post", lambda w: "/api/segment-snapshots/"),
    ],
)
def test_read_only_resources_refuse_writes_even_to_admins(
    admin_api: Any, world: SimpleNamespace, method: str, url: Url
) -> None:
    assert getattr(admin_api, method)(url(world), data={}, format="json").status_code == 405


def test_session_login_works_as_well_as_tokens(agent_client: Any, world: SimpleNamespace) -> None:
    assert agent_client.get("/api/customers/").status_code == 200

"""API test fixtures: token-authenticated clients per role and one record of every kind."""

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from metrics.models import CustomerMetrics, SegmentSnapshot
from tests.customers.factories import (
    CustomerFactory,
    EngagementEventFactory,
    InteractionFactory,
    OrderFactory,
    SegmentFactory,
)
from tests.surveys.factories import FollowUpFactory, InvitationFactory, SurveyFactory, SurveyTextFactory


@pytest.fixture(autouse=True)
def _thb_rate(thb_rate: object) -> None:
    """Integrations send orders in baht."""


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    # Each test makes users for several roles; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> Iterator[None]:
    # Throttle history lives in the cache; user ids repeat across test databases.
    cache.clear()
    yield
    cache.clear()


def token_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_for() -> Callable[[User | None], APIClient]:
    return token_client


def _token_client_of(user_fixture: str) -> Any:
    """A fixture: a token client of the shared user fixture `user_fixture` (tests/conftest.py)."""

    @pytest.fixture(name=f"{user_fixture}_api")
    def client(request: pytest.FixtureRequest) -> APIClient:
        return token_client(request.getfixturevalue(user_fixture))

    return client


agent_api = _token_client_of("agent")
manager_api = _token_client_of("manager")
admin_api = _token_client_of("admin")
outsider_api = _token_client_of("outsider")


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    """One record of every kind the API serves."""
    customer = CustomerFactory(external_id="C-1", name="Somchai Jaidee")
    survey = SurveyFactory(slug="nps", name="NPS")
    SurveyTextFactory(survey=survey)
    follow_up = FollowUpFactory(response__invitation__survey=survey, response__invitation__customer=customer)
    segment = SegmentFactory(slug="thai", filter_params={"country": "TH"})
    now = timezone.now()
    return SimpleNamespace(
        customer=customer,
        interaction=InteractionFactory(customer=customer),
        order=OrderFactory(customer=customer, external_id="O-1", amount=Decimal("25.00")),
        event=EngagementEventFactory(customer=customer, external_id="E-1"),
        survey=survey,
        invitation=InvitationFactory(survey=survey, customer=customer),
        response=follow_up.response,
        follow_up=follow_up,
        segment=segment,
        metrics=CustomerMetrics.objects.create(customer=customer, computed_at=now, orders=1, revenue=Decimal(25)),
        snapshot=SegmentSnapshot.objects.create(
            segment=segment,
            period_start=date(2026, 5, 1),
            period_end=date(2026, 6, 1),
            computed_at=now,
        ),
        yesterday=now - timedelta(days=1),
    )

"""The shared customer FilterSet's date, activity and answer filters, on the page, the API and segments."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from customers.filters import customer_filter
from customers.selectors import segment_customers
from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.surveys.factories import InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db
BANGKOK = ZoneInfo("Asia/Bangkok")


def names(params: dict) -> set[str]:
    filterset = customer_filter(params)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("name", flat=True))


def answer(customer, kind: str, score: int, at: datetime) -> None:
    invitation = InvitationFactory(customer=customer, survey=SurveyFactory(slug=f"s-{kind}", kind=kind))
    ResponseFactory(invitation=invitation, score=score, submitted_at=at)


def test_churned_between_dates_is_inclusive_at_both_ends():
    CustomerFactory(name="before", acquired_at=date(2025, 1, 1), churned_at=date(2026, 2, 28))
    CustomerFactory(name="first", acquired_at=date(2025, 1, 1), churned_at=date(2026, 3, 1))
    CustomerFactory(name="last", acquired_at=date(2025, 1, 1), churned_at=date(2026, 3, 31))
    CustomerFactory(name="active", acquired_at=date(2025, 1, 1))
    assert names({"churned_after": "2026-03-01", "churned_before": "2026-03-31"}) == {"first", "last"}


def test_active_on_a_day_excludes_the_churn_day_and_the_not_yet_acquired():
    CustomerFactory(name="churned that day", acquired_at=date(2025, 1, 1), churned_at=date(2026, 3, 1))
    CustomerFactory(name="churned next day", acquired_at=date(2025, 1, 1), churned_at=date(2026, 3, 2))
    CustomerFactory(name="acquired that day", acquired_at=date(2026, 3, 1))
    CustomerFactory(name="acquired later", acquired_at=date(2026, 3, 2))
    assert names({"active_on": "2026-03-01"}) == {"churned next day", "acquired that day"}


def test_answered_filters_apply_to_one_and_the_same_answer_with_days_in_the_time_zone():
    a, b, c, d = (CustomerFactory(name=n) for n in "abcd")
    answer(a, "nps", 3, datetime(2026, 5, 31, 23, 30, tzinfo=BANGKOK))  # 16:30 UTC: still 31 May in Bangkok
    answer(b, "nps", 3, datetime(2026, 6, 1, 0, 30, tzinfo=BANGKOK))  # June in Bangkok, 31 May in UTC
    answer(c, "nps", 9, datetime(2026, 5, 10, tzinfo=BANGKOK))  # a promoter in May ...
    answer(c, "csat", 2, datetime(2026, 5, 11, tzinfo=BANGKOK))  # ... and a low CSAT: not an NPS detractor
    answer(d, "nps", 6, datetime(2026, 5, 1, tzinfo=BANGKOK))
    may_detractors = {
        "answered_kind": "nps",
        "answered_score_min": "0",
        "answered_score_max": "6",
        "answered_after": "2026-05-01",
        "answered_before": "2026-05-31",
    }
    assert names(may_detractors) == {"a", "d"}
    assert names({"answered_kind": "csat"}) == {"c"}
    assert names({"answered_after": "2026-06-01"}) == {"b"}


def test_a_dynamic_segment_can_save_the_new_filters():
    CustomerFactory(name="in", acquired_at=date(2025, 1, 1), churned_at=date(2026, 3, 10))
    CustomerFactory(name="out", acquired_at=date(2025, 1, 1))
    segment = SegmentFactory(filter_params={"churned_after": "2026-03-01", "active_on": "2026-03-01"})
    assert set(segment_customers(segment).values_list("name", flat=True)) == {"in"}


@pytest.mark.parametrize(
    "params",
    [
        {"churned_after": "2026-02-30"},
        {"active_on": "yesterday"},
        {"answered_before": "9999-12-31"},
        {"answered_after": "0001-01-01"},
        {"answered_score_min": "11"},
        {"answered_score_max": "1e30"},
        {"answered_kind": "stars"},
    ],
)
def test_bad_values_are_form_errors_on_the_page_and_400_in_the_api(params, agent_client, agent):
    from tests.api.conftest import token_client

    filterset = customer_filter(params)
    assert not filterset.is_valid()
    assert set(filterset.errors) == set(params)
    response = agent_client.get("/customers/", params)
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()
    response = token_client(agent).get("/api/customers/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_the_api_filters_customers_with_the_new_parameters(agent):
    from tests.api.conftest import token_client

    CustomerFactory(name="gone", acquired_at=date(2025, 1, 1), churned_at=date(2026, 3, 10))
    CustomerFactory(name="here", acquired_at=date(2025, 1, 1))
    response = token_client(agent).get(
        "/api/customers/", {"churned_after": "2026-03-01", "churned_before": "2026-03-31"}
    )
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["gone"]


def test_the_openapi_schema_lists_the_new_customer_filters(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/customers/"]["get"]["parameters"]}
    for name in (
        "churned_after",
        "churned_before",
        "active_on",
        "acquired_after",
        "acquired_before",
        "answered_after",
        "answered_before",
    ):
        assert params[name]["schema"]["format"] == "date", name
    assert params["answered_kind"]["schema"]["enum"] == ["ces", "csat", "nps"]
    assert params["answered_score_min"]["schema"]["type"] == "integer"

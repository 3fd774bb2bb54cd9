"""The staff list of survey answers: kind, score range, submitted days, segment; count, empty, queries."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.customers.test_record_lists import row_count
from tests.surveys.factories import InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db
BANGKOK = ZoneInfo("Asia/Bangkok")
URL = reverse("surveys:responses")


def answer(customer, kind: str, score: int, at: datetime, comment: str = "") -> None:
    invitation = InvitationFactory(customer=customer, survey=SurveyFactory(slug=f"list-{kind}", kind=kind))
    ResponseFactory(invitation=invitation, score=score, submitted_at=at, comment=comment)


def test_detractors_of_a_period_are_the_period_answers_with_low_scores(agent_client):
    th = CustomerFactory(name="Somchai", country="TH")
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    answer(th, "nps", 3, datetime(2026, 4, 30, 23, 0, tzinfo=BANGKOK), comment="Too slow")
    answer(th, "nps", 9, datetime(2026, 4, 10, tzinfo=BANGKOK))  # the same customer's later promoter answer
    answer(th, "nps", 2, datetime(2026, 5, 1, 0, 30, tzinfo=BANGKOK))  # May
    answer(th, "csat", 1, datetime(2026, 4, 3, tzinfo=BANGKOK))
    answer(CustomerFactory(country="MY"), "nps", 0, datetime(2026, 4, 3, tzinfo=BANGKOK))
    april = {"segment": "thai", "submitted_after": "2026-04-01", "submitted_before": "2026-04-30"}
    response = agent_client.get(URL, april | {"kind": "nps", "score_min": "0", "score_max": "6"})
    assert row_count(response) == 1
    html = response.content.decode()
    assert "Too slow" in html
    assert reverse("customers:detail", args=[th.pk]) in html
    assert row_count(agent_client.get(URL, april | {"kind": "nps", "score_min": "9", "score_max": "10"})) == 1
    assert row_count(agent_client.get(URL, april)) == 3


@pytest.mark.parametrize(
    "params", [{"score_min": "11"}, {"score_max": "abc"}, {"kind": "stars"}, {"submitted_after": "2026-02-30"}]
)
def test_bad_filter_values_show_the_error_and_no_rows(agent_client, params):
    answer(CustomerFactory(), "nps", 3, datetime(2026, 4, 3, tzinfo=BANGKOK))
    response = agent_client.get(URL, params)
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()
    assert row_count(response) == 0


def test_an_empty_list_says_so_and_outsiders_get_403(agent_client, outsider_client):
    response = agent_client.get(URL)
    assert row_count(response) == 0
    assert "No answers" in response.content.decode()
    assert outsider_client.get(URL).status_code == 403


@pytest.mark.parametrize("rows", [1, 60])
def test_the_query_count_does_not_grow_with_the_rows(agent_client, django_assert_num_queries, rows):
    customer = CustomerFactory()
    for _ in range(rows):
        answer(customer, "nps", 5, datetime(2026, 4, 3, tzinfo=BANGKOK))
    # session, user, groups (role), count, page with customers and surveys, segment choices.
    with django_assert_num_queries(6):
        response = agent_client.get(URL, {"kind": "nps"})
    assert row_count(response) == rows

"""Filters that forgive: countries by code or name in our four languages, choices in any case, and an empty
list that says which filter removed everything."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.countries import country_code
from customers.filters import RFM_SEGMENTS, customer_filter
from customers.models import Customer
from metrics.compute import RFM_SEGMENT_SQL
from metrics.models import CustomerMetrics
from tests.customers.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def names(params: dict) -> set[str]:
    filterset = customer_filter(params)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("TH", "TH"),
        ("th", "TH"),
        (" Thailand ", "TH"),
        ("THAILAND", "TH"),
        ("ประเทศไทย", "TH"),
        ("泰國", "TH"),
        ("Malaysia", "MY"),
        ("มาเลเซีย", "MY"),
        ("馬來西亞", "MY"),
        ("台灣", "TW"),
        ("臺灣", "TW"),
        ("hong-kong", "HK"),
        ("香港", "HK"),
        ("Singapura", "SG"),
        ("新加坡", "SG"),
        ("jp", "JP"),
        ("", ""),
    ],
)
def test_a_country_is_a_code_or_a_markets_name_in_any_of_our_languages(typed, code):
    assert country_code(typed) == code


def test_the_country_filter_finds_customers_by_name_with_an_exact_code_query():
    CustomerFactory(name="Somchai", country="TH")
    CustomerFactory(name="Aisyah", country="MY")
    assert names({"country": "Thailand"}) == {"Somchai"}
    assert names({"country": "ไทย"}) == {"Somchai"}
    assert names({"country": "my"}) == {"Aisyah"}
    with CaptureQueriesContext(connection) as queries:
        list(customer_filter({"country": "Thailand"}).qs)
    sql = queries.captured_queries[-1]["sql"]
    assert '"customers_customer"."country" = \'TH\'' in sql
    assert "UPPER" not in sql


def test_an_unknown_country_name_is_a_form_error_that_says_what_is_accepted():
    CustomerFactory(country="TH")
    filterset = customer_filter({"country": "Narnia"})
    assert not filterset.is_valid()
    assert "Unknown country “Narnia”: give a 2-letter code" in filterset.errors["country"][0]


def test_choice_filters_take_a_value_or_a_label_in_any_case():
    vip = CustomerFactory(name="Pro at risk", plan="pro", lifecycle_stage="at_risk")
    vip.tags.add(TagFactory(name="vip"))
    CustomerFactory(name="Free", plan="free")
    assert names({"plan": "PRO"}) == {"Pro at risk"}
    assert names({"lifecycle_stage": "At Risk"}) == {"Pro at risk"}
    assert names({"lifecycle_stage": "AT_RISK"}) == {"Pro at risk"}
    assert names({"tag": "VIP"}) == {"Pro at risk"}
    assert not customer_filter({"plan": "platinum"}).is_valid()


def test_the_rfm_segment_filter_is_a_choice_of_the_engines_names_in_any_case():
    champion = CustomerFactory(name="Champion")
    CustomerMetrics.objects.filter(customer=champion).delete()
    CustomerMetrics.objects.create(customer=champion, rfm_segment="Champions", computed_at=timezone.now())
    other = CustomerFactory(name="Other")
    CustomerMetrics.objects.filter(customer=other).delete()
    CustomerMetrics.objects.create(customer=other, rfm_segment="Loyal", computed_at=timezone.now())
    assert names({"rfm_segment": "champions"}) == {"Champion"}
    assert names({"rfm_segment": "CHAMPIONS"}) == {"Champion"}
    filterset = customer_filter({"rfm_segment": "Champs"})
    assert not filterset.is_valid() and "rfm_segment" in filterset.errors


def test_the_rfm_choices_are_exactly_the_names_the_engine_gives():
    assert set(re.findall(r"(?:THEN|ELSE) '([^']+)'", RFM_SEGMENT_SQL)) == set(RFM_SEGMENTS)


def test_an_empty_list_says_which_filter_removed_everything(agent_client):
    CustomerFactory(country="TH", plan="pro")
    CustomerFactory(country="TH", plan="free")
    CustomerFactory(country="MY", plan="enterprise")
    response = agent_client.get(reverse("customers:list"), {"country": "Thailand", "plan": "enterprise"})
    page = response.content.decode()
    assert "No customers match" in page
    hints = {hint.param: hint for hint in response.context["hints"]}
    assert (hints["country"].alone, hints["country"].without) == (2, 1)
    assert (hints["plan"].alone, hints["plan"].without) == (1, 2)
    assert "‘country=Thailand’ alone leaves 2; without it, 1 match" in page
    assert "‘plan=enterprise’ alone leaves 1; without it, 2 match" in page


def test_a_single_filter_that_leaves_nobody_says_so(agent_client):
    CustomerFactory(country="TH")
    response = agent_client.get(reverse("customers:list"), {"country": "Singapore"})
    assert "‘country=Singapore’ alone leaves 0" in response.content.decode()


def test_the_hints_are_not_computed_when_customers_match(agent_client):
    CustomerFactory(country="TH")
    response = agent_client.get(reverse("customers:list"), {"country": "Thailand"})
    assert response.context["hints"] == []
    assert "alone leaves" not in response.content.decode()


def test_an_invalid_filter_shows_its_error_and_no_hints(agent_client):
    CustomerFactory(country="TH")
    response = agent_client.get(reverse("customers:list"), {"country": "Narnia"})
    assert response.status_code == 200
    assert "Unknown country" in response.content.decode()
    assert response.context["hints"] == []
    assert Customer.objects.count() == 1

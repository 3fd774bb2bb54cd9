"""Drill-down links: from a figure to the customers behind it (the customer list, filtered) or to one customer."""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from customers.models import Segment


def customers_url(segment: Segment, **params: str) -> str:
    query = {"segment": segment.slug, **{k: v for k, v in params.items() if v}}
    return f"{reverse('customers:list')}?{urlencode(query)}"


def customer_url(pk: int) -> str:
    """The customer profile (customers:detail, at /customers/<pk>/)."""
    try:
        return reverse("customers:detail", args=[pk])
    except NoReverseMatch:
        return f"/customers/{pk}/"


def acquired_in(first: date, end: date) -> dict[str, str]:
    """CustomerFilter params for customers acquired from `first` to the day before `end`."""
    return {"acquired_after": first.isoformat(), "acquired_before": (end - timedelta(days=1)).isoformat()}


def drill_links(segment: Segment, key: str) -> list[tuple[str, str]]:
    """Where the customers behind a KPI are: the customer list, filtered."""
    links = {
        "nps": [
            ("detractors", customers_url(segment, nps_category="detractor")),
            ("passives", customers_url(segment, nps_category="passive")),
            ("promoters", customers_url(segment, nps_category="promoter")),
        ],
        "retention": [("active customers", customers_url(segment, lifecycle_stage="active"))],
        "churn": [
            ("churned customers", customers_url(segment, lifecycle_stage="churned")),
            ("at high churn risk", customers_url(segment, churn_risk="high")),
        ],
    }
    return links.get(key, [("customers", customers_url(segment))])

"""Where every count of a report leads: a list whose length is that count, for the same segment and period.

A period is [first, end): month starts, as the snapshots store them (metrics/snapshots.py), so its
last day is end − 1 day; days of timestamps run in settings.TIME_ZONE, as the snapshots' months do.
"Active on a day" is the one definition of customers.lifecycle (acquired on or before it, not churned
on or before it), which the snapshot engine counts from month groups:

- S (customers at the start) = active on the day before the period;
- E (customers at the end) = active on its last day;
- N (new) = acquired in the period and active on its last day;
- lost = active on the day before the period and churned in it (so E − N = S − lost);
- a cohort cell (cohort month m, k months later) = acquired in m and active on the last day of month
  m + k; the cohort's size = acquired in m;
- promoters, passives, detractors, CSAT and CES answers = the survey answers list with the kind, the
  score range and the period's days;
- orders = the orders list; interactions, first responses (replied) and resolutions (resolved) = the
  interactions list, by the day they were opened, as the snapshots count them.

Links evaluate the segment's members now, while the snapshots froze them when they were computed: for a
segment whose filter depends on changing data (churn risk, latest NPS) the two can differ until the
next recompute.
"""

from datetime import date, timedelta

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from customers.models import Segment

# NPS categories by score; the same bounds as the snapshots' promoters, passives and detractors.
NPS_BANDS = {"promoters": (9, 10), "passives": (7, 8), "detractors": (0, 6)}


def _query(segment: Segment, params: dict[str, str | int | None]) -> str:
    return urlencode({"segment": segment.slug, **{k: v for k, v in params.items() if v is not None and v != ""}})


def customers_url(segment: Segment, **params: str | None) -> str:
    """The customer list of `segment` filtered with CustomerFilter `params` (empty ones left out)."""
    return f"{reverse('customers:list')}?{_query(segment, params)}"


def customer_url(pk: int) -> str:
    """The customer profile (customers:detail, at /customers/<pk>/)."""
    try:
        return reverse("customers:detail", args=[pk])
    except NoReverseMatch:
        return f"/customers/{pk}/"


def _day(value: date) -> str:
    return value.isoformat()


def last_day(end: date) -> date:
    return end - timedelta(days=1)


def acquired_in(first: date, end: date) -> dict[str, str]:
    """CustomerFilter params for customers acquired from `first` to the day before `end`."""
    return {"acquired_after": _day(first), "acquired_before": _day(last_day(end))}


# Customers (stocks) -------------------------------------------------------------------------


def start_customers_url(segment: Segment, first: date) -> str:
    """S: customers active on the day before the period."""
    return customers_url(segment, active_on=_day(first - timedelta(days=1)))


def end_customers_url(segment: Segment, end: date) -> str:
    """E: customers active on the period's last day."""
    return customers_url(segment, active_on=_day(last_day(end)))


def new_customers_url(segment: Segment, first: date, end: date) -> str:
    """N: acquired in the period and still active on its last day."""
    return customers_url(segment, **acquired_in(first, end), active_on=_day(last_day(end)))


def lost_customers_url(segment: Segment, first: date, end: date) -> str:
    """Lost: of S (active on the day before the period), churned during the period."""
    return customers_url(
        segment,
        active_on=_day(first - timedelta(days=1)),
        churned_after=_day(first),
        churned_before=_day(last_day(end)),
    )


def _month_after(month: date, count: int) -> date:
    total = month.year * 12 + month.month - 1 + count
    return date(total // 12, total % 12 + 1, 1)


def cohort_size_url(segment: Segment, cohort_month: date) -> str:
    """A cohort: every customer acquired in the month (churned since or not)."""
    return customers_url(segment, **acquired_in(cohort_month, _month_after(cohort_month, 1)))


def cohort_active_url(segment: Segment, cohort_month: date, months_since: int) -> str:
    """A cohort cell: acquired in `cohort_month` and active on the last day of the month `months_since`
    months later, as CohortCell.active counts them (not churned before the month after it)."""
    return customers_url(
        segment,
        **acquired_in(cohort_month, _month_after(cohort_month, 1)),
        active_on=_day(last_day(_month_after(cohort_month, months_since + 1))),
    )


# Rows (flows) ---------------------------------------------------------------------------------


def _rows_url(name: str, segment: Segment, params: dict[str, str | int | None]) -> str:
    return f"{reverse(name)}?{_query(segment, params)}"


def answers_url(
    segment: Segment,
    first: date,
    end: date,
    *,
    kind: str | None = None,
    low: int | None = None,
    high: int | None = None,
) -> str:
    """The survey answers given in the period, of a kind and a score range when given."""
    return _rows_url(
        "surveys:responses",
        segment,
        {
            "kind": kind,
            "score_min": low,
            "score_max": high,
            "submitted_after": _day(first),
            "submitted_before": _day(last_day(end)),
        },
    )


def nps_band_url(segment: Segment, first: date, end: date, band: str) -> str:
    """Promoters, passives or detractors: the period's NPS answers in that score band."""
    low, high = NPS_BANDS[band]
    return answers_url(segment, first, end, kind="nps", low=low, high=high)


def orders_url(segment: Segment, first: date, end: date) -> str:
    """The orders placed in the period."""
    return _rows_url("customers:orders", segment, {"placed_after": _day(first), "placed_before": _day(last_day(end))})


def interactions_url(
    segment: Segment, first: date, end: date, *, replied: bool | None = None, resolved: bool | None = None
) -> str:
    """The interactions opened in the period; `replied` for the first-response count, `resolved` for the
    resolution count (both by the day the interaction was opened, as the snapshots count them)."""
    flags = {
        "replied": None if replied is None else str(replied).lower(),
        "resolved": None if resolved is None else str(resolved).lower(),
    }
    return _rows_url(
        "customers:interactions",
        segment,
        {"opened_after": _day(first), "opened_before": _day(last_day(end)), **flags},
    )


# KPIs -----------------------------------------------------------------------------------------


def drill_links(
    segment: Segment, key: str, first: date | None = None, end: date | None = None
) -> list[tuple[str, str]]:
    """(label, url) of the lists behind a KPI of the period [first, end); the first one is what the
    KPI counts (its n, or for churn the customers lost). Without a period, the segment's customers."""
    if first is None or end is None:
        return [("customers", customers_url(segment))]
    bands = [(band, nps_band_url(segment, first, end, band)) for band in ("detractors", "passives", "promoters")]
    links: dict[str, list[tuple[str, str]]] = {
        "nps": [("NPS answers", answers_url(segment, first, end, kind="nps")), *bands],
        "csat": [("CSAT answers", answers_url(segment, first, end, kind="csat"))],
        "ces": [("CES answers", answers_url(segment, first, end, kind="ces"))],
        "retention": [
            ("customers at start", start_customers_url(segment, first)),
            ("new customers", new_customers_url(segment, first, end)),
            ("customers at end", end_customers_url(segment, end)),
        ],
        "churn": [
            ("lost customers", lost_customers_url(segment, first, end)),
            ("customers at start", start_customers_url(segment, first)),
            # Not a count of the period: who may be lost next, by today's churn risk.
            ("at high churn risk now", customers_url(segment, churn_risk="high")),
        ],
        "clv": [("orders", orders_url(segment, first, end))],
        "aov": [("orders", orders_url(segment, first, end))],
        "first_response": [("replied interactions", interactions_url(segment, first, end, replied=True))],
        "resolution": [("resolved interactions", interactions_url(segment, first, end, resolved=True))],
    }
    return links.get(key, [("customers", customers_url(segment))])

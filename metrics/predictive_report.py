"""Predictive figures of a segment for its report: read live from CustomerMetrics (the latest scores).

- predicted revenue: the members' predicted 12-month values summed (metrics.predictive_engine);
- likely lapsed: members with a score who are likely lapsed / members with a score;
- valuable and slipping: repeat buyers whose P(alive) has fallen below SLIPPING_BELOW but not under
  GONE_BELOW (most likely gone already), ranked by their predicted value if they stay active
  (predicted 12-month value / P(alive)), with a link to the same customers on the customer list,
  which can be saved as a segment or sent a survey.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Sum

from customers.models import Segment
from customers.selectors import segment_customer_ids
from metrics.drilldowns import customers_url
from metrics.models import CustomerMetrics
from metrics.report_selectors import ALL_CUSTOMERS_SLUG

SLIPPING_BELOW = 0.6
GONE_BELOW = 0.1
SLIPPING_LIMIT = 20


@dataclass(frozen=True)
class PredictiveSummary:
    scored: int
    predicted_revenue: Decimal
    likely_lapsed: int
    slipping: list[CustomerMetrics]
    slipping_url: str
    lapsed_url: str

    @property
    def lapsed_percent(self) -> Decimal | None:
        if not self.scored:
            return None
        return Decimal(self.likely_lapsed * 100) / Decimal(self.scored)


def _members(segment: Segment) -> QuerySet[CustomerMetrics]:
    scored = CustomerMetrics.objects.filter(p_alive__isnull=False)
    if segment.slug == ALL_CUSTOMERS_SLUG:
        return scored
    return scored.filter(customer_id__in=segment_customer_ids(segment))


def predictive_summary(segment: Segment, *, limit: int = SLIPPING_LIMIT) -> PredictiveSummary:
    """Two queries: the totals, and the valuable-and-slipping list."""
    members = _members(segment)
    totals = members.aggregate(
        scored=Count("customer_id"),
        revenue=Sum("predicted_value_12m"),
        lapsed=Count("customer_id", filter=Q(likely_lapsed=True)),
    )
    slipping = list(
        members.filter(p_alive__lt=SLIPPING_BELOW, p_alive__gte=GONE_BELOW, orders__gte=2)
        .annotate(value_if_active=ExpressionWrapper(F("predicted_value_12m") / F("p_alive"), output_field=FloatField()))
        .select_related("customer")
        .order_by("-value_if_active", "customer_id")[:limit]
    )
    return PredictiveSummary(
        scored=totals["scored"] or 0,
        predicted_revenue=totals["revenue"] or Decimal("0.00"),
        likely_lapsed=totals["lapsed"] or 0,
        slipping=slipping,
        slipping_url=customers_url(
            segment, p_alive_min=str(GONE_BELOW), p_alive_max=str(SLIPPING_BELOW), sort="-value"
        ),
        lapsed_url=customers_url(segment, likely_lapsed="true"),
    )

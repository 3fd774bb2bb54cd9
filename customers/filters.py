"""The customer FilterSet: shared by the customer list page, the API and saved (dynamic) segments."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from customers.models import Customer, Language, Segment, Tag

NPS_CATEGORIES = [("promoter", "Promoter (9-10)"), ("passive", "Passive (7-8)"), ("detractor", "Detractor (0-6)")]
CHURN_RISKS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]


class CustomerFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_search", label="Search")
    country = filters.CharFilter(field_name="country", lookup_expr="iexact")
    city = filters.CharFilter(field_name="city", lookup_expr="iexact")
    language = filters.ChoiceFilter(choices=Language.choices)
    lifecycle_stage = filters.ChoiceFilter(choices=Customer.Stage.choices, label="Lifecycle stage")
    plan = filters.ChoiceFilter(choices=Customer.Plan.choices)
    tag = filters.ModelChoiceFilter(field_name="tags", queryset=Tag.objects.all(), to_field_name="name", label="Tag")
    owner = filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(groups__name__in=["Agent", "Manager", "Admin"]).distinct(),
        label="Owner",
    )
    acquired_after = filters.DateFilter(field_name="acquired_at", lookup_expr="gte", label="Acquired on or after")
    acquired_before = filters.DateFilter(field_name="acquired_at", lookup_expr="lte", label="Acquired on or before")
    nps_category = filters.ChoiceFilter(choices=NPS_CATEGORIES, method="filter_nps_category", label="NPS category")
    rfm_segment = filters.CharFilter(field_name="metrics__rfm_segment", label="RFM segment")
    churn_risk = filters.ChoiceFilter(choices=CHURN_RISKS, field_name="metrics__churn_risk", label="Churn risk")
    segment = filters.ModelChoiceFilter(
        queryset=Segment.objects.all(), method="filter_segment", to_field_name="slug", label="Segment"
    )
    # Predictive value (metrics.predictive_engine): empty for customers without orders or a fit.
    p_alive_min = filters.NumberFilter(
        field_name="metrics__p_alive", lookup_expr="gte", label="P(alive) at least (0-1)", min_value=0, max_value=1
    )
    p_alive_max = filters.NumberFilter(
        field_name="metrics__p_alive", lookup_expr="lte", label="P(alive) at most (0-1)", min_value=0, max_value=1
    )
    predicted_value_min = filters.NumberFilter(
        field_name="metrics__predicted_value_12m", lookup_expr="gte", label="Predicted 12-month value at least"
    )
    predicted_value_max = filters.NumberFilter(
        field_name="metrics__predicted_value_12m", lookup_expr="lte", label="Predicted 12-month value at most"
    )
    likely_lapsed = filters.BooleanFilter(field_name="metrics__likely_lapsed", label="Likely lapsed")

    class Meta:
        model = Customer
        fields = ["q", "country", "city", "language", "lifecycle_stage", "plan", "tag", "owner"]

    def filter_search(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        value = value.strip()
        if not value:
            return queryset
        # icontains on name/email/phone uses the trigram GIN indexes on PostgreSQL.
        return queryset.filter(
            Q(name__icontains=value)
            | Q(email__icontains=value)
            | Q(phone__icontains=value)
            | Q(external_id__iexact=value)
        )

    def filter_nps_category(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        ranges = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
        low, high = ranges[value]
        return queryset.filter(metrics__latest_nps_score__gte=low, metrics__latest_nps_score__lte=high)

    def filter_segment(self, queryset: QuerySet[Customer], name: str, value: Segment) -> QuerySet[Customer]:
        from customers.selectors import segment_customer_ids

        return queryset.filter(id__in=segment_customer_ids(value))


def customer_filter(params: dict | None, queryset: QuerySet[Customer] | None = None) -> CustomerFilter:
    return CustomerFilter(params or {}, queryset=queryset if queryset is not None else Customer.objects.all())

"""The customer FilterSet: shared by the customer list page, the API and saved (dynamic) segments;
and the FilterSets of the interaction and order lists (pages, and the API when it wants whole days).

Date filters take whole days (YYYY-MM-DD), both ends inclusive; on a timestamp a day runs from
00:00 to 24:00 in settings.TIME_ZONE, the zone the reports' months use. Dates are limited to the
years 1900-2999 so that every bound converts to a timestamp (a form error, or a 400 in the API).
"""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters

from core.calendar import local_midnight
from customers.countries import country_code
from customers.lifecycle import active_on_q
from customers.models import Customer, Interaction, Language, Order, Segment, Tag

SURVEY_KINDS = [("nps", "NPS"), ("csat", "CSAT"), ("ces", "CES")]


class BoundedDateField(forms.DateField):
    """A date between 1900-01-01 and 2999-12-31."""

    def clean(self, value: Any) -> date | None:
        result = super().clean(value)
        if result is not None and not 1900 <= result.year <= 2999:
            raise forms.ValidationError("Give a date between 1900 and 2999.")
        return result


class DateFilter(filters.DateFilter):
    field_class = BoundedDateField


class DayFilter(DateFilter):
    """A whole-day bound on a timestamp field: "after" from 00:00 of the day, "before" up to the end of
    the day (both inclusive), in settings.TIME_ZONE."""

    def __init__(self, *args: Any, end: bool = False, **kwargs: Any) -> None:
        self.end = end
        kwargs.setdefault("lookup_expr", "lt" if end else "gte")
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: date | None) -> QuerySet:
        if value is None:
            return qs
        return super().filter(qs, local_midnight(value + timedelta(days=1)) if self.end else local_midnight(value))


def day_range(field_name: str, what: str) -> tuple[DayFilter, DayFilter]:
    """`x_after, x_before = day_range("x_at", "Placed")`: whole days, both inclusive."""
    return (
        DayFilter(field_name=field_name, label=f"{what} on or after"),
        DayFilter(field_name=field_name, end=True, label=f"{what} on or before"),
    )


class CountryField(forms.CharField):
    """A country code, or a market's name in any of our languages turned into its code (customers.countries)."""

    def clean(self, value: Any) -> str:
        return country_code(super().clean(value))


class CountryFilter(filters.CharFilter):
    """`country=TH`, `country=th`, `country=Thailand`, `country=ประเทศไทย`: the value becomes the code
    before the query, which stays an exact `country = 'TH'` served by customer_geo_idx."""

    field_class = CountryField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("A 2-letter code (TH) or the country's name, e.g. Thailand, ไทย, 泰國."))
        super().__init__(*args, lookup_expr="exact", **kwargs)


def _choice_key(choices: Any, value: str) -> str | None:
    """The key of the choice whose key or label is `value`, ignoring case, surrounding spaces and _ vs space."""
    folded = value.strip().replace("_", " ").casefold()
    for key, label in choices:
        if isinstance(label, list | tuple):  # an option group
            found = _choice_key(label, value)
            if found is not None:
                return found
        elif str(key).replace("_", " ").casefold() == folded or str(label).casefold() == folded:
            return str(key)
    return None


class ForgivingChoiceField(filter_fields.ChoiceField):
    """A choice given by its value or its label in any case: "champions", "AT RISK", "at_risk"."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if isinstance(value, str) and value:
            return _choice_key(self.choices, value) or value
        return value


class ChoiceFilter(filters.ChoiceFilter):
    field_class = ForgivingChoiceField


class TagChoiceField(filter_fields.ModelChoiceField):
    """Tags are stored lower-case (customers.forms.split_tags): "VIP" finds the tag "vip"."""

    def to_python(self, value: Any) -> Any:
        return super().to_python(value.strip().lower() if isinstance(value, str) else value)


class TagFilter(filters.ModelChoiceFilter):
    field_class = TagChoiceField


def segment_filter() -> filters.ModelChoiceFilter:
    """`segment=<slug>`: the records (or customers) of a segment's current members."""
    return filters.ModelChoiceFilter(
        queryset=Segment.objects.all(), method="filter_segment", to_field_name="slug", label="Segment"
    )


class SegmentMembersMixin:
    """filter_segment for a FilterSet over customers (`customer_field` "id") or their records ("customer_id")."""

    customer_field = "customer_id"

    def filter_segment(self, queryset: QuerySet, name: str, value: Segment) -> QuerySet:
        from customers.selectors import segment_customer_ids

        return queryset.filter(**{f"{self.customer_field}__in": segment_customer_ids(value)})


NPS_CATEGORIES = [("promoter", "Promoter (9-10)"), ("passive", "Passive (7-8)"), ("detractor", "Detractor (0-6)")]
CHURN_RISKS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
# The names metrics.compute.RFM_SEGMENT_SQL gives (a test keeps the two lists the same).
RFM_SEGMENTS = [
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New customers",
    "Need attention",
    "At risk",
    "Cannot lose them",
    "Hibernating",
    "No orders",
]


ANSWERED = ("answered_kind", "answered_score_min", "answered_score_max", "answered_after", "answered_before")


class CustomerFilter(SegmentMembersMixin, filters.FilterSet):
    """Customers. `active_on` is the one definition of active (customers.lifecycle); the `answered_*`
    filters together select customers with at least one survey answer matching all of them."""

    customer_field = "id"

    q = filters.CharFilter(method="filter_search", label="Search")
    country = CountryFilter(field_name="country")
    city = filters.CharFilter(field_name="city", lookup_expr="iexact")
    language = ChoiceFilter(choices=Language.choices)
    lifecycle_stage = ChoiceFilter(choices=Customer.Stage.choices, label="Lifecycle stage")
    plan = ChoiceFilter(choices=Customer.Plan.choices)
    tag = TagFilter(field_name="tags", queryset=Tag.objects.all(), to_field_name="name", label="Tag")
    owner = filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(groups__name__in=["Agent", "Manager", "Admin"]).distinct(),
        label="Owner",
    )
    acquired_after = DateFilter(field_name="acquired_at", lookup_expr="gte", label="Acquired on or after")
    acquired_before = DateFilter(field_name="acquired_at", lookup_expr="lte", label="Acquired on or before")
    churned_after = DateFilter(field_name="churned_at", lookup_expr="gte", label="Churned on or after")
    churned_before = DateFilter(field_name="churned_at", lookup_expr="lte", label="Churned on or before")
    active_on = DateFilter(method="filter_active_on", label="Active on")
    answered_kind = ChoiceFilter(choices=SURVEY_KINDS, method="filter_answered", label="Answered a survey")
    answered_score_min = filters.NumberFilter(
        method="filter_answered_score", min_value=0, max_value=10, label="Answer score at least"
    )
    answered_score_max = filters.NumberFilter(
        method="filter_answered_score", min_value=0, max_value=10, label="Answer score at most"
    )
    answered_after = DateFilter(method="filter_answered_day", label="Answered on or after")
    answered_before = DateFilter(method="filter_answered_day", label="Answered on or before")
    nps_category = ChoiceFilter(choices=NPS_CATEGORIES, method="filter_nps_category", label="NPS category")
    rfm_segment = ChoiceFilter(
        choices=[(name, name) for name in RFM_SEGMENTS], field_name="metrics__rfm_segment", label="RFM segment"
    )
    churn_risk = ChoiceFilter(choices=CHURN_RISKS, field_name="metrics__churn_risk", label="Churn risk")
    segment = segment_filter()
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

    def filter_active_on(self, queryset: QuerySet[Customer], name: str, value: date) -> QuerySet[Customer]:
        return queryset.filter(active_on_q(value))

    # The typed methods tell the OpenAPI schema what each parameter takes.
    def filter_answered_score(self, queryset: QuerySet[Customer], name: str, value: int) -> QuerySet[Customer]:
        return self.filter_answered(queryset, name, value)

    def filter_answered_day(self, queryset: QuerySet[Customer], name: str, value: date) -> QuerySet[Customer]:
        return self.filter_answered(queryset, name, value)

    def filter_answered(self, queryset: QuerySet[Customer], name: str, value: Any) -> QuerySet[Customer]:
        # Every answered_* filter lands here; the first one applies all of them as one condition on
        # the same answer (a customer with an NPS 9 in March and a CSAT 2 in May is not "NPS 0-6 in May").
        if getattr(self, "_answered_applied", False):
            return queryset
        self._answered_applied = True
        from surveys.models import Response

        data = self.form.cleaned_data
        answers = Response.objects.filter(customer=OuterRef("pk"))
        if data.get("answered_kind"):
            answers = answers.filter(kind=data["answered_kind"])
        if data.get("answered_score_min") is not None:
            answers = answers.filter(score__gte=data["answered_score_min"])
        if data.get("answered_score_max") is not None:
            answers = answers.filter(score__lte=data["answered_score_max"])
        if data.get("answered_after"):
            answers = answers.filter(submitted_at__gte=local_midnight(data["answered_after"]))
        if data.get("answered_before"):
            answers = answers.filter(submitted_at__lt=local_midnight(data["answered_before"] + timedelta(days=1)))
        return queryset.filter(Exists(answers))


class InteractionListFilter(SegmentMembersMixin, filters.FilterSet):
    """Interactions: of a segment's members, opened on whole days, replied to or not, resolved or not."""

    segment = segment_filter()
    opened_after, opened_before = day_range("opened_at", "Opened")
    replied = filters.BooleanFilter(field_name="first_response_at", lookup_expr="isnull", exclude=True)
    resolved = filters.BooleanFilter(method="filter_resolved", label="Resolved")
    channel = ChoiceFilter(choices=Interaction.Channel.choices)
    kind = ChoiceFilter(choices=Interaction.Kind.choices)
    status = ChoiceFilter(choices=Interaction.Status.choices)

    class Meta:
        model = Interaction
        fields = ["segment", "opened_after", "opened_before", "replied", "resolved", "channel", "kind", "status"]

    def filter_resolved(self, queryset: QuerySet[Interaction], name: str, value: bool) -> QuerySet[Interaction]:
        # As the snapshots count resolutions: status resolved (which always has a resolved_at).
        resolved = Q(status=Interaction.Status.RESOLVED)
        return queryset.filter(resolved if value else ~resolved)


class OrderListFilter(SegmentMembersMixin, filters.FilterSet):
    """Orders of a segment's members placed on whole days."""

    segment = segment_filter()
    placed_after, placed_before = day_range("ordered_at", "Placed")

    class Meta:
        model = Order
        fields = ["segment", "placed_after", "placed_before"]


def customer_filter(params: dict | None, queryset: QuerySet[Customer] | None = None) -> CustomerFilter:
    return CustomerFilter(params or {}, queryset=queryset if queryset is not None else Customer.objects.all())

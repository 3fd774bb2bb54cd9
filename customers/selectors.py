"""Reads of customers and segments, for views, the API and the metrics engine."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Interaction, Order, Segment

if TYPE_CHECKING:
    from customers.filters import CustomerFilter, InteractionListFilter, OrderListFilter

# A dynamic segment's filter may not refer to another segment (no cycles, no deep nesting).
SEGMENT_FORBIDDEN_PARAMS = {"segment"}


def segment_customers(segment: Segment) -> QuerySet[Customer]:
    """The customers of a segment now: its explicit members, or everyone its saved filter matches."""
    from customers.filters import customer_filter

    if segment.kind == Segment.Kind.STATIC:
        return Customer.objects.filter(static_segments=segment)
    params = {k: v for k, v in (segment.filter_params or {}).items() if k not in SEGMENT_FORBIDDEN_PARAMS}
    filterset = customer_filter(params)
    if not filterset.is_valid():
        # A saved filter that no longer validates matches nobody rather than everybody.
        return Customer.objects.none()
    return filterset.qs


def segment_customer_ids(segment: Segment) -> QuerySet:
    return segment_customers(segment).order_by().values("id")


# --- Staff pages -------------------------------------------------------------------------------

CUSTOMER_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "acquired": ("acquired_at", "id"),
    "-acquired": ("-acquired_at", "-id"),
    "country": ("country", "city", "name", "id"),
    "-country": ("-country", "-city", "name", "id"),
    # Predictive scores; customers without one sort last either way.
    "value": (F("metrics__predicted_value_12m").asc(nulls_last=True), "id"),
    "-value": (F("metrics__predicted_value_12m").desc(nulls_last=True), "-id"),
    "p_alive": (F("metrics__p_alive").asc(nulls_last=True), "id"),
    "-p_alive": (F("metrics__p_alive").desc(nulls_last=True), "-id"),
}


def customer_list(params: dict, sort: str | None = None) -> tuple["CustomerFilter", QuerySet[Customer]]:
    """The customer list: the shared FilterSet applied to `params`, sorted by one of CUSTOMER_SORTS.

    An invalid filter value shows no customers (the form says why) rather than everyone.
    """
    from customers.filters import customer_filter

    filterset = customer_filter(params)
    queryset = filterset.qs if filterset.is_valid() else Customer.objects.none()
    sort = sort if sort in CUSTOMER_SORTS else "name"
    ordering: tuple = CUSTOMER_SORTS[sort]
    if sort in ("name", "-name") and len((params.get("q") or "").strip()) >= 3:
        # With a search term, "ORDER BY name LIMIT 25" lets PostgreSQL walk the whole name index and
        # filter, which is slow when the matches sort late (e.g. Thai names: 350 ms at 200k customers).
        # Sorting by UPPER(name), which no index provides, makes it use the trigram bitmaps and sort
        # only the matches (20 ms); it is a case-insensitive sort as well.
        name = Upper("name")
        ordering = (name.asc(), "id") if sort == "name" else (name.desc(), "-id")
    return filterset, queryset.select_related("owner", "metrics").order_by(*ordering)


def customer_profile(pk: int) -> Customer:
    """One customer with what its profile header and metrics card read, or Http404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Customer.objects.select_related("metrics", "owner").prefetch_related("tags"), pk=pk)


def interaction_list(params: Mapping[str, Any]) -> tuple["InteractionListFilter", QuerySet[Interaction]]:
    """The staff list of interactions (InteractionListFilter), newest first, with customer and staff.
    An invalid filter shows no rows (the form says why)."""
    from customers.filters import InteractionListFilter

    filterset = InteractionListFilter(params, queryset=Interaction.objects.all())
    queryset = filterset.qs if filterset.is_valid() else Interaction.objects.none()
    return filterset, queryset.select_related("customer", "staff").order_by("-opened_at", "-id")


def order_list(params: Mapping[str, Any]) -> tuple["OrderListFilter", QuerySet[Order]]:
    """The staff list of orders (OrderListFilter), newest first, with the customer."""
    from customers.filters import OrderListFilter

    filterset = OrderListFilter(params, queryset=Order.objects.all())
    queryset = filterset.qs if filterset.is_valid() else Order.objects.none()
    return filterset, queryset.select_related("customer").order_by("-ordered_at", "-id")


# The empty list's hints: one filter alone and all the others, each count bounded (a COUNT over at most
# HINT_COUNT_CAP rows), for at most HINT_MAX_FILTERS filters: 2 x 6 small queries, only when nothing matched.
HINT_COUNT_CAP = 1000
HINT_MAX_FILTERS = 6
HINT_IGNORED_PARAMS = {"page", "sort"}


@dataclass(frozen=True)
class FilterHint:
    """What one filter of an empty customer list does: how many customers it leaves alone, and how many
    match all the other filters without it (None with a single filter). Counts stop at HINT_COUNT_CAP."""

    param: str
    value: str
    alone: int
    without: int | None

    @property
    def removes_everything(self) -> bool:
        """Dropping this filter alone brings customers back: it is (one of) the filters that empties the list."""
        return bool(self.without)

    def text(self) -> str:
        def count(n: int) -> str:
            return f"{HINT_COUNT_CAP:,}+" if n >= HINT_COUNT_CAP else f"{n:,}"

        alone = _("‘%(filter)s’ alone leaves %(count)s") % {
            "filter": f"{self.param}={self.value}",
            "count": count(self.alone),
        }
        if self.without is None:
            return str(alone)
        without = _("without it, %(count)s match") % {"count": count(self.without)}
        return f"{alone}; {without}"


def customer_filter_hints(params: Mapping[str, Any]) -> list[FilterHint]:
    """For an empty customer list: per active filter (as given in `params`), the customers it leaves alone
    and those the other filters leave without it, so the page can say which filter removed everything.
    Filters that do not validate alone are skipped (the form already shows their error)."""
    from customers.filters import CustomerFilter, customer_filter

    active = [
        (key, str(params.get(key)))
        for key in params
        if key in CustomerFilter.base_filters and key not in HINT_IGNORED_PARAMS and str(params.get(key) or "").strip()
    ][:HINT_MAX_FILTERS]

    def bounded_count(subset: dict[str, str]) -> int | None:
        filterset = customer_filter(subset)
        if not filterset.is_valid():
            return None
        return filterset.qs.order_by().values("id")[:HINT_COUNT_CAP].count()

    hints = []
    for key, value in active:
        alone = bounded_count({key: value})
        if alone is None:
            continue
        without = bounded_count({k: v for k, v in active if k != key}) if len(active) > 1 else None
        hints.append(FilterHint(param=key, value=value, alone=alone, without=without))
    return hints


def customer_sheet_rows(queryset: QuerySet[Customer], extra_fields: Sequence[str] = ()) -> Iterator[tuple]:
    """Rows of the customer spreadsheet (customers.sheet.SHEET_COLUMNS, then `extra_fields`), sorted by
    name, streamed in chunks; tags joined with "; " in one subquery per row of the same query."""
    from django.contrib.postgres.aggregates import StringAgg

    from customers.models import Tag
    from customers.sheet import SHEET_COLUMNS, TAG_SEPARATOR

    tag_names = (
        Tag.objects.filter(customers=OuterRef("pk"))
        .order_by()
        .values("customers")
        .annotate(names=StringAgg("name", delimiter=TAG_SEPARATOR, order_by="name"))
        .values("names")
    )
    fields = ["sheet_tags" if field == "tags" else field for _label, field in SHEET_COLUMNS]
    return (
        queryset.annotate(sheet_tags=Subquery(tag_names))
        .order_by("name", "id")
        .values_list(*fields, *extra_fields)
        .iterator(chunk_size=2000)
    )

"""Reads of customers and segments, for views, the API and the metrics engine."""

from django.db.models import QuerySet

from customers.models import Customer, Segment

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

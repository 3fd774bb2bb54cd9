"""The customer profile's timeline: interactions (with replies), orders, survey answers, closed
follow-ups, engagement events and assignment changes of one customer, newest first, one page at a time.

Why a UNION of (source, date, id) value lists, and not Python merging of whole querysets: a
customer can have thousands of events, and the page must not load them. The database merges the
five sources by date and returns only the 30 keys of the requested page; each source then loads
just its own rows of that page (at most five small queries, plus the replies and their authors).
On PostgreSQL every branch of the UNION is also limited to offset + page size rows, so each branch
reads a bounded prefix of its (customer, -date) index (see INDEXED_SOURCES); SQLite cannot slice UNION branches, and
there the outer LIMIT/OFFSET alone bounds what comes back. The count for the paginator is one
COUNT(*) over the same UNION.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import CharField, F, Prefetch, Q, QuerySet, Value

from customers.models import Customer, EngagementEvent, Interaction, InteractionReply, Order

TIMELINE_PAGE_SIZE = 30
# The change reasons support.services records when an interaction is assigned or moves team.
ASSIGNMENT_REASONS = (
    Q(history_change_reason__startswith="Assigned to ")
    | Q(history_change_reason="Unassigned")
    | Q(history_change_reason__startswith="Moved to team ")
    | Q(history_change_reason="Removed from its team")
)


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "interaction", "order", "response", "follow_up", "event" or "assignment"
    at: datetime
    obj: Any

    @property
    def template(self) -> str:
        return f"customers/timeline/{self.kind}.html"


# Sources that can grow without bound per customer and have a (customer, -date) index to read a
# prefix of. Survey answers and follow-ups are few per customer (recontact rules), and their
# indexes do not start with (customer, date): limiting them made PostgreSQL walk a date index of
# the whole table instead (200 ms on 200k customers), so they are left unlimited.
INDEXED_SOURCES = {"interaction", "order", "event"}


def _sources(customer: Customer) -> dict[str, tuple[QuerySet, str]]:
    """Each source: the queryset of this customer's rows and the field that dates them."""
    from surveys.models import FollowUp, Response

    return {
        "interaction": (Interaction.objects.filter(customer=customer), "opened_at"),
        "order": (Order.objects.filter(customer=customer), "ordered_at"),
        "response": (Response.objects.filter(customer=customer), "submitted_at"),
        "follow_up": (
            FollowUp.objects.filter(customer=customer, status=FollowUp.Status.CLOSED, closed_at__isnull=False),
            "closed_at",
        ),
        "event": (EngagementEvent.objects.filter(customer=customer), "occurred_at"),
        # Assignment changes of the customer's interactions, from their audit trail (support.services).
        "assignment": (
            Interaction.history.filter(customer_id=customer.pk).filter(ASSIGNMENT_REASONS),
            "history_date",
        ),
    }


def _keys(queryset: QuerySet, kind: str, date_field: str) -> QuerySet:
    # Same three annotated columns in every branch, so the UNION lines them up.
    return (
        queryset.order_by()
        .annotate(
            src=Value(kind, output_field=CharField()),
            at=F(date_field),
            ref=F("pk"),
        )
        .values_list("src", "at", "ref")
    )


class _TimelineRows:
    """A sliceable, countable sequence of TimelineItem for Django's Paginator."""

    def __init__(self, customer: Customer) -> None:
        self.branches = {kind: _keys(qs, kind, field) for kind, (qs, field) in _sources(customer).items()}

    def count(self) -> int:
        first, *rest = self.branches.values()
        return first.union(*rest, all=True).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[TimelineItem]:
        start, stop = window.start or 0, window.stop
        if stop is None or stop <= start:
            return []  # an empty first page: Django would turn the [0:0] slice into an empty queryset
        branches = list(self.branches.values())
        if connection.features.supports_slicing_ordering_in_compound:
            branches = [
                b.order_by("-at", "-ref")[:stop] if kind in INDEXED_SOURCES else b for kind, b in self.branches.items()
            ]
        first, *rest = branches
        keys = list(first.union(*rest, all=True).order_by("-at", "-src", "-ref")[start:stop])
        return _hydrate(keys)


def _hydrate(keys: list[tuple[str, datetime, int]]) -> list[TimelineItem]:
    """Load the rows behind the page's keys: one query per source present on the page."""
    from surveys.models import FollowUp, Response

    ids: dict[str, list[int]] = {}
    for kind, _at, pk in keys:
        ids.setdefault(kind, []).append(pk)
    loaders: dict[str, QuerySet] = {
        "interaction": Interaction.objects.select_related("staff", "assignee", "team").prefetch_related(
            Prefetch("replies", queryset=InteractionReply.objects.select_related("author"))
        ),
        "order": Order.objects.select_related("referred_by"),
        "response": Response.objects.select_related("invitation__survey"),
        "follow_up": FollowUp.objects.select_related("closed_by", "response"),
        "event": EngagementEvent.objects.all(),
        "assignment": Interaction.history.select_related("history_user", "assignee", "team"),
    }
    objects = {kind: loaders[kind].in_bulk(pks) for kind, pks in ids.items()}
    return [TimelineItem(kind=kind, at=at, obj=objects[kind][pk]) for kind, at, pk in keys if pk in objects[kind]]


def customer_timeline_page(customer: Customer, page_number: Any, per_page: int = TIMELINE_PAGE_SIZE) -> Page:
    """Page `page_number` (1-based; out-of-range numbers give the last page) of the customer's timeline."""
    return Paginator(_TimelineRows(customer), per_page).get_page(page_number)

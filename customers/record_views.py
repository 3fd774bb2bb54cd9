"""Staff lists of rows behind a report's counts: interactions and orders (survey answers live in surveys).

Each list takes the same parameters as its FilterSet (customers.filters), says how many rows match at
the top, pages through them and links every row to its customer; an invalid filter shows no rows and
says why. Agents and up, as the customer list.
"""

from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_filters import FilterSet

from customers import selectors
from customers.forms import tidy_filter_form
from customers.roles import Role, role_required

ROWS_PER_PAGE = 50


def filtered_list_page(
    request: HttpRequest,
    select: Callable[[Any], tuple[FilterSet, QuerySet]],
    template: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Render `template` with the FilterSet, a page of its rows and the filter's query string."""
    filterset, rows = select(request.GET)
    tidy_filter_form(filterset.form)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    for key in [k for k, v in params.lists() if not any(v)]:
        del params[key]
    return render(
        request,
        template,
        {"filter": filterset, "page": page, "filter_query": params.urlencode(), "is_filtered": bool(params)}
        | (context or {}),
    )


@role_required(Role.AGENT)
@require_GET
def interaction_list(request: HttpRequest) -> HttpResponse:
    return filtered_list_page(request, selectors.interaction_list, "customers/interaction_list.html")


@role_required(Role.AGENT)
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    return filtered_list_page(request, selectors.order_list, "customers/order_list.html")

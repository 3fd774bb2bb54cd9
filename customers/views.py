from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from customers.filters import customer_filter
from customers.roles import Role, role_required


@role_required(Role.AGENT)
def customer_list(request: HttpRequest) -> HttpResponse:
    filterset = customer_filter(request.GET)
    page = Paginator(filterset.qs.select_related("owner"), 25).get_page(request.GET.get("page"))
    return render(request, "customers/customer_list.html", {"filter": filterset, "page": page})

"""The REST API under /api/: one router per app, the OpenAPI schema and Swagger UI (local assets)."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """API clients get JSON for unknown addresses too (e.g. /api/customers/abc.1/), not the HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request: Request) -> Response:
    """/api/: every collection of the API with its address, and the schema and docs (agents and up)."""
    from customers.api.urls import router as customers
    from metrics.api.urls import router as metrics
    from surveys.api.urls import router as surveys

    endpoints = {
        prefix: request.build_absolute_uri(reverse(f"{basename}-list"))
        for router in (customers, surveys, metrics)
        for prefix, _viewset, basename in router.registry
    }
    links = {"schema": reverse("api-schema"), "docs": reverse("api-docs")}
    return Response({"endpoints": endpoints, **{k: request.build_absolute_uri(v) for k, v in links.items()}})


urlpatterns = [
    path("", api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("customers.api.urls")),
    path("", include("surveys.api.urls")),
    path("", include("metrics.api.urls")),
    path("", include("support.api.urls")),
    re_path(r"^.*$", api_not_found),
]

"""The REST API under /api/: one router per app, the OpenAPI schema and Swagger UI (local assets)."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """API clients get JSON for unknown addresses too (e.g. /api/customers/abc.1/), not the HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("customers.api.urls")),
    path("", include("surveys.api.urls")),
    path("", include("metrics.api.urls")),
    re_path(r"^.*$", api_not_found),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from core import health, otp


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages without the icon link too (the API, plain-text errors)."""
    return HttpResponseRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    # Staff land on My work, the support queue.
    path("", RedirectView.as_view(pattern_name="support:work", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", otp.two_factor, name="two_factor"),
    path("accounts/two-factor/verify/", otp.two_factor_verify, name="two_factor_verify"),
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("support/", include("support.urls")),
    path("reports/", include("metrics.urls")),
    path("api/", include("config.api_urls")),
    # Staff survey pages under /surveys/, the public answer page under /s/.
    path("", include("surveys.urls")),
]

handler400 = "core.errors.bad_request"
handler500 = "core.errors.server_error"

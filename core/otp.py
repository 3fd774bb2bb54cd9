"""Two-factor sign-in (TOTP, django-otp) for staff.

Optional for everyone, required for the roles in settings.OTP_REQUIRED_ROLES (e.g. "manager,admin").
After the password, the session records what is still owed: "verify" (a code from the user's
authenticator app), "setup" (a required role without a device yet) or nothing. The middleware reads only
that session key, so it costs no query; until the debt is paid every staff page redirects to the
two-factor page and the API (by session) answers 403.
"""

import base64
from collections.abc import Callable
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.roles import role_of

SESSION_KEY = "rapport_otp_owed"
VERIFY, SETUP = "verify", "setup"
# Pages reachable while a code is owed: signing in and out, the two-factor pages, public and static files.
EXEMPT_PREFIXES = ("/accounts/", "/s/", "/static/", "/i18n/", "/healthz", "/favicon.ico")


def required_for(user: Any) -> bool:
    role = role_of(user)
    return role is not None and role.name.lower() in {r.strip().lower() for r in settings.OTP_REQUIRED_ROLES}


def owed_after_login(user: Any) -> str | None:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    return SETUP if required_for(user) else None


def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    owed = owed_after_login(user)
    if owed:
        request.session[SESSION_KEY] = owed
    else:
        request.session.pop(SESSION_KEY, None)


user_logged_in.connect(_on_login, dispatch_uid="rapport_otp_on_login")


class OTPRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES and not request.path_info.startswith(EXEMPT_PREFIXES):
            owed = request.session.get(SESSION_KEY)
            if owed:
                if request.path_info.startswith("/api/"):
                    return JsonResponse({"detail": "Two-factor verification required."}, status=403)
                target = reverse("two_factor_verify" if owed == VERIFY else "two_factor")
                return HttpResponseRedirect(f"{target}?next={request.get_full_path()}")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$", label="Code from your authenticator app", error_messages={"invalid": "Six digits."}
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/"


def _qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (scan the code, type one code to confirm), or remove it if optional."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None and request.session.get(SESSION_KEY) == VERIFY:
        return HttpResponseRedirect(reverse("two_factor_verify"))
    if request.method == "POST" and request.POST.get("action") == "remove" and confirmed is not None:
        if required_for(user):
            return render(request, "registration/two_factor.html", {"device": confirmed, "required": True}, status=400)
        TOTPDevice.objects.filter(user=user).delete()
        return HttpResponseRedirect(reverse("two_factor"))
    if confirmed is not None:
        return render(request, "registration/two_factor.html", {"device": confirmed, "required": required_for(user)})
    with transaction.atomic():
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if pending is None:
            pending = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"].strip()):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            request.session.pop(SESSION_KEY, None)
            return HttpResponseRedirect(_next(request))
        form.add_error("code", "That code is not right. Check the time on your phone and try the newest code.")
    context = {
        "form": form,
        "pending": pending,
        "secret": base64.b32encode(pending.bin_key).decode(),
        "qr": _qr_data_uri(pending.config_url),
        "required": required_for(user),
        "next": _next(request),
    }
    return render(request, "registration/two_factor.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator app (throttled by django-otp)."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return HttpResponseRedirect(reverse("two_factor"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            otp_login(request, device)
            request.session.pop(SESSION_KEY, None)
            return HttpResponseRedirect(_next(request))
        form.add_error("code", "That code is not right, or too many tries: wait a little and use the newest code.")
    status = 400 if form.errors else 200
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}, status=status)

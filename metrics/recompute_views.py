"""The recompute button of the report pages: start a full recompute, poll its progress."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from customers.roles import Role, role_required
from metrics.models import RecomputeRun
from metrics.report_selectors import latest_run, run_is_active, run_is_dead

manager_required = role_required(Role.MANAGER)


def _run_json(run: RecomputeRun | None) -> dict[str, Any]:
    if run is None:
        return {"run": None}
    return {
        "run": {
            "id": run.pk,
            "status": run.status,
            "status_label": run.get_status_display(),
            "progress_percent": run.progress_percent,
            "active": run_is_active(run),
            "dead": run_is_dead(run),
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "error": run.error,
        },
    }


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or reverse("metrics:overview")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse("metrics:overview")


@manager_required
@require_POST
def recompute_start(request: HttpRequest) -> HttpResponse:
    """Starts a full recompute unless one is running; answers JSON to scripts, redirects forms back."""
    previous = latest_run()
    if run_is_active(previous):
        run, started = previous, False
    else:
        from metrics.services import start_full_recompute

        # The service applies the same liveness rule under a lock: it answers with a live run started
        # meanwhile instead of a new one, and then nothing was started.
        run = start_full_recompute(started_by=request.user)
        started = previous is None or run.pk != previous.pk
    message = (
        "Recompute started: the figures update when it finishes." if started else "A recompute is already running."
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"started": started, "message": message, **_run_json(run)}, status=202 if started else 200)
    (messages.success if started else messages.info)(request, message)
    return redirect(_safe_next(request))


@manager_required
@require_GET
def recompute_status(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_run_json(latest_run()))

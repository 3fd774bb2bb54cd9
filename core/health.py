"""/healthz for load balancers and monitoring: JSON, no authentication, no secrets.

The status is 503 only when the database is unreachable (nothing can be served then). The broker and the
age of the last finished full recompute are reported beside it; the app works without them (writes
keep their stale marks, the sweep catches up), so they fail the check only with ?strict=1, which
monitoring uses to alert.
"""

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods


def _database() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is the check.
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _broker() -> dict[str, Any]:
    from config.celery import app

    started = time.monotonic()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=settings.REDIS_CONNECT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _last_full_recompute(database_ok: bool) -> dict[str, Any]:
    if not database_ok:
        return {"ok": False, "error": "database unavailable"}
    from metrics.models import RecomputeRun

    try:
        finished = (
            RecomputeRun.objects.filter(status=RecomputeRun.Status.DONE)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
    except Exception as exc:  # noqa: BLE001 - the health check itself never fails.
        return {"ok": False, "error": type(exc).__name__}
    if finished is None:
        return {"ok": False, "age_seconds": None}
    age = (timezone.now() - finished).total_seconds()
    return {"ok": age <= settings.HEALTHZ_MAX_RECOMPUTE_AGE, "age_seconds": round(age)}


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    checks = {"database": database, "broker": _broker(), "last_full_recompute": _last_full_recompute(database["ok"])}
    strict = request.GET.get("strict") in ("1", "true")
    healthy = all(c["ok"] for c in checks.values()) if strict else database["ok"]
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from avhopp.celery import app as celery_app
from avhopp.database import planned_for_values
from avhopp.panels import panels_for


@login_required
@planned_for_values()
def home_view(request: HttpRequest) -> HttpResponse:
    return render(request, "avhopp/home.html", {"panels": panels_for("start", request)})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool:
    if celery_app.conf.task_always_eager:
        return True  # the embedded default has no broker to be down
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@never_cache
@require_GET
def healthz_view(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": "ok" if _database_ok() else "down",
        "broker": "ok" if _broker_ok() else "down",
    }
    if celery_app.conf.task_always_eager:
        checks["broker"] = "eager"
    healthy = all(state in {"ok", "eager"} for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )


def server_error_view(request: HttpRequest) -> HttpResponse:
    """Errors answer with a plain page and no traceback; a database outage with 503.

    Called by Django inside its exception handler, so the exception is still current. The
    templates extend nothing and need no database, since that may be what failed.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(render_to_string("500.html"), status=500)

"""The statistics page: the reader's scope, a period, each figure as a chart and a table."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from avhopp.audit import audit_record
from avhopp.models import AuditAction
from followup.forms import PeriodForm
from followup.policy import StatisticsAction, StatisticsPolicy
from followup.presentation import figures
from followup.selectors import statistics


@require_GET
@login_required
def statistics_view(request: HttpRequest) -> HttpResponse:
    scope = StatisticsPolicy.check(request.user, StatisticsAction.VIEW)
    default = PeriodForm.default_period()
    bound = "start" in request.GET or "end" in request.GET
    form = PeriodForm(request.GET if bound else {"start": default.start, "end": default.end})
    if not form.is_valid():
        return render(
            request, "followup/statistics.html", {"form": form, "scope": scope}, status=400
        )
    period = form.period()
    audit_record(
        actor=request.user,
        action=AuditAction.STATISTICS_VIEW,
        reason=f"{'national' if scope.national else 'municipal'} {period.start}..{period.end}",
    )
    stats = statistics(request.user, period)
    return render(
        request,
        "followup/statistics.html",
        {"form": form, "scope": scope, "stats": stats, "figures": figures(stats)},
    )

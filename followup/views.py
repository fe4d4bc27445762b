"""The statistics page: the reader's scope, a period, each figure as a chart and a table."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from avhopp.audit import audit_record
from avhopp.models import AuditAction
from avhopp.storage import document_response
from followup import services
from followup.forms import PeriodForm, ReportForm
from followup.policy import StatisticsAction, StatisticsPolicy
from followup.presentation import figures
from followup.selectors import get_report_for_user, statistics
from followup.tables import one_way
from register.policy import RegisterAction, RegisterPolicy
from register.selectors import register_overview
from register.services import enqueue_register_build


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
    context = {
        "form": form,
        "scope": scope,
        "stats": stats,
        "figures": figures(stats),
        "report_form": ReportForm(initial=ReportForm.last_quarter()),
        "reports": StatisticsPolicy.reports_visible_to(request.user)[:5],
    }
    return render(request, "followup/statistics.html", context)


@require_GET
@login_required
def register_view(request: HttpRequest) -> HttpResponse:
    """The national register's overview: its size, its builds, and how many people more than
    one municipality registered (counts, suppressed; never who)."""
    RegisterPolicy.check(request.user, RegisterAction.OVERVIEW)
    audit_record(actor=request.user, action=AuditAction.REGISTER_VIEW)
    overview = register_overview(request.user)
    repeated = one_way(
        _("Personer med mer än ett ärende"),
        _("Personer"),
        [(str(n), _("%(n)s ärenden") % {"n": n}) for n in overview.repeated],
        {str(n): people for n, people in overview.repeated.items()},
        suppress=True,
    )
    return render(request, "followup/register.html", {"overview": overview, "repeated": repeated})


@require_POST
@login_required
def register_build_view(request: HttpRequest) -> HttpResponse:
    RegisterPolicy.check(request.user, RegisterAction.BUILD)
    audit_record(actor=request.user, action=AuditAction.REGISTER_BUILD, reason="requested")
    transaction.on_commit(enqueue_register_build)
    messages.success(request, _("Registret byggs nu; sidan visar bygget när det är klart."))
    return redirect("followup:register")


@require_POST
@login_required
def report_order_view(request: HttpRequest) -> HttpResponse:
    StatisticsPolicy.check(request.user, StatisticsAction.VIEW)
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            report = services.report_order(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(report)
    return render(request, "followup/report_order.html", {"report_form": form}, status=400)


@require_GET
@login_required
def report_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk)
    return render(request, "followup/report.html", {"report": report})


@never_cache
@require_GET
@login_required
def report_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    report = get_report_for_user(request.user, pk)
    label = f"{report.status_label} ({report.progress} %)"
    return JsonResponse({"status": report.status, "label": label, "pending": report.is_pending})


@never_cache
@require_GET
@login_required
def report_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk)
    if not report.document_path:
        return HttpResponse(_("Rapporten är inte klar."), status=409)
    audit_record(actor=request.user, action=AuditAction.REPORT_DOWNLOAD, obj=report)
    return document_response(
        report.document_path, filename=f"kvartalsrapport-{report.year}-Q{report.quarter}.pdf"
    )

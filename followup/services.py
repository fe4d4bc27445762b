"""Quarterly reports: ordered from the statistics page, made by a Celery job (the same
figures, charts and tables as the page, through the shared PDF and document pipeline), with
their progress stored for the page to poll."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.models import AuditAction
from avhopp.pdf import render_pdf
from avhopp.storage import write_document
from followup.models import PENDING_REPORT, QuarterlyReport, ReportStatus
from followup.policy import StatisticsAction, StatisticsPolicy
from followup.presentation import figures
from followup.selectors import Period, statistics

if TYPE_CHECKING:
    from avhopp.models import User


def quarter_period(year: int, quarter: int) -> Period:
    start = date(year, 3 * quarter - 2, 1)
    following = date(year + quarter // 4, 3 * quarter % 12 + 1, 1)
    return Period(start, min(following - timedelta(days=1), timezone.localdate()))


@transaction.atomic
def report_order(*, by: User, year: int, quarter: int) -> QuarterlyReport:
    StatisticsPolicy.check(by, StatisticsAction.VIEW)
    if date(year, 3 * quarter - 2, 1) > timezone.localdate():
        raise ValidationError(_("Kvartalet har inte börjat än."))
    report = QuarterlyReport.objects.create(
        agency=by.agency, requested_by=by, year=year, quarter=quarter
    )
    audit_record(actor=by, action=AuditAction.REPORT_CREATE, obj=report, reason=str(report))
    transaction.on_commit(lambda: enqueue_report(report.pk))
    return report


def enqueue_report(report_id: int) -> bool:
    from followup.tasks import generate_report  # the tasks import this module

    return jobs.publish(generate_report, report_id)


def reports_requeue_stale(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    from followup.tasks import generate_report

    owed = QuarterlyReport.objects.filter(status__in=PENDING_REPORT)
    return jobs.requeue_stale(owed, task=generate_report, older_than=older_than, limit=100)


def _progress(report_id: int, percent: int, **fields: object) -> None:
    QuarterlyReport.objects.filter(pk=report_id).update(progress=percent, **fields)


def report_render(*, report_id: int) -> None:
    """Make the report's PDF. Idempotent: a done one is left alone, an interrupted one is
    made again under the same name."""
    with transaction.atomic():
        report = (
            QuarterlyReport.objects.select_for_update()
            .select_related("requested_by", "agency")
            .filter(pk=report_id)
            .first()
        )
        if report is None or report.status not in PENDING_REPORT:
            return
        report.status, report.progress, report.queued_at = (
            ReportStatus.GENERATING,
            10,
            timezone.now(),
        )
        report.save(update_fields=["status", "progress", "queued_at"])
    # The orderer's scope as it is now: a coordinator who lost the role gets no report.
    StatisticsPolicy.check(report.requested_by, StatisticsAction.VIEW)
    with translation.override("sv"):
        stats = statistics(report.requested_by, quarter_period(report.year, report.quarter))
        _progress(report_id, 40)
        shown = figures(stats)
        _progress(report_id, 70)
        html = render_to_string(
            "followup/report_document.html",
            {"report": report, "stats": stats, "figures": shown, "made_at": timezone.now()},
        )
    pdf = render_pdf(html)
    relative = f"reports/{report.pk}.pdf"
    write_document(relative, pdf.content)
    _progress(
        report_id,
        100,
        status=ReportStatus.READY,
        document_path=relative,
        page_count=pdf.page_count,
        generated_at=timezone.now(),
        error_message="",
    )


def report_mark_failed(*, report_id: int, error: str) -> None:
    QuarterlyReport.objects.filter(pk=report_id, status__in=PENDING_REPORT).update(
        status=ReportStatus.FAILED, error_message=error[:300]
    )

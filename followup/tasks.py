"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import Task, shared_task

from avhopp.tasks import DOCUMENT_TASK, run_document_job
from followup import services


@shared_task(name="followup.tasks.generate_report", **DOCUMENT_TASK)
def generate_report(self: Task, report_id: int) -> None:
    run_document_job(
        self,
        render=lambda: services.report_render(report_id=report_id),
        mark_failed=lambda error: services.report_mark_failed(report_id=report_id, error=error),
        failed="rapporten kunde inte skapas.",
    )


@shared_task(name="followup.tasks.requeue_stale")
def requeue_stale() -> int:
    return services.reports_requeue_stale()

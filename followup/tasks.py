"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from followup import services

TRANSIENT_ERRORS = (DatabaseError, OSError)


@shared_task(
    bind=True,
    name="followup.tasks.generate_report",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def generate_report(self, report_id: int) -> None:
    try:
        services.report_render(report_id=report_id)
    except TRANSIENT_ERRORS:
        if self.request.retries >= self.max_retries:
            services.report_mark_failed(
                report_id=report_id, error="Tillfälligt fel kvarstod efter flera försök."
            )
        raise
    except Exception as error:
        services.report_mark_failed(
            report_id=report_id, error=f"{type(error).__name__}: rapporten kunde inte skapas."
        )
        raise


@shared_task(name="followup.tasks.requeue_stale")
def requeue_stale() -> int:
    return services.reports_requeue_stale()

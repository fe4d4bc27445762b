"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from research import services

TRANSIENT_ERRORS = (DatabaseError, OSError)


@shared_task(
    bind=True,
    name="research.tasks.build_extract",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def build_extract(self, extract_id: int) -> None:
    try:
        services.extract_build(extract_id=extract_id)
    except TRANSIENT_ERRORS:
        if self.request.retries >= self.max_retries:
            services.extract_mark_failed(
                extract_id=extract_id, error="Tillfälligt fel kvarstod efter flera försök."
            )
        raise
    except Exception as error:
        services.extract_mark_failed(
            extract_id=extract_id, error=f"{type(error).__name__}: uttaget kunde inte byggas."
        )
        raise


@shared_task(name="research.tasks.requeue_stale")
def requeue_stale() -> int:
    return services.extracts_requeue_stale()

"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import Task, shared_task

from avhopp.tasks import DOCUMENT_TASK, run_document_job
from research import services


@shared_task(name="research.tasks.build_extract", **DOCUMENT_TASK)
def build_extract(self: Task, extract_id: int) -> None:
    run_document_job(
        self,
        render=lambda: services.extract_build(extract_id=extract_id),
        mark_failed=lambda error: services.extract_mark_failed(extract_id=extract_id, error=error),
        failed="uttaget kunde inte byggas.",
    )


@shared_task(name="research.tasks.requeue_stale")
def requeue_stale() -> int:
    return services.extracts_requeue_stale()

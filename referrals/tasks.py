"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import Task, shared_task

from avhopp.tasks import DOCUMENT_TASK, run_document_job
from referrals import services


@shared_task(name="referrals.tasks.generate_document", **DOCUMENT_TASK)
def generate_document(self: Task, referral_id: int) -> None:
    run_document_job(
        self,
        render=lambda: services.referral_render(referral_id=referral_id),
        mark_failed=lambda error: services.referral_mark_failed(
            referral_id=referral_id, error=error
        ),
        failed="dokumentet kunde inte skapas.",
    )


@shared_task(name="referrals.tasks.requeue_stale")
def requeue_stale() -> int:
    return services.referrals_requeue_stale()

"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task

from avhopp.tasks import RETRIED_TASK
from relocations import pdf, services


@shared_task(name="relocations.tasks.generate_agreement", **RETRIED_TASK)
def generate_agreement(relocation_id: int) -> None:
    pdf.agreement_render(relocation_id=relocation_id)


@shared_task(name="relocations.tasks.requeue_agreements")
def requeue_agreements() -> int:
    return services.agreements_requeue_stale()


@shared_task(name="relocations.tasks.expire_answers")
def expire_answers() -> int:
    return services.relocations_expire()

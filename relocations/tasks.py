"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from relocations import pdf, services

TRANSIENT_ERRORS = (DatabaseError, OSError)


@shared_task(
    name="relocations.tasks.generate_agreement",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def generate_agreement(relocation_id: int) -> None:
    pdf.agreement_render(relocation_id=relocation_id)


@shared_task(name="relocations.tasks.requeue_agreements")
def requeue_agreements() -> int:
    return services.agreements_requeue_stale()


@shared_task(name="relocations.tasks.expire_answers")
def expire_answers() -> int:
    return services.relocations_expire()

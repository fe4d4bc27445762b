"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task

from avhopp.tasks import RETRIED_TASK
from method import pdf, services


@shared_task(name="method.tasks.generate_agreement", **RETRIED_TASK)
def generate_agreement(agreement_id: int) -> None:
    pdf.agreement_render(agreement_id=agreement_id)


@shared_task(name="method.tasks.requeue_agreements")
def requeue_agreements() -> int:
    return services.agreements_requeue_stale()


@shared_task(name="method.tasks.send_outcome_reminders")
def send_outcome_reminders() -> int:
    return services.outcome_reminders_send()

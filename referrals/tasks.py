"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from referrals import services

TRANSIENT_ERRORS = (DatabaseError, OSError)


@shared_task(
    bind=True,
    name="referrals.tasks.generate_document",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def generate_document(self, referral_id: int) -> None:
    try:
        services.referral_render(referral_id=referral_id)
    except TRANSIENT_ERRORS:
        if self.request.retries >= self.max_retries:
            services.referral_mark_failed(
                referral_id=referral_id, error="Tillfälligt fel kvarstod efter flera försök."
            )
        raise
    except Exception as error:
        # Not transient: show the user a failure with a retry button instead of looping.
        services.referral_mark_failed(
            referral_id=referral_id, error=f"{type(error).__name__}: dokumentet kunde inte skapas."
        )
        raise


@shared_task(name="referrals.tasks.requeue_stale")
def requeue_stale() -> int:
    return services.referrals_requeue_stale()

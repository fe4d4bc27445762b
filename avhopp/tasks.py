from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError
from django.utils import timezone

from avhopp import notifications, services
from avhopp.audit_partitions import audit_partitions_ahead as make_partitions_ahead


@shared_task(name="avhopp.tasks.ping")
def ping() -> str:
    """A trivial task that proves a worker is consuming from the broker."""
    return "pong"


@shared_task(name="avhopp.tasks.audit_partitions_ahead")
def audit_partitions_ahead() -> int:
    """Daily: the log's partitions for this month and the next three (idempotent). Months
    are UTC months, as the partitions' bounds are."""
    return len(make_partitions_ahead(today=timezone.now().date()))


TRANSIENT_ERRORS = (DatabaseError, OSError)

# Options of every task whose job must be carried out, whatever befalls the worker or the
# database meanwhile: retried on a transient error, acknowledged only when done, so a worker
# lost midway leaves the job for another.
RETRIED_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}

# Options of every task that renders a document: bound, as run_document_job reads how many
# retries are left.
DOCUMENT_TASK: dict[str, Any] = {**RETRIED_TASK, "bind": True}


def run_document_job(
    task: Task, *, render: Callable[[], None], mark_failed: Callable[[str], None], failed: str
) -> None:
    """Render; mark the job failed once retries run out, or at once on an error that is not
    transient, so the user sees a failure with a retry button instead of a loop."""
    try:
        render()
    except TRANSIENT_ERRORS:
        if task.request.retries >= task.max_retries:
            mark_failed("Tillfälligt fel kvarstod efter flera försök.")
        raise
    except Exception as error:
        mark_failed(f"{type(error).__name__}: {failed}")
        raise


# Mail: retried while the server is unreachable or refuses for now (smtplib's errors are
# OSErrors), acknowledged only once sent.
MAIL_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="avhopp.tasks.send_notification_mail", **MAIL_TASK)
def send_notification_mail(notification_id: int) -> None:
    notifications.notification_mail_send(notification_id=notification_id)


@shared_task(name="avhopp.tasks.requeue_notification_mails")
def requeue_notification_mails() -> int:
    return notifications.notification_mails_requeue_stale()


@shared_task(name="avhopp.tasks.prune_notifications")
def prune_notifications() -> int:
    return notifications.notifications_prune()


@shared_task(name="avhopp.tasks.send_invitation", **MAIL_TASK)
def send_invitation(user_id: int) -> None:
    services.invitation_mail_send(user_id=user_id)

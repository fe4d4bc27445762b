from __future__ import annotations

from celery import shared_task
from django.utils import timezone

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

"""Publishing Celery jobs, and publishing again the ones left owed. Every app's background
work goes through these two: the request writes its row as owed (queued) and publishes the
job after commit; a periodic requeuer publishes again what a broker outage or a vanished
worker left behind."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from celery import Task
    from django.db.models import QuerySet

logger = logging.getLogger(__name__)


def publish(task: Task, *args: Any) -> bool:
    """Publish `task(*args)`; False, with a warning logged, if the broker would not take it.

    A broker outage must never fail the request that published (nor lose what it wrote):
    the row it wrote stays owed, and the app's requeuer, the nightly run or the user's retry
    publishes it later. So any error is swallowed here, never raised. `.delay` is called on
    the task itself, not `send_task` by name, so that CELERY_TASK_ALWAYS_EAGER is honoured."""
    try:
        task.delay(*args)
    except Exception:
        logger.warning("broker unavailable; %s%r left owed", task.name, args, exc_info=True)
        return False
    return True


def requeue_stale(
    owed: QuerySet[Any],
    *,
    task: Task,
    older_than: timedelta,
    key: str = "pk",
    limit: int = 500,
) -> int:
    """Publish `task(row's key)` again for at most `limit` of the `owed` rows queued more than
    `older_than` ago; answer how many the broker took. Each row's `queued_at` is stamped
    before it is published, so the next run leaves it alone for another `older_than` while
    its job is on the way. A job the broker refuses stays owed for the next run."""
    stale = owed.filter(queued_at__lt=timezone.now() - older_than)
    rows = owed.model._default_manager
    requeued = 0
    for value in list(stale.values_list(key, flat=True)[:limit]):
        rows.filter(**{key: value}).update(queued_at=timezone.now())
        requeued += publish(task, value)
    return requeued

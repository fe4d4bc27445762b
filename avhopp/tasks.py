from __future__ import annotations

from celery import shared_task


@shared_task(name="avhopp.tasks.ping")
def ping() -> str:
    """A trivial task that proves a worker is consuming from the broker."""
    return "pong"

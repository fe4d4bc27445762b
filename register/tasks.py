"""Thin Celery tasks: a service call, nothing else."""

from __future__ import annotations

from celery import shared_task

from register import services


@shared_task(name="register.tasks.build", acks_late=True)
def build() -> int:
    """The nightly build (beat), and the national coordinator's build now."""
    return services.register_build().pk

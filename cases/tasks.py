from __future__ import annotations

from celery import shared_task

from cases import services


@shared_task(name="cases.tasks.expire_consents")
def expire_consents() -> int:
    return services.consents_expire()


@shared_task(name="cases.tasks.send_reminders")
def send_reminders() -> int:
    return services.reminders_send()

from __future__ import annotations

from celery import Task, shared_task

from avhopp.tasks import DOCUMENT_TASK, run_document_job
from cases import journal_pdf, services


@shared_task(name="cases.tasks.expire_consents")
def expire_consents() -> int:
    return services.consents_expire()


@shared_task(name="cases.tasks.send_reminders")
def send_reminders() -> int:
    return services.reminders_send()


@shared_task(name="cases.tasks.render_journal_extract", **DOCUMENT_TASK)
def render_journal_extract(self: Task, extract_id: int) -> None:
    run_document_job(
        self,
        render=lambda: journal_pdf.journal_extract_render(extract_id=extract_id),
        mark_failed=lambda error: services.journal_extract_mark_failed(
            extract_id=extract_id, error=error
        ),
        failed="journalutdraget kunde inte skapas.",
    )


@shared_task(name="cases.tasks.requeue_journal_extracts")
def requeue_journal_extracts() -> int:
    return services.journal_extracts_requeue_stale()

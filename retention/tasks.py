"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import Task, shared_task
from django.utils import timezone

from avhopp.tasks import DOCUMENT_TASK, RETRIED_TASK, run_document_job
from retention import documents, services
from retention.models import ArchiveExport, Extract


@shared_task(name="retention.tasks.propose_gallring")
def propose_gallring() -> int:
    return services.gallring_propose_all(as_of=timezone.localdate())


@shared_task(name="retention.tasks.execute_gallring", **RETRIED_TASK)
def execute_gallring(proposal_id: int) -> None:
    services.gallring_execute(proposal_id=proposal_id)


@shared_task(name="retention.tasks.expire_audit_partitions")
def expire_audit_partitions() -> int:
    return len(services.audit_partitions_expire(today=timezone.now().date()))


@shared_task(name="retention.tasks.render_extract", **DOCUMENT_TASK)
def render_extract(self: Task, extract_id: int) -> None:
    run_document_job(
        self,
        render=lambda: documents.extract_render(extract_id=extract_id),
        mark_failed=lambda error: documents.document_failed(
            model=Extract, object_id=extract_id, error=error
        ),
        failed="utdraget kunde inte skapas.",
    )


@shared_task(name="retention.tasks.render_archive_export", **DOCUMENT_TASK)
def render_archive_export(self: Task, export_id: int) -> None:
    run_document_job(
        self,
        render=lambda: documents.archive_export_render(export_id=export_id),
        mark_failed=lambda error: documents.document_failed(
            model=ArchiveExport, object_id=export_id, error=error
        ),
        failed="arkivexporten kunde inte skapas.",
    )


@shared_task(name="retention.tasks.requeue_documents")
def requeue_documents() -> int:
    return documents.documents_requeue_stale()


@shared_task(name="retention.tasks.requeue_gallring")
def requeue_gallring() -> int:
    return services.gallring_requeue_stale()

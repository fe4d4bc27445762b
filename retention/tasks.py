"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from retention import documents, services
from retention.models import ArchiveExport, Extract

TRANSIENT_ERRORS = (DatabaseError, OSError)
RETRYING = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(name="retention.tasks.propose_gallring")
def propose_gallring() -> int:
    return services.gallring_propose_all(as_of=timezone.localdate())


@shared_task(name="retention.tasks.execute_gallring", **RETRYING)
def execute_gallring(proposal_id: int) -> None:
    services.gallring_execute(proposal_id=proposal_id)


@shared_task(name="retention.tasks.expire_audit_partitions")
def expire_audit_partitions() -> int:
    return len(services.audit_partitions_expire(today=timezone.now().date()))


@shared_task(name="retention.tasks.render_extract", **RETRYING)
def render_extract(extract_id: int) -> None:
    try:
        documents.extract_render(extract_id=extract_id)
    except Exception as error:
        if not isinstance(error, TRANSIENT_ERRORS):
            documents.document_failed(Extract, extract_id, type(error).__name__)
        raise


@shared_task(name="retention.tasks.render_archive_export", **RETRYING)
def render_archive_export(export_id: int) -> None:
    try:
        documents.archive_export_render(export_id=export_id)
    except Exception as error:
        if not isinstance(error, TRANSIENT_ERRORS):
            documents.document_failed(ArchiveExport, export_id, type(error).__name__)
        raise

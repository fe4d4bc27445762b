"""The periodic requeuers: every one is on the beat schedule (a requeuer beat never runs
leaves its rows owed for ever), and every scheduled job names a task a worker has; the
person's extracts and the archive exports a broker outage left queued are published again
and made, and fresh ones are left alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from avhopp.celery import app as celery_app
from avhopp.models import User
from avhopp.storage import document_path
from cases.models import Case
from retention import documents
from retention.models import ArchiveExport, DocumentStatus, Extract, ExtractKind
from retention.tasks import render_archive_export, render_extract
from tests.worker_support import DEAD_BROKER, broker_at, take_queued


def _registered_tasks() -> set[str]:
    # What a worker registers: every installed app's tasks module, found by autodiscovery.
    celery_app.loader.import_default_modules()
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


def test_every_requeuer_is_on_the_beat_schedule() -> None:
    requeuers = {name for name in _registered_tasks() if "requeue" in name}
    assert {
        "avhopp.tasks.requeue_notification_mails",
        "cases.tasks.requeue_journal_extracts",
        "method.tasks.requeue_agreements",
    } <= requeuers  # the registry was read whole, not just what this module imported
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert requeuers - scheduled == set()


def test_every_beat_entry_names_a_registered_task() -> None:
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled - _registered_tasks() == set()


@pytest.mark.services
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker")
@pytest.mark.django_db
def test_retention_documents_the_broker_missed_are_published_again_and_made(
    case: Case, worker: User, doc_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with broker_at(DEAD_BROKER), django_capture_on_commit_callbacks(execute=True) as callbacks:
        extract = documents.extract_request(
            case=case, by=worker, kind=ExtractKind.LOG, identity_checked="Pass"
        )
        export = documents.archive_export_create(case=case)
    assert len(callbacks) == 2  # both published, both refused: the orders stand all the same
    owed = {render_extract.name: extract, render_archive_export.name: export}
    assert {name: take_queued(name, {row.pk}) for name, row in owed.items()} == dict.fromkeys(
        owed, 0
    )

    # Just ordered: not published again yet (their jobs may be on the way).
    assert documents.documents_requeue_stale() == 0
    assert {name: take_queued(name, {row.pk}) for name, row in owed.items()} == dict.fromkeys(
        owed, 0
    )
    long_ago = timezone.now() - timedelta(minutes=5)
    Extract.objects.filter(pk=extract.pk).update(queued_at=long_ago)
    ArchiveExport.objects.filter(pk=export.pk).update(queued_at=long_ago)
    with django_capture_on_commit_callbacks(execute=False):  # ordered now, its job on the way
        fresh = documents.extract_request(
            case=case, by=worker, kind=ExtractKind.REGISTER, identity_checked="Pass"
        )
    try:
        assert documents.documents_requeue_stale() == 2
    finally:
        published = {name: take_queued(name, {row.pk}) for name, row in owed.items()}
        fresh_published = take_queued(render_extract.name, {fresh.pk})
    assert published == dict.fromkeys(owed, 1)
    assert fresh_published == 0

    render_extract.apply(args=[extract.pk])
    render_archive_export.apply(args=[export.pk])
    for row in (extract, export):
        row.refresh_from_db()
        assert row.status == DocumentStatus.READY
        assert document_path(row.document_path).exists()
    # Made: owed no more, however long ago they were published.
    Extract.objects.filter(pk=extract.pk).update(queued_at=long_ago)
    ArchiveExport.objects.filter(pk=export.pk).update(queued_at=long_ago)
    assert documents.documents_requeue_stale() == 0

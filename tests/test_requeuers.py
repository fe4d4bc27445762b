"""The periodic requeuers: every one is on the beat schedule (a requeuer beat never runs
leaves its rows owed for ever), and every scheduled job names a task a worker has."""

from __future__ import annotations

from avhopp.celery import app as celery_app


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

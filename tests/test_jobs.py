"""Publishing Celery jobs (avhopp.jobs): a broker outage answers False, is logged and leaves
the row owed, never failing the request; the requeuer publishes again what was left owed,
stamping each row, passing over fresh ones, within its limit, counting what the broker took."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from celery import Task
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from avhopp import jobs
from avhopp.models import User
from followup import services as followup_services
from followup.forms import quarter_of
from followup.models import PENDING_REPORT, QuarterlyReport, ReportStatus
from followup.tasks import generate_report
from relocations import services as relocation_services
from relocations.models import PlacementAgreement, Relocation
from relocations.tasks import generate_agreement
from tests.worker_support import DEAD_BROKER, broker_at, take_queued

pytestmark = pytest.mark.django_db

STALE = timedelta(minutes=5)


class StandIn:
    """The broker behind one task's `delay`: records the jobs it takes, and refuses those in
    `refused` (or all, while `down`) the way kombu does when Redis is unreachable."""

    def __init__(self) -> None:
        self.taken: list[tuple[Any, ...]] = []
        self.refused: set[tuple[Any, ...]] = set()
        self.down = False


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Callable[[Task], StandIn]:
    def stand_in(task: Task) -> StandIn:
        fake = StandIn()

        def delay(self: Task, *args: Any) -> None:
            if fake.down or args in fake.refused:
                raise OperationalError("Error 111 connecting to 127.0.0.1:9. Connection refused.")
            fake.taken.append(args)

        # Each task is an instance of a class of its own: patching the class patches it alone.
        monkeypatch.setattr(type(task._get_current_object()), "delay", delay)
        return fake

    return stand_in


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "avhopp.jobs" and r.levelname == "WARNING"]


def _report(by: User, *, queued: timedelta, status: str = ReportStatus.QUEUED) -> QuarterlyReport:
    return QuarterlyReport.objects.create(
        agency=by.agency,
        requested_by=by,
        year=2024,
        quarter=1,
        status=status,
        queued_at=timezone.now() - queued,
    )


def _owed_reports() -> QuerySet[QuarterlyReport]:
    return QuarterlyReport.objects.filter(status__in=PENDING_REPORT)


# --- publish ----------------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker")
def test_publish_hands_the_job_to_the_real_broker() -> None:
    try:
        assert jobs.publish(generate_report, -7) is True
    finally:
        queued = take_queued(generate_report.name, {-7})
    assert queued == 1


@pytest.mark.services
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker")
def test_a_real_broker_outage_answers_false_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="avhopp.jobs"), broker_at(DEAD_BROKER):
        assert jobs.publish(generate_report, -8) is False
    [warning] = _warnings(caplog)
    assert "followup.tasks.generate_report(-8,)" in warning.getMessage()
    assert warning.exc_info is not None
    assert take_queued(generate_report.name, {-8}) == 0


@pytest.mark.parametrize(
    "outage",
    [OperationalError("Connection refused"), ConnectionRefusedError(111, "Connection refused")],
)
def test_an_outage_after_the_order_leaves_the_report_owed_and_the_order_done(
    outage: Exception,
    national: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def refuse(self: Task, *args: Any) -> None:
        raise outage

    monkeypatch.setattr(type(generate_report._get_current_object()), "delay", refuse)
    year, quarter = quarter_of(timezone.localdate())
    with (
        caplog.at_level(logging.WARNING, logger="avhopp.jobs"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        report = followup_services.report_order(by=national, year=year, quarter=quarter)
    assert len(callbacks) == 1  # the publish ran, and raised nothing
    report.refresh_from_db()
    assert report.status == ReportStatus.QUEUED
    [warning] = _warnings(caplog)
    assert f"followup.tasks.generate_report({report.pk},)" in warning.getMessage()
    assert warning.exc_info is not None and warning.exc_info[1] is outage


def test_publish_answers_true_when_the_broker_takes_the_job(
    broker: Callable[[Task], StandIn], caplog: pytest.LogCaptureFixture
) -> None:
    reports = broker(generate_report)
    with caplog.at_level(logging.WARNING, logger="avhopp.jobs"):
        assert jobs.publish(generate_report, 3) is True
    assert reports.taken == [(3,)]
    assert _warnings(caplog) == []


# --- requeue_stale ----------------------------------------------------------------------------


def test_the_requeuer_publishes_the_stale_owed_rows_and_stamps_them(
    national: User, broker: Callable[[Task], StandIn]
) -> None:
    reports = broker(generate_report)
    queued = _report(national, queued=timedelta(minutes=10))
    generating = _report(national, queued=timedelta(minutes=10), status=ReportStatus.GENERATING)
    fresh = _report(national, queued=timedelta(minutes=1))
    done = _report(national, queued=timedelta(minutes=10), status=ReportStatus.READY)
    before = timezone.now()
    assert jobs.requeue_stale(_owed_reports(), task=generate_report, older_than=STALE) == 2
    assert sorted(reports.taken) == [(queued.pk,), (generating.pk,)]
    for stamped in (queued, generating):
        stamped.refresh_from_db()
        assert stamped.queued_at >= before
    for left in (fresh, done):
        assert QuarterlyReport.objects.get(pk=left.pk).queued_at == left.queued_at
    # Stamped: the next run leaves them alone while their jobs are on the way.
    assert jobs.requeue_stale(_owed_reports(), task=generate_report, older_than=STALE) == 0
    assert len(reports.taken) == 2


def test_the_requeuer_publishes_no_more_than_its_limit_a_run(
    national: User, broker: Callable[[Task], StandIn]
) -> None:
    reports = broker(generate_report)
    stale = [_report(national, queued=timedelta(minutes=10 + n)) for n in range(3)]

    def requeue() -> int:
        return jobs.requeue_stale(_owed_reports(), task=generate_report, older_than=STALE, limit=2)

    assert requeue() == 2
    assert len(reports.taken) == 2
    [left] = [r for r in stale if (r.pk,) not in reports.taken]
    assert QuarterlyReport.objects.get(pk=left.pk).queued_at == left.queued_at
    assert requeue() == 1  # the next run takes the rest
    assert sorted(reports.taken) == sorted((r.pk,) for r in stale)
    assert requeue() == 0


def test_the_requeuer_counts_only_what_the_broker_took(
    national: User, broker: Callable[[Task], StandIn], caplog: pytest.LogCaptureFixture
) -> None:
    reports = broker(generate_report)
    taken, refused = (_report(national, queued=timedelta(minutes=10)) for _ in range(2))
    reports.refused.add((refused.pk,))
    with caplog.at_level(logging.WARNING, logger="avhopp.jobs"):
        assert jobs.requeue_stale(_owed_reports(), task=generate_report, older_than=STALE) == 1
    assert reports.taken == [(taken.pk,)]
    [warning] = _warnings(caplog)
    assert f"({refused.pk},)" in warning.getMessage()
    refused.refresh_from_db()
    assert refused.status == ReportStatus.QUEUED  # still owed: a later run publishes it
    reports.refused.clear()
    assert jobs.requeue_stale(_owed_reports(), task=generate_report, older_than=timedelta(0)) == 2
    assert (refused.pk,) in reports.taken


def test_the_requeuer_answers_nought_while_the_broker_is_down(
    national: User, broker: Callable[[Task], StandIn]
) -> None:
    reports = broker(generate_report)
    reports.down = True
    owed = [_report(national, queued=timedelta(minutes=10)) for _ in range(2)]
    assert jobs.requeue_stale(_owed_reports(), task=generate_report, older_than=STALE) == 0
    assert reports.taken == []
    assert {r.status for r in QuarterlyReport.objects.filter(pk__in=[r.pk for r in owed])} == {
        ReportStatus.QUEUED
    }


def test_the_requeuer_publishes_by_the_key_it_is_given(
    relocation: Relocation, broker: Callable[[Task], StandIn]
) -> None:
    """The relocations' agreements are published by relocation id, not their own."""
    agreements = broker(generate_agreement)
    agreement = PlacementAgreement.objects.create(
        pk=relocation.pk + 1000,  # so the two ids cannot coincide
        relocation=relocation,
        queued_at=timezone.now() - timedelta(minutes=10),
    )
    before = timezone.now()
    assert relocation_services.agreements_requeue_stale() == 1
    assert agreements.taken == [(relocation.pk,)]
    agreement.refresh_from_db()
    assert agreement.queued_at >= before
    PlacementAgreement.objects.filter(pk=agreement.pk).update(
        generated_at=timezone.now(), queued_at=timezone.now() - timedelta(minutes=10)
    )
    assert relocation_services.agreements_requeue_stale() == 0  # made: owed no more

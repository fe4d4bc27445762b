"""The audit log partitioned by month (avhopp migration 0008, avhopp.audit_partitions): every
partition refuses UPDATE and DELETE, months are made ahead by a job, an insert into a month
without its partition still lands (in the DEFAULT partition), and old months leave whole."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from avhopp.audit import audit_list
from avhopp.audit_partitions import (
    audit_partition_months,
    audit_partitions_ahead,
    audit_partitions_drop_before,
)
from avhopp.models import AuditAction, AuditEvent, AuditShownCase, User
from avhopp.tasks import audit_partitions_ahead as partitions_ahead_task

pytestmark = pytest.mark.django_db


def _partitions(parent: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass ORDER BY 1",
            [parent],
        )
        return [row[0] for row in cursor.fetchall()]


def _insert_at(when: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO avhopp_auditevent (occurred_at, username, agency_name, role, action,"
            " object_type, object_id, request_id, reason, case_id)"
            " VALUES (%s, '', '', '', 'case_view', '', '', '', '', 4711) RETURNING id",
            [when],
        )
        event_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO avhopp_auditshowncase (event_id, event_occurred_at, case_id)"
            " VALUES (%s, %s, 4711)",
            [event_id, when],
        )
    return event_id


def test_the_log_tables_are_partitioned_with_a_default() -> None:
    for parent in ("avhopp_auditevent", "avhopp_auditshowncase"):
        names = _partitions(parent)
        assert f"{parent}_default" in names
        assert len(names) >= 5  # this month, three ahead, the default


@pytest.mark.parametrize("parent", ["avhopp_auditevent", "avhopp_auditshowncase"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET case_id = 1", "DELETE FROM {table}"])
def test_every_partition_refuses_update_and_delete(parent: str, statement: str) -> None:
    for month in sorted(audit_partition_months()):
        _insert_at(datetime(month.year, month.month, 2, tzinfo=UTC))
    _insert_at(datetime(2091, 5, 5, tzinfo=UTC))  # no partition: the default
    partitions = _partitions(parent)
    for table in [parent, *partitions]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement.format(table=table))


def test_the_job_makes_months_ahead_and_is_idempotent() -> None:
    made = audit_partitions_ahead(today=date(2031, 12, 17))
    assert made == [date(2031, 12, 1), date(2032, 1, 1), date(2032, 2, 1), date(2032, 3, 1)]
    assert audit_partitions_ahead(today=date(2031, 12, 17)) == []
    assert "avhopp_auditshowncase_y2032m03" in _partitions("avhopp_auditshowncase")
    # The new partition has the trigger like every other.
    _insert_at(datetime(2032, 1, 1, tzinfo=UTC))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute("DELETE FROM avhopp_auditevent_y2032m01")


def test_the_beat_task_makes_this_month_and_next() -> None:
    partitions_ahead_task.apply()
    assert len(audit_partition_months()) >= 4


def test_an_insert_into_a_month_without_partition_lands_in_the_default() -> None:
    event_id = _insert_at(datetime(2088, 2, 29, 23, 59, tzinfo=UTC))
    assert AuditEvent.objects.get(pk=event_id).case_id == 4711
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM avhopp_auditevent_default WHERE id = %s", [event_id])
        assert cursor.fetchone()[0] == 1
    # The job leaves that month in the default rather than fail or move log rows.
    assert audit_partitions_ahead(today=date(2088, 2, 1), months_ahead=1) == [date(2088, 3, 1)]
    assert date(2088, 2, 1) not in audit_partition_months()


def test_lists_and_who_read_this_case_work_across_partitions(worker: User) -> None:
    event = audit_list(actor=worker, action=AuditAction.CASE_LIST, case_ids=[11, 12])
    shown = AuditShownCase.objects.filter(event_id=event.pk)
    assert {(s.case_id, s.event_occurred_at) for s in shown} == {
        (11, event.occurred_at),
        (12, event.occurred_at),
    }
    assert list(AuditEvent.objects.get(pk=event.pk).shown_cases.values_list("case_id", flat=True))


def test_old_months_are_dropped_whole_and_the_drop_is_logged() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT avhopp_audit_create_month('2001-03-01')")
    old = _insert_at(datetime(2001, 3, 9, tzinfo=UTC))
    dropped = audit_partitions_drop_before(month=date(2001, 4, 1))
    assert dropped == [date(2001, 3, 1)]
    assert not AuditEvent.objects.filter(pk=old).exists()
    assert "avhopp_auditshowncase_y2001m03" not in _partitions("avhopp_auditshowncase")
    logged = AuditEvent.objects.get(action=AuditAction.AUDIT_PARTITION_DROPPED)
    assert logged.object_id == "2001-03"

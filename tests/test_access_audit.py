"""What reading and refusing writes to the audit log, and that the log is append-only (the
access matrix, tests/access_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from avhopp.audit import audit_record
from avhopp.models import AuditAction, AuditEvent, User
from cases.models import Case
from tests.access_support import body_of, give_outside_reason

# --- Audit ----------------------------------------------------------------------------------


def _events(action: str) -> Any:
    return AuditEvent.objects.filter(action=action)


def test_case_detail_view_is_logged_once(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    event = _events(AuditAction.CASE_VIEW).get()
    assert (event.user_id, event.case_id, event.individual_id) == (
        worker.pk,
        case.pk,
        case.individual_id,
    )


def test_denied_access_is_logged_once_with_the_case_id(
    case: Case, outsider: User, login: Callable[[User], Client]
) -> None:
    client = login(outsider)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    event = _events(AuditAction.ACCESS_DENIED).get()
    assert (event.user_id, event.case_id) == (outsider.pk, case.pk)
    assert not _events(AuditAction.CASE_VIEW).exists()


def test_outside_assignment_reason_is_logged_once(
    case: Case, colleague: User, login: Callable[[User], Client]
) -> None:
    client = login(colleague)
    give_outside_reason(client, case, reason="supervision")
    event = _events(AuditAction.OUTSIDE_ASSIGNMENT_READ).get()
    assert event.action == "outside_assignment"
    assert (event.user_id, event.case_id, event.reason) == (colleague.pk, case.pk, "supervision")
    # The reason is remembered: reading the case does not ask, or log a reason, again.
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert _events(AuditAction.OUTSIDE_ASSIGNMENT_READ).count() == 1


def test_csv_export_is_logged_once(
    case: Case, log_reviewer: User, login: Callable[[User], Client]
) -> None:
    response = login(log_reviewer).get(reverse("audit:export"))
    assert response.status_code == 200
    text = body_of(response)
    assert text.startswith("Tid (svensk tid),Användare")
    assert _events(AuditAction.AUDIT_EXPORT).count() == 1
    assert _events(AuditAction.AUDIT_EXPORT).get().user_id == log_reviewer.pk


def _raises_database_error(operation: Callable[[], Any]) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        operation()


def test_audit_log_is_append_only(worker: User) -> None:
    event = audit_record(actor=worker, action=AuditAction.CASE_LIST, reason="original")
    table = AuditEvent._meta.db_table

    def raw(sql: str) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])

        return run

    _raises_database_error(lambda: AuditEvent.objects.filter(pk=event.pk).update(reason="x"))
    _raises_database_error(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    _raises_database_error(event.delete)
    _raises_database_error(raw(f"UPDATE {table} SET reason = 'x' WHERE id = %s"))
    _raises_database_error(raw(f"DELETE FROM {table} WHERE id = %s"))
    event.refresh_from_db()
    assert event.reason == "original"

"""Permission-aware reads of the audit log."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL

from avhopp.models import AuditEvent, AuditShownCase
from cases.policy import AuditLogPolicy

if TYPE_CHECKING:
    from avhopp.models import User
    from cases.models import Case


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    return AuditLogPolicy.visible_to(user)


def touching_case(case_id: int) -> Q:
    """Events about the case, and the list and search pages that showed it (a condition on the
    events table itself, not an alias of it).

    A union rather than OR, so each half reads its own index: the events' (case_id, time)
    index and the shown cases' unique (case_id, event_id, event_occurred_at) one. The union
    gives each event's id *and time*: the time is the partition key, so each event is then
    looked up in its own month's partition. Matched on the id alone, every lookup probed every
    month's partition: 5,468 buffers for a case's hundred events on a 2,000,000-event log, 554
    by id and time (EXPLAIN in bench/README.md)."""
    table = AuditEvent._meta.db_table
    # Names from the models and the case id as a parameter: nothing from the request in the SQL.
    union = (
        f'("{table}"."id", "{table}"."occurred_at") IN ('  # noqa: S608
        f'SELECT "id", "occurred_at" FROM "{table}" WHERE "case_id" = %s'
        f' UNION ALL SELECT "event_id", "event_occurred_at" FROM'
        f' "{AuditShownCase._meta.db_table}" WHERE "case_id" = %s)'
    )
    return Q(RawSQL(union, [case_id, case_id], output_field=BooleanField()))  # noqa: S611


def newest_touching_cases(
    events: QuerySet[AuditEvent], case_ids: Collection[int]
) -> QuerySet[AuditEvent]:
    """`events` that concern the cases or showed them in a list, newest first, for a page.

    touching_case's condition makes PostgreSQL find *every* matching event before it sorts
    and takes a page: the cost grows with the log (at 20,000,000 events, a case's 1,044
    events, 5,413 buffers, 27 ms). Here the two halves are a UNION ALL, each read newest
    first from its own index (the events' (case_id, time), the shown cases' (case_id, time)),
    and the planner merges them, so LIMIT stops both after one page: 603 buffers, 2.8 ms on
    the same log (EXPLAIN in bench/README.md). The shown cases are joined to their event on
    the id *and* the time, the partition key, so each lookup reads one month's partition.
    Other filters go on `events` before this: a union takes no filter after it."""
    ids = list(case_ids)
    about = events.filter(case_id__in=ids)
    listed = events.filter(
        shown_cases__case_id__in=ids, shown_cases__event_occurred_at=F("occurred_at")
    )
    return about.union(listed, all=True).order_by("-occurred_at", "-id")


def case_readers(case: Case) -> QuerySet[AuditEvent]:
    """Who has opened this case or seen it listed: the per-case access log, for a reader the
    checkpoint let in with CaseAction.VIEW_ACCESS_LOG."""
    return newest_touching_cases(AuditEvent.objects.all(), [case.pk])

"""Permission-aware reads of the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from avhopp.models import AuditEvent
from cases.policy import AuditLogPolicy

if TYPE_CHECKING:
    from avhopp.models import User
    from cases.models import Case


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    return AuditLogPolicy.visible_to(user)


def case_readers(case: Case) -> QuerySet[AuditEvent]:
    """Who has opened this case: the per-case access log, for a reader the checkpoint let in
    with CaseAction.VIEW_ACCESS_LOG."""
    return AuditEvent.objects.filter(case_id=case.pk).order_by("-occurred_at", "-id")

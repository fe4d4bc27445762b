"""Permission-aware reads of the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from avhopp.models import AuditEvent, Role
from cases.models import Case

if TYPE_CHECKING:
    from avhopp.models import User


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    """Log reviewers read the events of their own agency's cases and of its staff."""
    if user.role != Role.LOG_REVIEWER or user.agency_id is None:
        return AuditEvent.objects.none()
    own_cases = Case.objects.filter(owning_agency_id=user.agency_id).values("pk")
    return AuditEvent.objects.filter(case_id__in=own_cases) | AuditEvent.objects.filter(
        agency_id=user.agency_id
    )


def case_readers(case: Case) -> QuerySet[AuditEvent]:
    """Who has opened this case: the per-case access log."""
    return AuditEvent.objects.filter(case_id=case.pk).order_by("-occurred_at", "-id")

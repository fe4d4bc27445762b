"""Permission-aware reads of the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from avhopp.models import AuditEvent, AuditShownCase
from cases.policy import AuditLogPolicy

if TYPE_CHECKING:
    from avhopp.models import User
    from cases.models import Case


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    return AuditLogPolicy.visible_to(user)


def touching_case(case_id: int) -> Q:
    """Events about the case, and the list and search pages that showed it. A union rather
    than OR, so each half reads its own index."""
    direct = AuditEvent.objects.filter(case_id=case_id).order_by().values("pk")
    listed = AuditShownCase.objects.filter(case_id=case_id).values("event_id")
    return Q(pk__in=direct.union(listed))


def case_readers(case: Case) -> QuerySet[AuditEvent]:
    """Who has opened this case or seen it listed: the per-case access log, for a reader the
    checkpoint let in with CaseAction.VIEW_ACCESS_LOG."""
    return AuditEvent.objects.filter(touching_case(case.pk)).order_by("-occurred_at", "-id")

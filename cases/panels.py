"""What the cases app adds to the start page and, as a section that can move on its own, to
the case page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.audit import audit_list, audit_record
from avhopp.models import AuditAction
from avhopp.panels import Panel, register
from cases.audit_presentation import sample_context
from cases.audit_selectors import sample_for
from cases.policy import (
    AuditLogAction,
    AuditLogPolicy,
    CaseAccess,
    CaseAction,
    CasePolicy,
    CoordinationAlertPolicy,
)
from cases.selectors import case_team, start_page_lists


def _case_lists(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    user = request.user
    if not CasePolicy.allows(user, CaseAction.LIST):
        return None
    lists = {name: list(cases) for name, cases in start_page_lists(user).items()}
    shown = [case.pk for cases in lists.values() for case in cases]
    audit_list(actor=user, action=AuditAction.CASE_LIST, case_ids=shown)
    return {"lists": lists, "follows_shared_cases": CasePolicy.follows_shared_cases(user)}


ALERTS_SHOWN = 20


def _coordination_alerts(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    if not CoordinationAlertPolicy.receives(request.user):
        return None
    unseen = CoordinationAlertPolicy.visible_to(request.user).filter(seen_at__isnull=True)
    unseen = unseen.select_related("case", "from_agency").order_by("-created_at", "-pk")
    return {"alerts": list(unseen[:ALERTS_SHOWN])}


def _log_review(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    """The log reviewer's way in: the search, the summary, and the month's sample still to
    review (a view of the log, logged as one when it shows any)."""
    user = request.user
    if not AuditLogPolicy.allows(user, AuditLogAction.SEARCH):
        return None
    sample = sample_for(user)
    if sample.events:
        audit_record(actor=user, action=AuditAction.AUDIT_VIEW, reason="sample")
    return sample_context(user, sample)


def _case_team(_request: HttpRequest, access: CaseAccess) -> dict[str, Any]:
    """Whoever reads the case sees its team; the responsible worker and the coordinators
    change it."""
    return {
        "team": case_team(access),
        "case": access.case,
        "may_manage_team": access.allows(CaseAction.MANAGE_TEAM),
    }


def register_panels() -> None:
    register("start", Panel("cases/start/case_lists.html", _case_lists))
    register("start", Panel("cases/start/coordination_alerts.html", _coordination_alerts))
    register("start", Panel("cases/start/log_review.html", _log_review))
    register("case_detail", Panel("cases/team/panel.html", _case_team))

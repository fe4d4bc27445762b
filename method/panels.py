"""What the method app adds to the case page and the start page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from avhopp.audit import audit_list
from avhopp.models import AuditAction
from avhopp.panels import Panel, PanelLink, register
from cases.policy import CaseAccess, CaseAction
from method.followup import anchor
from method.policy import MethodAction, MethodPolicy
from method.selectors import (
    agreements_of,
    checklist_of,
    decisions_of,
    outcomes_due_for,
    outcomes_of,
)


def _case_method(request: HttpRequest, access: CaseAccess) -> dict[str, Any] | None:
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return None
    return {
        "phases": checklist_of(access),
        "decisions": decisions_of(access),
        "agreement": agreements_of(access).filter(ended_on__isnull=True).first(),
        "may_edit": access.allows(CaseAction.EDIT),
        "outcomes": outcomes_of(access),
        "anchor": anchor().label,
    }


def _outcomes_due(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    due = outcomes_due_for(request.user)
    if not due:
        return None
    audit_list(actor=request.user, action=AuditAction.CASE_LIST, case_ids=[p.case.pk for p in due])
    return {"due": due, "anchor": anchor().label}


def _method_links(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    links = {
        "templates": MethodPolicy.allows(request.user, MethodAction.READ_TEMPLATES),
        "delegations": MethodPolicy.allows(request.user, MethodAction.MANAGE_DELEGATIONS),
    }
    return links if any(links.values()) else None


def register_panels() -> None:
    register(
        "case_detail",
        Panel(
            "method/case_panel.html",
            _case_method,
            link=PanelLink("method", _("Metod och checklista")),
        ),
    )
    register("start", Panel("method/start_outcomes.html", _outcomes_due))
    register("start", Panel("method/start_links.html", _method_links))

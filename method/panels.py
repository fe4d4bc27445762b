"""What the method app adds to the case page and the start page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.panels import Panel, register
from cases.policy import CaseAccess, CaseAction
from method.policy import MethodAction, MethodPolicy
from method.selectors import agreements_of, checklist_of, decisions_of


def _case_method(request: HttpRequest, access: CaseAccess) -> dict[str, Any] | None:
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return None
    return {
        "phases": checklist_of(access),
        "decisions": decisions_of(access),
        "agreement": agreements_of(access).filter(ended_on__isnull=True).first(),
        "may_edit": access.allows(CaseAction.EDIT),
    }


def _method_links(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    links = {
        "templates": MethodPolicy.allows(request.user, MethodAction.READ_TEMPLATES),
        "delegations": MethodPolicy.allows(request.user, MethodAction.MANAGE_DELEGATIONS),
    }
    return links if any(links.values()) else None


def register_panels() -> None:
    register("case_detail", Panel("method/case_panel.html", _case_method))
    register("start", Panel("method/start_links.html", _method_links))

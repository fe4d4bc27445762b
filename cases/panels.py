"""What the cases app adds to the start page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.panels import Panel, register
from cases.policy import AuditLogAction, AuditLogPolicy, CaseAction, CasePolicy
from cases.selectors import start_page_lists


def _case_lists(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    user = request.user
    if not CasePolicy.allows(user, CaseAction.LIST):
        return None
    return {
        "lists": start_page_lists(user),
        "follows_shared_cases": CasePolicy.follows_shared_cases(user),
    }


def _audit_search(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    return {} if AuditLogPolicy.allows(request.user, AuditLogAction.SEARCH) else None


def register_panels() -> None:
    register("start", Panel("cases/start/case_lists.html", _case_lists))
    register("start", Panel("cases/start/audit_search.html", _audit_search))

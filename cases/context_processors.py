from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cases.policy import AuditLogAction, AuditLogPolicy, CaseAction, CasePolicy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The case and log menu entries, as the policies allow them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_cases": CasePolicy.allows(user, CaseAction.LIST),
        "nav_create": CasePolicy.allows(user, CaseAction.CREATE),
        "nav_audit": AuditLogPolicy.allows(user, AuditLogAction.SEARCH),
    }

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.models import Role
from cases.policy import WRITER_ROLES, role_reads_case_content


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which menu entries the user's role has: decided by the policy, not by templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_cases": role_reads_case_content(user),
        "nav_create": user.role in WRITER_ROLES,
        "nav_audit": user.role == Role.LOG_REVIEWER,
        "nav_users": user.role == Role.AGENCY_ADMIN,
    }

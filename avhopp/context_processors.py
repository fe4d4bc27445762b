from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.policy import UserAction, UserPolicy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The core's menu entries, as the policy allows them (each app adds its own)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_users": UserPolicy.allows(user, UserAction.MANAGE)}

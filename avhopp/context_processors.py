from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.notifications import unread_count
from avhopp.policy import UserAction, UserPolicy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The core's menu entries, as the policy allows them (each app adds its own), and the
    header's count of unread notifications (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_users": UserPolicy.allows(user, UserAction.MANAGE),
        "unread_notifications": unread_count(user),
    }

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from avhopp.notifications import unread_count
from avhopp.policy import UserAction, UserPolicy
from avhopp.twofactor import signed_in


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The core's menu entries, as the policy allows them (each app adds its own); none, and
    no name, until the second factor is passed (`signed_in`); and the header's count of unread
    notifications (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if not signed_in(request):
        return {"signed_in": False}
    return {
        "signed_in": True,
        "nav_users": UserPolicy.allows(user, UserAction.MANAGE),
        "unread_notifications": unread_count(user),
    }

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from followup.policy import StatisticsAction, StatisticsPolicy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The statistics menu entry, as the policy allows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_statistics": StatisticsPolicy.allows(user, StatisticsAction.VIEW)}

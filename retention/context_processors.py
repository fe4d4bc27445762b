from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from retention.policy import GallringAction, GallringPolicy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The gallring menu entry, for the archive officer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_gallring": GallringPolicy.allows(user, GallringAction.DECIDE)}

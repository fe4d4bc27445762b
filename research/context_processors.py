from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from register.policy import RegisterAction, RegisterPolicy
from research.policy import ExtractAction, ExtractPolicy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The register and research menu entries, as the policies allow them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_register": RegisterPolicy.allows(user, RegisterAction.OVERVIEW),
        "nav_research": ExtractPolicy.allows(user, ExtractAction.LIST),
    }

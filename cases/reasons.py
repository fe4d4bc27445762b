"""Reasons a user has given in this session, e.g. for reading outside their assignment.

A reason is remembered for AVHOPP_REASON_TTL, after which it must be given again.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

_SESSION_KEY = "avhopp_reasons"


def reason_is_fresh(request: HttpRequest, key: str) -> bool:
    given = request.session.get(_SESSION_KEY, {}).get(key)
    if given is None:
        return False
    return timezone.now() - datetime.fromisoformat(given) < settings.AVHOPP_REASON_TTL


def remember_reason(request: HttpRequest, key: str) -> None:
    reasons = request.session.get(_SESSION_KEY, {})
    reasons[key] = timezone.now().isoformat()
    request.session[_SESSION_KEY] = reasons

"""The single checkpoint every case-bound view passes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from cases.models import Case
from cases.policy import CaseAccess, CaseAction, CasePolicy
from cases.reasons import reason_is_fresh
from cases.selectors import get_case_for_user

CaseView = Callable[..., HttpResponse]


def outside_reason_key(case_pk: int) -> str:
    return f"outside:{case_pk}"


def outside_reason_redirect(request: HttpRequest, case: Case) -> HttpResponse | None:
    """Owning-agency staff who are not responsible state a reason before reading the case
    or anything that carries its content (referrals, documents)."""
    if CasePolicy.needs_reason(request.user, case) and not reason_is_fresh(
        request, outside_reason_key(case.pk)
    ):
        url = reverse("cases:outside_reason", args=[case.pk])
        return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
    return None


def case_view(action: CaseAction) -> Callable[[CaseView], CaseView]:
    """Resolve `case_pk` through the policy (404/403) and pass the view a CaseAccess.

    Staff of the owning agency who are not responsible for the case are first sent to
    state a reason, which is logged, before anything of the case is shown.
    """

    def decorator(view: CaseView) -> CaseView:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, case_pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
            access: CaseAccess = get_case_for_user(request.user, case_pk, action)
            if gate := outside_reason_redirect(request, access.case):
                return gate
            return view(request, access, *args, **kwargs)

        return wrapper

    return decorator

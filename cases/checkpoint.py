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

from avhopp.audit import audit_event, audit_record_all
from avhopp.models import AuditAction, AuditEvent
from cases.models import Case
from cases.policy import CaseAccess, CaseAction, CasePolicy
from cases.reasons import reason_is_fresh
from cases.selectors import get_case_for_user

CaseView = Callable[..., HttpResponse]

# A response with these statuses shows the case (a form page with errors does too).
SHOWS_CASE = frozenset({200, 400})
_READ_RECORDED = "_avhopp_case_read_recorded"


def audit_case_page(request: HttpRequest, events: list[AuditEvent]) -> None:
    """Write a case page's own read events; the checkpoint then writes none for it."""
    audit_record_all(events)
    setattr(request, _READ_RECORDED, True)


def audit_case_read(request: HttpRequest, access: CaseAccess, *, threat_details: bool) -> None:
    """Log the read of a case, and of the threat details when they were on the page."""
    case = access.case
    events = [
        audit_event(
            actor=request.user,
            action=AuditAction.CASE_VIEW,
            obj=case,
            case_id=case.pk,
            individual_id=case.individual_id,
        )
    ]
    if threat_details and access.allows(CaseAction.VIEW_THREAT_DETAILS):
        events.append(
            audit_event(
                actor=request.user,
                action=AuditAction.THREAT_DETAILS_VIEW,
                obj=case,
                case_id=case.pk,
            )
        )
    audit_case_page(request, events)


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
    state a reason, which is logged, before anything of the case is shown. Every response
    that shows the case is logged as a read, unless the view logged its own.
    """

    def decorator(view: CaseView) -> CaseView:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, case_pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
            access: CaseAccess = get_case_for_user(request.user, case_pk, action)
            if gate := outside_reason_redirect(request, access.case):
                return gate
            response = view(request, access, *args, **kwargs)
            if response.status_code in SHOWS_CASE and not getattr(request, _READ_RECORDED, False):
                audit_case_read(request, access, threat_details=False)
            return response

        return wrapper

    return decorator

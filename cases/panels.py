"""What the cases app adds to the start page and, as a section that can move on its own, to
the case page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.audit import audit_list, audit_record
from avhopp.models import AuditAction
from avhopp.panels import Panel, PanelLink, register
from cases.audit_presentation import sample_context
from cases.audit_selectors import sample_for
from cases.masking import shown_identity_number
from cases.models import Case
from cases.policy import (
    AuditLogAction,
    AuditLogPolicy,
    CaseAccess,
    CaseAction,
    CasePolicy,
    CoordinationAlertPolicy,
)
from cases.selectors import START_ROWS, case_team, start_page_lists


def _case_lists(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    """What the user must do, soonest first: each list at most START_ROWS rows, each row with
    its case's person as the case list shows them, and whether there are more; every case
    shown is logged with the page."""
    user = request.user
    if not CasePolicy.allows(user, CaseAction.LIST):
        return None
    lists, more, shown = {}, {}, []
    for name, rows in start_page_lists(user).items():
        cases = [row.case if name == "follow_ups" else row for row in rows[:START_ROWS]]
        lists[name] = [(row, _person(case)) for row, case in zip(rows, cases, strict=False)]
        more[name] = len(rows) > START_ROWS
        shown += [case.pk for case in cases]
    audit_list(actor=user, action=AuditAction.CASE_LIST, case_ids=shown)
    return {
        "lists": lists,
        "more": more,
        "today": timezone.localdate(),
        "follows_shared_cases": CasePolicy.follows_shared_cases(user),
    }


def _person(case: Case) -> dict[str, Any]:
    """The person as the case list shows them: the name, and the number masked when the
    identity is protected."""
    person = case.individual
    return {
        "name": str(person),
        "protected": person.is_protected,
        "number": shown_identity_number(person),
    }


ALERTS_SHOWN = 20


def _coordination_alerts(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    if not CoordinationAlertPolicy.receives(request.user):
        return None
    unseen = CoordinationAlertPolicy.visible_to(request.user).filter(seen_at__isnull=True)
    unseen = unseen.select_related("case", "from_agency").order_by("-created_at", "-pk")
    return {"alerts": list(unseen[:ALERTS_SHOWN])}


def _log_review(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    """The log reviewer's way in: the search, the summary, and the month's sample still to
    review (a view of the log, logged as one when it shows any)."""
    user = request.user
    if not AuditLogPolicy.allows(user, AuditLogAction.SEARCH):
        return None
    sample = sample_for(user)
    if sample.events:
        audit_record(actor=user, action=AuditAction.AUDIT_VIEW, reason="sample")
    return sample_context(user, sample)


def _case_team(_request: HttpRequest, access: CaseAccess) -> dict[str, Any]:
    """Whoever reads the case sees its team; the responsible worker and the coordinators
    change it."""
    return {
        "team": case_team(access),
        "case": access.case,
        "may_manage_team": access.allows(CaseAction.MANAGE_TEAM),
    }


def register_panels() -> None:
    register("start", Panel("cases/start/case_lists.html", _case_lists))
    register("start", Panel("cases/start/coordination_alerts.html", _coordination_alerts))
    register("start", Panel("cases/start/log_review.html", _log_review))
    register(
        "case_detail",
        Panel("cases/team/panel.html", _case_team, link=PanelLink("team", _("Ärendets team"))),
    )

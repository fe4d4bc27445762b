"""What the referrals app adds to the case page and the start page (avhopp.panels)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.audit import audit_list
from avhopp.models import AuditAction
from avhopp.panels import Panel, PanelLink, register
from cases.audit_presentation import register_choice_words, register_reason_words
from cases.policy import CaseAccess, CaseAction
from referrals.models import Referral, ReferralStatus
from referrals.policy import ReferralAction, ReferralPolicy
from referrals.selectors import WAITING_ROWS, referrals_of_case, referrals_waiting


def _case_referrals(request: HttpRequest, access: CaseAccess) -> dict[str, Any]:
    return {
        "referrals": referrals_of_case(access),
        "may_refer": access.allows(CaseAction.REFER),
    }


def _waiting(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    """Referrals awaiting an answer: the received ones for the user's agency to answer, the
    sent ones with the days they have waited. The cases they name are logged with the page."""
    user = request.user
    if not ReferralPolicy.allows(user, ReferralAction.LIST):
        return None
    received, sent = referrals_waiting(user)
    today = timezone.localdate()
    shown = {}
    for name, rows in (("received", received), ("sent", sent)):
        shown[name] = [(row, _days_since(row, today)) for row in rows[:WAITING_ROWS]]
        shown[f"more_{name}"] = len(rows) > WAITING_ROWS
    case_ids = [row.case_id for name in ("received", "sent") for row, _days in shown[name]]
    if case_ids:
        audit_list(actor=user, action=AuditAction.REFERRAL_LIST, case_ids=case_ids)
    return shown


def _days_since(referral: Referral, today: date) -> int | None:
    if referral.sent_at is None:
        return None
    return (today - timezone.localtime(referral.sent_at).date()).days


def register_panels() -> None:
    register(
        "case_detail",
        Panel(
            "referrals/case_panel.html",
            _case_referrals,
            link=PanelLink("referrals", _("Remisser")),
        ),
    )
    register("start", Panel("referrals/start_panel.html", _waiting))


def register_log_words() -> None:
    """Words for the reasons referral events carry (referrals.services)."""
    register_choice_words(ReferralStatus)
    register_reason_words({"retry": _("Nytt försök")})

"""What the referrals app adds to the case page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from avhopp.panels import Panel, PanelLink, register
from cases.policy import CaseAccess, CaseAction
from referrals.selectors import referrals_of_case


def _case_referrals(request: HttpRequest, access: CaseAccess) -> dict[str, Any]:
    return {
        "referrals": referrals_of_case(access),
        "may_refer": access.allows(CaseAction.REFER),
    }


def register_panels() -> None:
    register(
        "case_detail",
        Panel(
            "referrals/case_panel.html",
            _case_referrals,
            link=PanelLink("referrals", _("Remisser")),
        ),
    )

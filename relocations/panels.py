"""What the relocations app adds to the start page and the case page (avhopp.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from avhopp.panels import Panel, PanelLink, register
from cases.audit_presentation import register_choice_words, register_reason_words
from cases.policy import CaseAccess
from relocations.models import (
    AbortReason,
    Clearance,
    DeclineReason,
    OfferStatus,
    RelocationStatus,
)
from relocations.policy import RelocationPolicy
from relocations.selectors import destination_of, relocations_visible_to, waiting_for


def _waiting(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    if not any(RelocationPolicy.waiting_roles(request.user).values()):
        return None
    return {"waiting": waiting_for(request.user)}


def _case_relocations(request: HttpRequest, access: CaseAccess) -> dict[str, Any] | None:
    user = request.user
    may_request = RelocationPolicy.may_request(user, access.case)
    relocations = list(
        relocations_visible_to(user).filter(case=access.case).select_related("receiving_agency")
    )
    if not relocations and not may_request:
        return None
    # The destination's name only for those allowed, each read logged.
    rows = [(relocation, destination_of(user, relocation)) for relocation in relocations]
    return {
        "rows": rows,
        "may_request": may_request and not any(r.is_open for r in relocations),
    }


def register_panels() -> None:
    register("start", Panel("relocations/start_panel.html", _waiting))
    register(
        "case_detail",
        Panel(
            "relocations/case_panel.html",
            _case_relocations,
            link=PanelLink("relocation", _("Omplacering")),
        ),
    )


def register_log_words() -> None:
    """Words for the reasons relocation events carry (relocations.services and views)."""
    register_choice_words(RelocationStatus, AbortReason, DeclineReason, Clearance, OfferStatus)
    register_reason_words(
        {
            "avoid": _("Ort att undvika"),
            "refused": _("Avböjd"),
            "shares_revoked": _("Delningar återkallade"),
            "ivo": _("IVO"),
            "no_answer": _("Inget svar i tid"),
            "agreement": _("Placeringsavtal"),
            "full": _("hela"),
            "sending": _("sändande kommunens exemplar"),
            "name+address": _("Namn och adress"),
            "name": _("Namn"),
        }
    )

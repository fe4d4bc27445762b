"""What the retention app adds to the case page (avhopp.panels): the person's extracts, for
the responsible worker only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from avhopp.panels import Panel, PanelLink, register
from cases.policy import CaseAccess
from retention.forms import ExtractForm
from retention.policy import ExtractAction, ExtractPolicy


def _extracts(request: HttpRequest, access: CaseAccess) -> dict[str, Any] | None:
    if not ExtractPolicy.allows(request.user, ExtractAction.REQUEST, access.case):
        return None
    # The responsible worker of a visible case (just allowed): its extracts are theirs, read
    # without asking the grants again.
    return {
        "extracts": access.case.extracts.all()[:10],
        "form": ExtractForm(),
    }


def register_panels() -> None:
    register(
        "case_detail",
        Panel(
            "retention/case_panel.html",
            _extracts,
            link=PanelLink("extracts", _("Utdrag för personen")),
        ),
    )

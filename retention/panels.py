"""What the retention app adds to the case page (avhopp.panels): the person's extracts, for
the responsible worker only; and to the log reviewer's pages (cases.audit_presentation): the
pseudonyms of what gallring deleted."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from avhopp.panels import Panel, PanelLink, register
from cases.audit_presentation import register_choice_words, register_gone_names
from cases.policy import CaseAccess
from retention.forms import ExtractForm
from retention.models import ExtractKind, GallringItem, ItemOutcome
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


def _gone_names(
    case_ids: Collection[int], person_ids: Collection[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """The pseudonyms that the log's ids of deleted case files and people stand for."""
    items = GallringItem.objects.filter(
        Q(case_id__in=case_ids) | Q(individual_id__in=person_ids), outcome=ItemOutcome.DELETED
    ).values_list("case_id", "individual_id", "pseudonym")
    cases, people = {}, {}
    for case_id, person_id, pseudonym in items:
        if case_id in case_ids:
            cases[case_id] = pseudonym
        if person_id in person_ids:
            people[person_id] = pseudonym
    return cases, people


def register_panels() -> None:
    register(
        "case_detail",
        Panel(
            "retention/case_panel.html",
            _extracts,
            link=PanelLink("extracts", _("Utdrag för personen")),
        ),
    )


def register_log_words() -> None:
    """Words for the log reviewer's pages: the extracts' kinds, the deleted files' pseudonyms."""
    register_choice_words(ExtractKind)
    register_gone_names(_gone_names)

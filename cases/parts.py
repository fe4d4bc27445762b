"""The parts of a case that grow with it: status history, interventions, threat assessments
and the journal.

The case page shows the newest few of each, so what it costs stays the same however long the
case runs (a case with years of notes would otherwise render every one of them); each part
also has its own paged page with all of it. Parts are read only after the checkpoint
(cases.checkpoint) has resolved the case for the reader, and a part the reader's share does
not cover is not read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import (
    CaseStatusChange,
    ConsentScope,
    Intervention,
    JournalEntry,
    ThreatAssessment,
)
from cases.policy import SECTION_ACTIONS, CaseAccess, CaseAction
from cases.presentation import (
    INTERVENTION_COLUMNS,
    JOURNAL_COLUMNS,
    STATUS_CHANGE_COLUMNS,
    intervention_rows,
    journal_rows,
    status_change_rows,
    threat_assessment_rows,
)

PREVIEW_SIZE = 10  # newest items of each part on the case page
PAGE_SIZE = 50  # items per page of a part's own page


@dataclass(frozen=True)
class Preview:
    items: list[Any]
    more: bool  # the part has more than the case page shows
    url: str  # the part's own page
    more_label: Promise


@dataclass(frozen=True)
class CasePart:
    name: str  # the URL name of the part's page and the context key on the case page
    title: Promise
    more_label: Promise  # the case page's link to the part's own page
    scope: ConsentScope | None  # what a share must cover to read it; None: every share
    items: Callable[[int], QuerySet[Any]]  # a case's items by the case's id, newest first
    columns: tuple[str, ...]  # what the part shows, loaded as `.only()` loads
    rows: Callable[[Iterable[Any]], list[Any]] = list
    police_columns: tuple[str, ...] = ()  # read only for readers who may see threat details

    def shown_to(self, access: CaseAccess) -> bool:
        return self.scope is None or access.allows(SECTION_ACTIONS[self.scope])

    def read(self, access: CaseAccess) -> QuerySet[Any]:
        """All of the part, newest first, for its own page."""
        columns = self._columns_for(access)
        related = dict.fromkeys(column.split("__")[0] for column in columns if "__" in column)
        return self.items(access.case.pk).select_related(*related).only(*columns)

    def preview(self, access: CaseAccess) -> Preview:
        # One item more than shown tells whether there are more, without a COUNT.
        items = self.rows(self.read(access)[: PREVIEW_SIZE + 1])
        return Preview(
            items=items[:PREVIEW_SIZE],
            more=len(items) > PREVIEW_SIZE,
            url=reverse(f"cases:{self.name}", args=[access.case.pk]),
            more_label=self.more_label,
        )

    def _columns_for(self, access: CaseAccess) -> tuple[str, ...]:
        # A column the reader may not see is never loaded, so nothing can show it.
        if access.allows(CaseAction.VIEW_THREAT_DETAILS):
            return self.columns + self.police_columns
        return self.columns

    @property
    def template(self) -> str:
        return f"cases/parts/{self.name}.html"

    def page_number_of(self, access: CaseAccess, pk: int) -> int | None:
        """The page of the part's own page that shows item `pk`, if the part has it."""
        items = self.read(access)
        ordering = [*items.query.order_by] or [*items.model._meta.ordering]
        ranked = items.annotate(position=Window(RowNumber(), order_by=ordering))
        sql, params = ranked.values_list("pk", "position").query.sql_with_params()
        # The ORM would apply `pk = %s` before numbering the rows: number them, then pick.
        # `sql` is the ORM's own compiled query; every value is a parameter.
        wanted = f"SELECT ranked.position FROM ({sql}) ranked WHERE ranked.pk = %s"  # noqa: S608
        with connections[items.db].cursor() as cursor:
            cursor.execute(wanted, [*params, pk])
            found = cursor.fetchone()
        return None if found is None else (found[0] - 1) // PAGE_SIZE + 1


def _status_history(case_id: int) -> QuerySet[Any]:
    return CaseStatusChange.objects.filter(case_id=case_id).order_by(
        F("changed_at").desc(), F("id").desc()
    )


# What the case page and the part's page show of an assessment: not who may read the
# details, which are police_columns.
THREAT_ASSESSMENT_COLUMNS = (
    "case_id",
    "level",
    "summary",
    "protected_address",
    "relocation",
    "personal_protection",
    "other_measures",
    "assessed_at",
    "next_review_date",
    "assessed_by__username",
    "assessed_by__first_name",
    "assessed_by__last_name",
)

STATUS_HISTORY = CasePart(
    "status_history",
    _("Status och historik"),
    _("Visa hela historiken"),
    None,
    _status_history,
    STATUS_CHANGE_COLUMNS,
    rows=status_change_rows,
)
INTERVENTIONS = CasePart(
    "interventions",
    _("Insatser"),
    _("Visa alla insatser"),
    ConsentScope.INTERVENTIONS,
    lambda case_id: Intervention.objects.filter(case_id=case_id),
    INTERVENTION_COLUMNS,
    rows=intervention_rows,
)
THREAT_ASSESSMENTS = CasePart(
    "threat_assessments",
    _("Hotbild"),
    _("Visa alla hotbedömningar"),
    ConsentScope.THREAT_LEVEL,
    lambda case_id: ThreatAssessment.objects.filter(case_id=case_id),
    THREAT_ASSESSMENT_COLUMNS,
    rows=threat_assessment_rows,
    police_columns=("details",),
)
JOURNAL = CasePart(
    "journal",
    _("Journal"),
    _("Visa hela journalen"),
    ConsentScope.JOURNAL,
    lambda case_id: JournalEntry.objects.filter(case_id=case_id),
    JOURNAL_COLUMNS,
    rows=journal_rows,
)

PARTS = {part.name: part for part in (STATUS_HISTORY, INTERVENTIONS, THREAT_ASSESSMENTS, JOURNAL)}

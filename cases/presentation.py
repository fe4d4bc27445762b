"""Rows computed once in Python: the case list's cases, a case's interventions and its
journal notes.

The template engine costs several microseconds per variable lookup and far more for filters
and `get_FOO_display`, so rows that are shown many times on a page are built here once, with
only the columns they show, and the templates print plain strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import models
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.safestring import SafeString

from cases.masking import shown_identity_number
from cases.models import (
    Case,
    CaseStatus,
    CaseStatusChange,
    Intervention,
    InterventionKind,
    InterventionStatus,
    JournalEntry,
    ThreatAssessment,
    ThreatLevel,
)


@dataclass(frozen=True, slots=True)
class CaseRow:
    url: str
    reference: str
    name: str
    protected: bool
    identity_number: str  # masked for protected identities (cases.masking)
    status: str
    threat_level: str
    threat_label: str
    review_due: str
    review_overdue: bool
    responsible: str
    agency: str
    opened: str  # the day the case was opened, in Swedish time


# The columns the rows show, for loading a page of cases (cases.selectors.case_page): not the
# person's address and phone, nor the worker's password hash and login times.
CASE_ROW_COLUMNS = (
    "opened_at",
    "status",
    "threat_level",
    "threat_review_due",
    "individual__first_name",
    "individual__last_name",
    "individual__protection_level",
    "individual__personnummer",
    "individual__reserve_number",
    "responsible__username",
    "responsible__first_name",
    "responsible__last_name",
    "owning_agency__name",
)


def case_rows(cases: Iterable[Case], *, today: date | None = None) -> list[CaseRow]:
    """Rows for cases loaded with their individual, responsible worker and owning agency
    (at least their CASE_ROW_COLUMNS) and whether the reader may read their threat level
    (`reads_threat`, cases.selectors.cases_for_rows): without it, no level or review date."""
    today = today or timezone.localdate()
    return [
        CaseRow(
            url=case.get_absolute_url(),
            reference=case.reference,
            name=str(case.individual),
            protected=case.individual.is_protected,
            identity_number=shown_identity_number(case.individual),
            status=case.status_label,
            threat_level=case.threat_level if case.reads_threat else "",
            threat_label=case.threat_level_label if case.reads_threat else "",
            review_due=_iso(case.threat_review_due) if case.reads_threat else "",
            review_overdue=case.reads_threat and case.threat_review_overdue_on(today),
            responsible=str(case.responsible),
            agency=str(case.owning_agency),
            opened=_iso(timezone.localtime(case.opened_at).date()),
        )
        for case in cases
    ]


@dataclass(frozen=True, slots=True)
class InterventionRow:
    url: str
    kind: str
    provider: str
    status: str
    decision_date: str
    start_date: str
    end_date: str
    follow_up_date: str
    follow_up_overdue: bool


# The columns the rows show: not the goal and outcome texts, nor the provider's other columns.
INTERVENTION_COLUMNS = (
    "case_id",
    "kind",
    "status",
    "decision_date",
    "start_date",
    "end_date",
    "follow_up_date",
    "provider_name",
    "provider_agency__name",
)


def intervention_rows(interventions: Iterable[Intervention]) -> list[InterventionRow]:
    """Rows for interventions loaded with their provider agency (at least their
    INTERVENTION_COLUMNS)."""
    return [
        InterventionRow(
            url=item.get_absolute_url(),
            kind=InterventionKind(item.kind).label,
            provider=item.provider_display,
            status=InterventionStatus(item.status).label,
            decision_date=_iso(item.decision_date),
            start_date=_iso(item.start_date),
            end_date=_iso(item.end_date),
            follow_up_date=_iso(item.follow_up_date),
            follow_up_overdue=item.follow_up_overdue,
        )
        for item in interventions
    ]


@dataclass(frozen=True, slots=True)
class JournalRow:
    pk: int
    created: str
    author: str
    text: SafeString  # escaped, line breaks as <br>
    corrects_id: int | None
    corrects_created: str


# The columns the rows show.
JOURNAL_COLUMNS = (
    "case_id",
    "created_at",
    "text",
    "corrects_id",
    "corrects__created_at",
    "author__username",
    "author__first_name",
    "author__last_name",
)


def journal_rows(entries: Iterable[JournalEntry]) -> list[JournalRow]:
    """Rows for notes loaded with their author and the note each corrects (at least their
    JOURNAL_COLUMNS)."""
    return [
        JournalRow(
            pk=entry.pk,
            created=_minute(entry.created_at),
            author=str(entry.author),
            text=linebreaksbr(entry.text, autoescape=True),
            corrects_id=entry.corrects_id,
            corrects_created=_minute(entry.corrects.created_at) if entry.corrects_id else "",
        )
        for entry in entries
    ]


@dataclass(frozen=True, slots=True)
class ThreatAssessmentRow:
    level: str
    assessed: str
    assessor: str
    summary: SafeString  # escaped, line breaks as <br>
    measures: str
    next_review: str
    details: SafeString | None  # None unless loaded: only for readers who may see them


def threat_assessment_rows(assessments: Iterable[ThreatAssessment]) -> list[ThreatAssessmentRow]:
    """Rows for assessments loaded with their assessor (cases.parts.THREAT_ASSESSMENT_COLUMNS,
    and `details` only for a reader who may see them)."""
    return [
        ThreatAssessmentRow(
            level=ThreatLevel(item.level).label,
            assessed=_iso(timezone.localtime(item.assessed_at).date()),
            assessor=str(item.assessed_by),
            summary=linebreaksbr(item.summary, autoescape=True),
            measures=", ".join(item.measures),
            next_review=_iso(item.next_review_date),
            details=None
            if "details" in item.get_deferred_fields()
            else linebreaksbr(item.details, autoescape=True),
        )
        for item in assessments
    ]


@dataclass(frozen=True, slots=True)
class StatusChangeRow:
    changed: str
    from_status: str
    to_status: str
    changed_by: str
    reason: str


# The columns the rows show (not the password hash and login times of who made the change).
STATUS_CHANGE_COLUMNS = (
    "case_id",
    "changed_at",
    "from_status",
    "to_status",
    "reason",
    "changed_by__username",
    "changed_by__first_name",
    "changed_by__last_name",
)


def status_change_rows(changes: Iterable[CaseStatusChange]) -> list[StatusChangeRow]:
    """Rows for status changes loaded with who made them (at least their
    STATUS_CHANGE_COLUMNS)."""
    return [
        StatusChangeRow(
            changed=_minute(change.changed_at),
            from_status=_label(CaseStatus, change.from_status),
            to_status=CaseStatus(change.to_status).label,
            changed_by=str(change.changed_by),
            reason=change.reason,
        )
        for change in changes
    ]


def _label(choices: type[models.TextChoices], value: str) -> str:
    return choices(value).label if value else ""


def _minute(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""

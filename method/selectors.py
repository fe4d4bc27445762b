"""Permission-aware reads of the method work. Case-bound reads take the checkpoint's access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from avhopp.models import User
from cases.models import OPEN_STATUSES, Case
from cases.policy import CaseAccess, CaseAction, CasePolicy
from method.followup import DuePoint, anchor, anchored_within, due_points
from method.links import parse_links
from method.models import (
    OUTCOME_ANSWERS,
    PHASE_ORDER,
    Agreement,
    AgreementEntry,
    Answer,
    CaseStep,
    ChecklistVersion,
    DecisionRecord,
    EntryKind,
    FollowUpOutcome,
    OutcomeAnchor,
    Phase,
    StepState,
    StepTemplate,
    phases_worked_in,
)
from method.policy import MethodAction, MethodPolicy


@dataclass
class PhaseRow:
    phase: Phase
    current: bool
    steps: list[CaseStep] = field(default_factory=list)

    @property
    def open_required(self) -> int:
        return sum(1 for s in self.steps if s.step.required and s.state == StepState.OPEN)


def checklist_of(access: CaseAccess) -> list[PhaseRow]:
    """The case's checklist by phase, the phases its status works in marked current."""
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return []
    steps = CaseStep.objects.filter(checklist__case_id=access.case.pk).select_related(
        "step", "settled_by"
    )
    current = set(phases_worked_in(access.case.status))
    rows = {phase: PhaseRow(phase=phase, current=phase in current) for phase in Phase}
    for case_step in sorted(steps, key=lambda s: (PHASE_ORDER[s.step.phase], s.step.position)):
        case_step.links = parse_links(case_step.step.links)
        rows[Phase(case_step.step.phase)].steps.append(case_step)
    return [row for row in rows.values() if row.steps]


def decisions_of(access: CaseAccess) -> list[DecisionRecord]:
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return []
    return list(
        DecisionRecord.objects.filter(case_id=access.case.pk).select_related("decided_by")[:20]
    )


@dataclass
class StepGroup:
    phase: Phase
    steps: list[StepTemplate]


def _grouped(version: ChecklistVersion | None) -> list[StepGroup]:
    if version is None:
        return []
    groups = {phase: StepGroup(phase=phase, steps=[]) for phase in Phase}
    steps = sorted(version.steps.all(), key=lambda s: (PHASE_ORDER[s.phase], s.position, s.pk))
    for step in steps:
        step.link_list = parse_links(step.links)
        groups[Phase(step.phase)].steps.append(step)
    return [group for group in groups.values() if group.steps]


def template_overview(user: User) -> dict[str, Any]:
    """The template the user's agency works by (its own copy, else the national default):
    its published version, and its draft for those who edit it."""
    templates = list(MethodPolicy.visible_to(user))
    own = next((t for t in templates if t.agency_id == user.agency_id), None)
    national = next((t for t in templates if t.is_national), None)
    if MethodPolicy.edits_national(user):
        own = national
    shown = own or national
    may_edit = shown is not None and MethodPolicy.allows(user, MethodAction.EDIT_TEMPLATE, shown)
    versions = list(shown.versions.all()) if shown else []
    published = next((v for v in versions if not v.is_draft), None)
    draft = next((v for v in versions if v.is_draft), None) if may_edit else None
    return {
        "template": shown,
        "published": published,
        "published_groups": _grouped(published),
        "draft": draft,
        "draft_groups": _grouped(draft),
        "may_edit": may_edit,
        "may_copy": own is None
        and national is not None
        and MethodPolicy.allows(user, MethodAction.EDIT_TEMPLATE),
    }


def agreements_of(access: CaseAccess) -> QuerySet[Agreement]:
    """The case's agreements, the current one first: the owning agency's to read."""
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return Agreement.objects.none()
    return Agreement.objects.filter(case_id=access.case.pk).order_by(
        F("ended_on").desc(nulls_first=True), "-created_at", "-pk"
    )


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    summary: str
    day: date
    at: time | None
    path: str  # the case page, which asks for a login; the event carries nothing else


def calendar_events(user: User) -> list[CalendarEvent]:
    """Coming meetings and review dates of the current agreements of the open cases the user
    is responsible for."""
    today = timezone.localdate()
    own = CasePolicy.visible_to(user).filter(responsible=user, status__in=OPEN_STATUSES)
    current = Agreement.objects.filter(case__in=own, ended_on__isnull=True)
    meetings = AgreementEntry.objects.filter(
        agreement__in=current, kind=EntryKind.MEETING, occurred_on__gte=today
    ).select_related("agreement")
    events = [
        CalendarEvent(
            uid=f"meeting-{entry.pk}",
            summary=str(_("Avhopp: möte")),
            day=entry.occurred_on,
            at=entry.at_time,
            path=reverse("cases:detail", args=[entry.agreement.case_id]),
        )
        for entry in meetings
    ]
    events += [
        CalendarEvent(
            uid=f"review-{agreement.pk}",
            summary=str(_("Avhopp: omprövning av överenskommelse")),
            day=agreement.review_date,
            at=None,
            path=reverse("cases:detail", args=[agreement.case_id]),
        )
        for agreement in current.filter(review_date__gte=today)
    ]
    return sorted(events, key=lambda event: (event.day, event.at or time.min))


def outcomes_due_for(user: User, *, limit: int = 20) -> list[DuePoint]:
    """The follow-up points that have come, without an outcome, of the cases the user is
    responsible for: the start page's list."""
    if not CasePolicy.allows(user, CaseAction.LIST):
        return []
    own = CasePolicy.visible_to(user).filter(responsible=user)
    return _open_points(own, until=timezone.localdate())[:limit]


def outcomes_coming_due(*, since: date, until: date) -> list[DuePoint]:
    """System use, no user: the reminders (method.services.outcome_reminders_send), whose
    recipient the case's policy decides. The points without an outcome that fall due from
    `since` to `until`, of every case with an anchor, open or closed, whose responsible
    worker is active (nobody else is reminded), with that worker. Two queries."""
    cases = Case.objects.filter(responsible__is_active=True).select_related("responsible__agency")
    return _open_points(cases, until=until, since=since)


def _open_points(
    cases: QuerySet[Case], *, until: date, since: date | None = None
) -> list[DuePoint]:
    """The points of `cases` without an outcome that fall due by `until` (from `since` on),
    soonest first: the cases cut by their anchor dates and by the points recorded, then
    their outcomes, whatever the number of cases (two queries); due_points decides."""
    configured = settings.AVHOPP_OUTCOME_MONTHS
    candidates = (
        cases.filter(anchored_within(until=until, since=since))
        .annotate(recorded=Count("outcomes", filter=Q(outcomes__months__in=configured)))
        .filter(recorded__lt=len(configured))
        .prefetch_related(Prefetch("outcomes", FollowUpOutcome.objects.only("case_id", "months")))
    )
    points = [
        point
        for case in candidates
        for point in due_points(case, {o.months for o in case.outcomes.all()}, until, since=since)
    ]
    return sorted(points, key=lambda point: (point.due_on, point.case.pk))


@dataclass(frozen=True)
class CaseOutcomes:
    recorded: list[FollowUpOutcome]
    due: list[DuePoint]  # come, and not recorded: the ones to record now
    coming: DuePoint | None  # the next point still to come, which a reminder announces


def outcomes_of(access: CaseAccess) -> CaseOutcomes:
    """The case's recorded outcomes, its points due and the next to come, for the owning
    agency."""
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return CaseOutcomes(recorded=[], due=[], coming=None)
    recorded = list(FollowUpOutcome.objects.filter(case_id=access.case.pk))
    today = timezone.localdate()
    points = due_points(access.case, {o.months for o in recorded}, date.max)
    return CaseOutcomes(
        recorded=recorded,
        due=[point for point in points if point.due_on <= today],
        coming=min(
            (point for point in points if point.due_on > today),
            key=lambda point: point.due_on,
            default=None,
        ),
    )


@dataclass(frozen=True)
class OutcomeAnswers:
    case_id: int
    months: int
    anchor: str
    recorded_at: datetime
    answers: dict[str, str]  # each of OUTCOME_ANSWERS: an Answer code


def outcome_answers(case_ids: Sequence[int]) -> list[OutcomeAnswers]:
    """System use, no user: the national register's build (register.services), which has
    read the cases itself and pseudonymises what it keeps. The coded answers of the cases'
    outcomes, by case and point; an outcome holds no free text. One query."""
    rows = (
        FollowUpOutcome.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "months", "pk")
        .values_list("case_id", "months", "anchor", "recorded_at", *OUTCOME_ANSWERS)
    )
    return [
        OutcomeAnswers(
            case_id, months, anchor, recorded_at, dict(zip(OUTCOME_ANSWERS, answers, strict=True))
        )
        for case_id, months, anchor, recorded_at, *answers in rows
    ]


ANCHOR_ORDER = {value: index for index, value in enumerate(OutcomeAnchor)}


@dataclass(frozen=True)
class OutcomeTally:
    anchor: str
    months: int
    recorded: int
    yes: dict[str, int]  # of OUTCOME_ANSWERS: how many of `recorded` answered yes

    @property
    def key(self) -> str:
        return f"{self.anchor}:{self.months}"

    @property
    def label(self) -> str:
        return _("%(months)s månader %(anchor)s") % {
            "months": self.months,
            "anchor": OutcomeAnchor(self.anchor).label,
        }


def outcome_questions() -> list[tuple[str, str]]:
    """(field, label) of each question of an outcome, in the form's order, in the language
    active now."""
    return [
        (name, str(capfirst(FollowUpOutcome._meta.get_field(name).verbose_name)))
        for name in OUTCOME_ANSWERS
    ]


def outcome_tally(cases: QuerySet[Case], since: datetime, until: datetime) -> list[OutcomeTally]:
    """System use: the statistics (followup.selectors), whose policy has scoped `cases`. The
    outcomes recorded from `since` until before `until`, counted per follow-up point, with
    the yes answers to each question: every configured point (zero when none was recorded),
    and points of an earlier configuration that have outcomes. One query."""
    rows = (
        FollowUpOutcome.objects.filter(
            case__in=cases, recorded_at__gte=since, recorded_at__lt=until
        )
        .values("anchor", "months")
        .annotate(
            recorded=Count("pk"),
            **{
                f"yes_{name}": Count("pk", filter=Q(**{name: Answer.YES}))
                for name in OUTCOME_ANSWERS
            },
        )
        .order_by()
    )
    none = dict.fromkeys(OUTCOME_ANSWERS, 0)
    tallies = {(anchor(), months): (0, none) for months in settings.AVHOPP_OUTCOME_MONTHS}
    for row in rows:
        yes = {name: row[f"yes_{name}"] for name in OUTCOME_ANSWERS}
        tallies[OutcomeAnchor(row["anchor"]), row["months"]] = (row["recorded"], yes)
    return [
        OutcomeTally(point_anchor, months, recorded, yes)
        for (point_anchor, months), (recorded, yes) in sorted(
            tallies.items(), key=lambda item: (ANCHOR_ORDER[item[0][0]], item[0][1])
        )
    ]

"""The statistics, as SQL aggregations over the cases the reader's scope counts: a fixed
number of queries whatever the number of cases (one per figure, one for the municipalities).

Figures count what happened in the period (cases opened, support decided, cases ended,
interventions started, outcomes at follow-up recorded), except three that are a state: active
cases at the period's end, and relocations pending and threat reviews overdue today.

Some of what the follow-up asks for is derived, not recorded (see README): first contact is
the case's `opened_at` (aktualisering), the first support decision its `first_support_at` (set
when it first enters Insatser), housing the earliest start of a housing intervention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, DateField, F, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, TruncDate, TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from avhopp.audit import audit_denied
from avhopp.models import Agency, AgencyKind
from cases.models import (
    END_REASONS,
    OPEN_STATUSES,
    EndReason,
    Intervention,
    InterventionKind,
)
from followup.disclosure import THRESHOLD
from followup.models import QuarterlyReport
from followup.policy import Scope, StatisticsPolicy
from followup.tables import Table, nested, one_way, shares, two_way
from method.selectors import outcome_questions, outcome_tally
from relocations.models import OPEN_STATUSES as OPEN_RELOCATION_STATUSES
from relocations.models import Relocation, RelocationStatus, RelocationStep

if TYPE_CHECKING:
    from avhopp.models import User

HOUSING_KINDS = (
    InterventionKind.EMERGENCY_HOUSING,
    InterventionKind.PROTECTED_HOUSING,
    InterventionKind.LONG_TERM_HOUSING,
)
UNCODED = "uncoded"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def months(self) -> list[date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


@dataclass(frozen=True)
class Median:
    label: str
    days: float | None  # None: too few cases to show (fewer than THRESHOLD)
    count: int | None  # None: hidden


@dataclass(frozen=True)
class Statistics:
    scope: Scope
    period: Period
    active: Table
    new_per_month: Table
    medians: tuple[Median, ...]
    outcomes: Table
    relocations: Table
    relocation_waits: tuple[Median, ...]
    overdue_reviews: Table
    interventions: Table
    follow_ups: Table


def statistics(user: User, period: Period) -> Statistics:
    scope = StatisticsPolicy.scope(user)
    assert scope is not None, "the view checks the policy first"
    cases = StatisticsPolicy.visible_to(user)
    suppress = scope.suppressed
    today = timezone.localdate()
    municipalities = _municipalities(scope)
    relocations, waits = _relocations(scope, suppress)
    return Statistics(
        scope=scope,
        period=period,
        active=_active(cases, period, municipalities, suppress),
        new_per_month=_new_per_month(cases, period, suppress),
        medians=(
            _median(
                _("Dagar från aktualisering till första beslut om insats"),
                cases.filter(opened_at__gte=period.since, opened_at__lt=period.until)
                .filter(first_support_at__isnull=False)
                .annotate(days=_days(TruncDate("first_support_at"), TruncDate("opened_at"))),
                suppress,
            ),
            _median(
                _("Dagar från aktualisering till boende"),
                cases.filter(opened_at__gte=period.since, opened_at__lt=period.until)
                .annotate(housed=Subquery(_first_housing()))
                .filter(housed__isnull=False)
                .annotate(days=_days(F("housed"), TruncDate("opened_at"))),
                suppress,
            ),
        ),
        outcomes=_outcomes(cases, period, suppress),
        relocations=relocations,
        relocation_waits=waits,
        overdue_reviews=_overdue(cases, today, municipalities, suppress),
        interventions=_interventions(cases, period, suppress),
        follow_ups=_follow_ups(cases, period, suppress),
    )


def _municipalities(scope: Scope) -> list[tuple[int, str, str]]:
    """(id, name, region) of the municipalities counted, by region and name."""
    agencies = Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES)
    if not scope.national:
        agencies = agencies.filter(pk=scope.agency_id)
    return list(agencies.order_by("region", "name").values_list("pk", "name", "region"))


def _by_region(municipalities: Iterable[tuple[int, str, str]]) -> list[tuple[str, list]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for pk, name, region in municipalities:
        groups.setdefault(region or _("Okänd region"), []).append((str(pk), name))
    return list(groups.items())


def _active(cases, period: Period, municipalities, suppress: bool) -> Table:
    active = cases.filter(opened_at__lt=period.until).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.until)
    )
    counts = {
        str(agency): n
        for agency, n in active.values_list("owning_agency_id").annotate(n=Count("pk"))
    }
    return nested(
        _("Aktiva ärenden vid periodens slut, per län och kommun"),
        _("Aktiva ärenden"),
        _by_region(municipalities),
        counts,
        suppress=suppress,
    )


def _new_per_month(cases, period: Period, suppress: bool) -> Table:
    opened = cases.filter(opened_at__gte=period.since, opened_at__lt=period.until)
    rows = (
        opened.annotate(month=TruncMonth("opened_at")).values_list("month").annotate(n=Count("pk"))
    )
    counts = {f"{month:%Y-%m}": n for month, n in rows}
    labels = [(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in period.months()]
    return one_way(_("Nya ärenden per månad"), _("Nya ärenden"), labels, counts, suppress=suppress)


def _days(end, start) -> Cast:
    # Whole days between two dates, as an interval PostgreSQL and SQLite both group by.
    return Cast(end, DateField()) - Cast(start, DateField())


def _first_housing() -> Subquery:
    return Subquery(
        Intervention.objects.filter(
            case_id=OuterRef("pk"), kind__in=HOUSING_KINDS, start_date__isnull=False
        )
        .values("case_id")
        .annotate(first=Min("start_date"))
        .values("first")[:1],
        output_field=DateField(),
    )


def _median(label: str, annotated, suppress: bool) -> Median:
    return _median_of(label, _histogram(annotated.values_list("days")), suppress)


def _histogram(rows) -> Counter:
    """Cases by whole days, counted in the database: one row per distinct number of days."""
    histogram: Counter = Counter()
    for days, n in rows.annotate(n=Count("pk")).order_by():
        # An interval on PostgreSQL and SQLite alike (Django's temporal subtraction).
        histogram[days.days] += n
    return histogram


def _median_of(label: str, histogram: Counter, suppress: bool) -> Median:
    """The median number of days; with disclosure control only over THRESHOLD cases or more."""
    total = sum(histogram.values())
    if total == 0 or (suppress and total < THRESHOLD):
        return Median(label, None, None if suppress else total)
    ordered = sorted(histogram.elements())
    middle = total // 2
    median = ordered[middle] if total % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return Median(label, median, total)


def _outcomes(cases, period: Period, suppress: bool) -> Table:
    ended = cases.filter(closed_at__gte=period.since, closed_at__lt=period.until).filter(
        status__in=list(END_REASONS)
    )
    counts = {
        (reason or UNCODED, status): n
        for status, reason, n in ended.values_list("status", "end_reason").annotate(n=Count("pk"))
    }
    reasons = [(reason.value, reason.label) for reason in EndReason]
    reasons.append((UNCODED, _("Orsak ej angiven")))
    columns = [(status.value, status.label) for status in END_REASONS]
    return two_way(
        _("Avslutade och avbrutna ärenden efter orsak"), reasons, columns, counts, suppress=suppress
    )


def _relocations(scope: Scope, suppress: bool) -> tuple[Table, tuple[Median, ...]]:
    pending = Relocation.objects.filter(status__in=list(OPEN_RELOCATION_STATUSES))
    if not scope.national:
        pending = pending.filter(sending_agency_id=scope.agency_id)
    since = Subquery(
        RelocationStep.objects.filter(relocation_id=OuterRef("pk"))
        .order_by("-entered_at", "-id")
        .values("entered_at")[:1]
    )
    today = Value(timezone.localdate(), DateField())
    waited = pending.annotate(days=_days(today, TruncDate(since)))
    histograms: dict[str, Counter] = {}
    for status, days, n in waited.values_list("status", "days").annotate(n=Count("pk")).order_by():
        histograms.setdefault(status, Counter())[days.days] += n
    steps = [(s.value, s.label) for s in RelocationStatus if s in OPEN_RELOCATION_STATUSES]
    counts = {status: sum(h.values()) for status, h in histograms.items()}
    table = one_way(
        _("Omplaceringar som väntar, per steg"), _("Väntar"), steps, counts, suppress=suppress
    )
    waits = tuple(
        _median_of(label, histograms.get(status, Counter()), suppress) for status, label in steps
    )
    return table, waits


def _overdue(cases, today: date, municipalities, suppress: bool) -> Table:
    overdue = cases.filter(status__in=list(OPEN_STATUSES), threat_review_due__lt=today)
    counts = dict(overdue.values_list("owning_agency__region").annotate(n=Count("pk")).order_by())
    regions = sorted({region for _pk, _name, region in municipalities} | set(counts))
    return one_way(
        _("Hotbedömningar som skulle ha omprövats, per län"),
        _("Försenade omprövningar"),
        [(region, region or _("Okänd region")) for region in regions],
        counts,
        suppress=suppress,
    )


def _interventions(cases, period: Period, suppress: bool) -> Table:
    started = Intervention.objects.filter(
        case__in=cases, start_date__gte=period.start, start_date__lte=period.end
    )
    counts = dict(started.values_list("kind").annotate(n=Count("pk")).order_by())
    return one_way(
        _("Insatser som började under perioden, per typ"),
        _("Insatser"),
        [(kind.value, kind.label) for kind in InterventionKind],
        counts,
        suppress=suppress,
    )


def _follow_ups(cases, period: Period, suppress: bool) -> Table:
    tallies = outcome_tally(cases, period.since, period.until)
    return shares(
        _("Resultat vid uppföljning under perioden: andel som svarat ja, procent"),
        [(tally.key, tally.label) for tally in tallies],
        outcome_questions(),
        _("Uppföljningar"),
        {tally.key: tally.recorded for tally in tallies},
        {(tally.key, question): n for tally in tallies for question, n in tally.yes.items()},
        suppress=suppress,
    )


def get_report_for_user(user: User, pk: int) -> QuarterlyReport:
    """404 for a report not of the user's scope."""
    report = StatisticsPolicy.reports_visible_to(user).filter(pk=pk).first()
    if report is None:
        audit_denied(actor=user, object_type="followup.QuarterlyReport", object_id=pk, case_id=None)
        raise Http404
    return report

"""When a case's outcomes are due: the configured months after it closed (or was dropped) or
after its support began (settings.AVHOPP_OUTCOME_MONTHS and AVHOPP_OUTCOME_FROM)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

from cases.models import Case
from method.models import OutcomeAnchor


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def anchor() -> OutcomeAnchor:
    return OutcomeAnchor(settings.AVHOPP_OUTCOME_FROM)


def anchor_field() -> str:
    return "closed_at" if anchor() == OutcomeAnchor.CLOSED else "first_support_at"


def anchor_day(case: Case) -> date | None:
    moment = getattr(case, anchor_field())
    return timezone.localdate(moment) if moment else None


@dataclass(frozen=True)
class DuePoint:
    case: Case
    months: int
    due_on: date


def due_points(case: Case, recorded: set[int], today: date) -> list[DuePoint]:
    """The follow-up points of the case that have come and have no outcome yet."""
    start = anchor_day(case)
    if start is None:
        return []
    points = [
        DuePoint(case=case, months=months, due_on=months_after(start, months))
        for months in settings.AVHOPP_OUTCOME_MONTHS
        if months not in recorded
    ]
    return [point for point in points if point.due_on <= today]

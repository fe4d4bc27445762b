"""When a case's outcomes are due: the configured months after it closed (or was dropped) or
after its support began (settings.AVHOPP_OUTCOME_MONTHS and AVHOPP_OUTCOME_FROM)."""

from __future__ import annotations

import calendar
import operator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.conf import settings
from django.db.models import Q
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


def due_points(
    case: Case, recorded: set[int], until: date, *, since: date | None = None
) -> list[DuePoint]:
    """The follow-up points of the case without an outcome that fall due by `until` (and
    from `since` on, when given): with `until` today, those that have come."""
    start = anchor_day(case)
    if start is None:
        return []
    points = [
        DuePoint(case=case, months=months, due_on=months_after(start, months))
        for months in settings.AVHOPP_OUTCOME_MONTHS
        if months not in recorded
    ]
    return [
        point
        for point in points
        if point.due_on <= until and (since is None or since <= point.due_on)
    ]


def last_anchor(until: date, months: int) -> date:
    """The last anchor day whose point `months` on falls due by `until`, the inverse of
    months_after: a day past a shorter month's end falls due on that month's last day, so
    when `until` ends its month, the whole month `months` before counts."""
    back = months_after(until, -months)
    if (until + timedelta(days=1)).day != 1:
        return back
    return back.replace(day=calendar.monthrange(back.year, back.month)[1])


def anchored_within(*, until: date, since: date | None = None) -> Q:
    """Cases whose anchor lets a configured point fall due by `until` (and from `since` on),
    as one anchor range per point: the database's cut, before due_points lists the points."""
    field = anchor_field()
    ranges = []
    for months in settings.AVHOPP_OUTCOME_MONTHS:
        window = Q(**{f"{field}__lt": _midnight(last_anchor(until, months) + timedelta(days=1))})
        if since is not None:
            first = last_anchor(since - timedelta(days=1), months) + timedelta(days=1)
            window &= Q(**{f"{field}__gte": _midnight(first)})
        ranges.append(window)
    return reduce(operator.or_, ranges)


def _midnight(day: date) -> datetime:
    """The day's start where anchor_day reads it: the local time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))

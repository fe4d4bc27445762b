"""Answer deadlines: working days for an offer, a calendar month for a handover."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import holidays


def is_working_day(day: date) -> bool:
    """Not a weekend, a Swedish public holiday, or one of the eves no office answers on
    (Midsummer, Christmas and New Year's Eve: not holidays by law, days off in practice)."""
    if day.weekday() >= 5 or day in holidays.Sweden(years=day.year, include_sundays=False):
        return False
    midsummer_eve = day.month == 6 and 19 <= day.day <= 25 and day.weekday() == 4
    return not midsummer_eve and (day.month, day.day) not in {(12, 24), (12, 31)}


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def one_month_after(start: date) -> date:
    """The same day next month, or its last day when shorter (31 January: 28/29 February):
    the month within which a receiving municipality must answer a handover (SoL)."""
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )

"""The date rules of gallring, apart from the database so the boundaries can be tested alone."""

from __future__ import annotations

from datetime import date

from cases.models import Individual


def add_years(day: date, years: int) -> date:
    """The same date `years` on. A period counted from 29 February ends on 28 February when
    the end year has none (lag (1930:173) om beräkning av lagstadgad tid)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def due_dates(last_entry: date, years: int) -> tuple[date, date]:
    """When a file becomes due, and the last day by which it must be gone: the end of the
    calendar year after the one it became due in."""
    due = add_years(last_entry, years)
    return due, date(due.year + 1, 12, 31)


def birth_day_of_month(individual: Individual) -> int | None:
    """The day of the month the person was born, from the birth date or the identity number
    (a samordningsnummer adds 60 to the day); None for a reserve identity without a date."""
    if individual.birth_date is not None:
        return individual.birth_date.day
    if individual.personnummer:
        day = int(individual.personnummer[6:8])
        return day - 60 if day > 60 else day
    return None

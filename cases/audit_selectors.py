"""Permission-aware reads of the audit log."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Count, F, Max, Min, Q, QuerySet, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone

from avhopp.models import AuditAction, AuditEvent, AuditShownCase, User
from cases.identity import parse_identity_number
from cases.models import Case, LogSampleReview
from cases.policy import AuditLogPolicy
from cases.selectors import named

# A search by name reads the log of at most this many cases (each through the case index):
# more, and the reviewer is asked for more of the name. A number names one person.
NAME_SEARCH_CASES = 10

# What counts as reading a file, for the month's sample.
READ_ACTIONS = (
    AuditAction.CASE_VIEW,
    AuditAction.OUTSIDE_ASSIGNMENT_READ,
    AuditAction.IDENTITY_REVEAL,
    AuditAction.THREAT_DETAILS_VIEW,
    AuditAction.REFERRAL_VIEW,
    AuditAction.DOCUMENT_DOWNLOAD,
    AuditAction.RELOCATION_VIEW,
    AuditAction.DESTINATION_VIEW,
)


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    return AuditLogPolicy.visible_to(user)


def touching_cases(case_ids: Collection[int]) -> Q:
    """Events about the cases, and the list and search pages that showed them (a condition on
    the events table itself, not an alias of it).

    A union rather than OR, so each half reads its own index: the events' (case_id, time)
    index and the shown cases' unique (case_id, event_id, event_occurred_at) one. The union
    gives each event's id *and time*: the time is the partition key, so each event is then
    looked up in its own month's partition. Matched on the id alone, every lookup probed every
    month's partition: 5,468 buffers for a case's hundred events on a 2,000,000-event log, 554
    by id and time (EXPLAIN in bench/README.md). Several cases cost what each costs alone."""
    ids = sorted(case_ids)
    if not ids:
        return Q(pk__in=[])
    events, shown = AuditEvent._meta.db_table, AuditShownCase._meta.db_table
    match = "= %s" if len(ids) == 1 else f"IN ({', '.join(['%s'] * len(ids))})"
    # Names from the models and the ids as parameters: nothing from the request in the SQL.
    union = (
        f'("{events}"."id", "{events}"."occurred_at") IN ('  # noqa: S608
        f'SELECT "id", "occurred_at" FROM "{events}" WHERE "case_id" {match}'
        f' UNION ALL SELECT "event_id", "event_occurred_at" FROM "{shown}"'
        f' WHERE "case_id" {match})'
    )
    return Q(RawSQL(union, [*ids, *ids], output_field=BooleanField()))  # noqa: S611


def touching_case(case_id: int) -> Q:
    return touching_cases([case_id])


def newest_touching_cases(
    events: QuerySet[AuditEvent], case_ids: Collection[int]
) -> QuerySet[AuditEvent]:
    """`events` that concern the cases or showed them in a list, newest first, for a page.

    touching_case's condition makes PostgreSQL find *every* matching event before it sorts
    and takes a page: the cost grows with the log (at 20,000,000 events, a case's 1,044
    events, 5,413 buffers, 27 ms). Here the two halves are a UNION ALL, each read newest
    first from its own index (the events' (case_id, time), the shown cases' (case_id, time)),
    and the planner merges them, so LIMIT stops both after one page: 603 buffers, 2.8 ms on
    the same log (EXPLAIN in bench/README.md). The shown cases are joined to their event on
    the id *and* the time, the partition key, so each lookup reads one month's partition.
    Other filters go on `events` before this: a union takes no filter after it."""
    ids = list(case_ids)
    about = events.filter(case_id__in=ids)
    listed = events.filter(
        shown_cases__case_id__in=ids, shown_cases__event_occurred_at=F("occurred_at")
    )
    return about.union(listed, all=True).order_by("-occurred_at", "-id")


def case_readers(case: Case) -> QuerySet[AuditEvent]:
    """Who has opened this case or seen it listed: the per-case access log, for a reader the
    checkpoint let in with CaseAction.VIEW_ACCESS_LOG."""
    return newest_touching_cases(AuditEvent.objects.all(), [case.pk])


# --- Searching by case reference, name or identity number -------------------------------------


class TooManyCases(Exception):
    """A name found in more than NAME_SEARCH_CASES cases."""


def cases_of_person(user: User, text: str) -> list[int]:
    """The ids of the cases a log search by identity number or name is about, through the
    case search's own parsing and name index; the log is then read through the case index
    (touching_cases), as a search by case is, so it costs what the cases' searches cost.

    A number names one person, whatever agency has them: the log itself then shows only what
    the reviewer may see, so it never tells whether the number is registered. A name is looked
    up among the cases the reviewer's agency sees, at most NAME_SEARCH_CASES of them
    (TooManyCases beyond). A text with digits that is no identity number is a
    ValidationError."""
    try:
        number = parse_identity_number(text, today=timezone.localdate())
    except ValidationError:
        if any(char.isdigit() for char in text):
            raise
        number = None
    if number:
        found = Case.objects.filter(individual__personnummer=number)
    else:
        found = AuditLogPolicy.cases_found_by_name(user).filter(named(text.split()[:4]))
    case_ids = list(found.order_by("-pk").values_list("pk", flat=True)[: NAME_SEARCH_CASES + 1])
    if not number and len(case_ids) > NAME_SEARCH_CASES:
        raise TooManyCases
    return case_ids


# --- The agency's events over a period: per-user summary and the month's sample ---------------


def _agency_parts(
    user: User, start: datetime, end: datetime, actions: Iterable[str] = ()
) -> list[QuerySet[AuditEvent]]:
    """The events the user reads from [start, end), as two disjoint sets that each read an
    index: those about the agency's own cases (the case index) and those by its own staff
    about anything else (the user index). The policy's visible set ORs the two, which no index
    serves: over a month of a national log that read the whole month. Both stay within it."""
    events = audit_events_visible_to(user).filter(occurred_at__gte=start, occurred_at__lt=end)
    if actions:
        events = events.filter(action__in=list(actions))
    own_cases = AuditLogPolicy.own_cases(user)
    return [
        events.filter(case_id__in=own_cases),
        events.filter(user_id__in=AuditLogPolicy.staff(user)).exclude(case_id__in=own_cases),
    ]


@dataclass(frozen=True)
class UserSummary:
    username: str
    agency: str
    role: str
    events: int
    first: datetime
    last: datetime


# Rows of the summary page at most: more users than this in one period is not a summary.
SUMMARY_ROWS = 1000


def user_summary(user: User, start: datetime, end: datetime) -> list[UserSummary]:
    """Per user (as the log names them), the number of events and the first and last, from
    [start, end): one grouped query per part, summed here."""
    totals: dict[tuple[str, str, str], UserSummary] = {}
    for part in _agency_parts(user, start, end):
        grouped = (
            part.order_by()
            .values("username", "agency_name", "role")
            .annotate(events=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        )
        for row in grouped:
            key = (row["username"], row["agency_name"], row["role"])
            seen = totals.get(key)
            totals[key] = UserSummary(
                username=row["username"],
                agency=row["agency_name"],
                role=row["role"],
                events=row["events"] + (seen.events if seen else 0),
                first=min(row["first"], seen.first) if seen else row["first"],
                last=max(row["last"], seen.last) if seen else row["last"],
            )
    ordered = sorted(totals.values(), key=lambda row: (-row.events, row.username))
    return ordered[:SUMMARY_ROWS]


# The draw's modulus: a prime, so that (id mod P) * a + b stays within a 64-bit integer.
_DRAW_MODULUS = 2**31 - 1


@dataclass(frozen=True)
class MonthSample:
    """The month's sample: one read drawn from each of `size` equal periods of the month, for
    each period that has ended (so a drawn read never changes), oldest first."""

    month: datetime  # the first moment of the month, Swedish time
    size: int
    events: list[AuditEvent]
    reviews: dict[int, LogSampleReview]  # by event id

    @property
    def drawn(self) -> int:
        return len(self.events)


def month_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    """The first moment of the month after `start` (a month's first moment), Swedish time."""
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return timezone.make_aware(datetime(year, month, 1))


def month_sample(
    user: User, start: datetime, size: int, now: datetime | None = None
) -> MonthSample:
    """The sample of the month that begins at `start` for the user's agency: read events the
    user may see, one drawn from each of `size` equal periods of the month once the period has
    ended.

    The draw is the smallest keyed hash of the event id in each period, keyed by the secret key,
    the agency and the month: the same every time it is read, and nobody whose reads are sampled
    can tell in advance which will be. It costs what the agency's reads of the month cost (two
    indexed parts, one query each), never the whole national log's month."""
    now = now or timezone.now()
    end = next_month(start)
    step = (end - start) / size
    bounds = [start + step * index for index in range(size + 1)]
    closed = sum(1 for bound in bounds[1:] if bound <= now)
    events: list[AuditEvent] = []
    if closed:
        a, b = _draw_key(user, start)
        draw = (F("id") % _DRAW_MODULUS) * a + b
        slot = models.Case(
            *[
                When(occurred_at__lt=bound, then=Value(index))
                for index, bound in enumerate(bounds[1:])
            ],
            default=Value(size),
            output_field=models.IntegerField(),
        )
        best: dict[int, tuple[int, int, AuditEvent]] = {}
        for part in _agency_parts(user, start, bounds[closed], READ_ACTIONS):
            ranked = (
                part.annotate(slot=slot, draw=(draw % _DRAW_MODULUS))
                .annotate(
                    rank=Window(
                        RowNumber(), partition_by=[F("slot")], order_by=[F("draw"), F("id")]
                    )
                )
                .filter(rank=1)
            )
            for event in ranked:
                candidate = (event.draw, event.pk, event)
                if event.slot not in best or candidate[:2] < best[event.slot][:2]:
                    best[event.slot] = candidate
        events = [best[index][2] for index in sorted(best)]
    reviews = LogSampleReview.objects.filter(
        agency_id=user.agency_id,
        event_id__in=[event.pk for event in events],
        event_occurred_at__gte=start,
        event_occurred_at__lt=end,
    ).select_related("reviewed_by")
    return MonthSample(
        month=start,
        size=size,
        events=events,
        reviews={review.event_id: review for review in reviews},
    )


def _draw_key(user: User, start: datetime) -> tuple[int, int]:
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"log-sample:{user.agency_id}:{start:%Y-%m}".encode(),
        hashlib.sha256,
    ).digest()
    a = int.from_bytes(digest[:8], "big") % (_DRAW_MODULUS - 1) + 1
    b = int.from_bytes(digest[8:16], "big") % _DRAW_MODULUS
    return a, b


def sample_for(user: User, *, previous: bool = False, now: datetime | None = None) -> MonthSample:
    """This month's sample of the user's agency, or last month's."""
    now = now or timezone.now()
    start = month_start(now)
    if previous:
        start = month_start(start - timedelta(days=1))
    return month_sample(user, start, settings.AVHOPP_LOG_SAMPLE_SIZE, now=now)


def sampled_event(sample: MonthSample, event_id: int) -> AuditEvent | None:
    return next((event for event in sample.events if event.pk == event_id), None)

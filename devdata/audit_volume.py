"""A national-size audit log for the log benchmark (`seed_scale --audit-events N`), written by
PostgreSQL itself: one `INSERT ... SELECT ... FROM generate_series(...)` a month, never a row
through Python, so 20,000,000 events take minutes.

The events spread over the 24 months before now, each month in its own partition (made first
with the migration's `avhopp_audit_create_month`, so nothing lands in the DEFAULT partition).
The people, users and cases are the seeded dataset's:

- 70 % are about a case: its owning agency's staff (the responsible social worker in 60 %),
  the action drawn from `CASE_AUDIT_ACTIONS`, the person's id on a case view. Which case is
  skewed (the square of a uniform draw over the cases in a random order): a few cases are read
  far more than most, as in life.
- 30 % are a user's own (list, search, sign-in and out, refused), from `USER_AUDIT_ACTIONS`,
  by any seeded user; `SHOWN_FRACTION` of the list and search events also name the
  `SHOWN_PER_LIST` cases of the user's agency the page showed (the shown-cases table).

The append-only trigger stays in place: it guards UPDATE and DELETE, and this only inserts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from avhopp.audit_partitions import LOG_TABLES, add_months
from avhopp.models import AuditAction, Role

MONTHS = 24
SHOWN_FRACTION = 0.1
SHOWN_PER_LIST = 5
CASE_SHARE = 0.7
RESPONSIBLE_SHARE = 0.6


def _case_expression(choices: list[tuple[str, float]], draw: str) -> str:
    """A weighted choice as a CASE over one uniform draw in [0, 1). The values are the
    actions' own constants (checked to be plain words), written into the SQL."""
    total = sum(weight for _value, weight in choices)
    parts, running = [], 0.0
    for value, weight in choices[:-1]:
        running += weight / total
        parts.append(f"WHEN {draw} < {running:.6f} THEN '{_word(value)}'")
    return f"CASE {' '.join(parts)} ELSE '{_word(choices[-1][0])}' END"


def _word(value: object) -> str:
    text = str(value)
    if not re.fullmatch(r"[a-z0-9_]+", text):
        raise ValueError(f"not an action constant: {text!r}")
    return text


def month_windows(
    now: datetime, total: int, months: int = MONTHS
) -> list[tuple[datetime, datetime, int]]:
    """(start, end, events) for each calendar month of the `months` before now, the first and
    the current one partial; events in proportion to each window's length, summing to total."""
    start = now - timedelta(days=round(months * 365.25 / 12))
    first = start.date().replace(day=1)
    windows = []
    month = first
    while True:
        lower = max(start, datetime(month.year, month.month, 1, tzinfo=UTC))
        following = add_months(month, 1)
        upper = min(now, datetime(following.year, following.month, 1, tzinfo=UTC))
        if lower >= now:
            break
        windows.append((lower, upper))
        month = following
    span = (now - start).total_seconds()
    counted, given = [], 0
    for index, (lower, upper) in enumerate(windows):
        if index == len(windows) - 1:
            share = total - given
        else:
            share = round(total * (upper - lower).total_seconds() / span)
        given += share
        counted.append((lower, upper, share))
    return counted


def create_months(first: date, last: date) -> int:
    """The log's partitions of every month from first to last; how many the database made."""
    made = 0
    with connection.cursor() as cursor:
        month = first.replace(day=1)
        while month <= last:
            cursor.execute("SELECT avhopp_audit_create_month(%s)", [month])
            made += int(bool(cursor.fetchone()[0]))
            month = add_months(month, 1)
    return made


def _lookup_tables(cursor, case_table: str, user_table: str, agency_table: str) -> None:
    staff_roles = [Role.SOCIAL_WORKER, Role.COORDINATOR]
    cursor.execute(
        "CREATE TEMP TABLE seed_user ON COMMIT DROP AS"  # noqa: S608 (model tables, constant actions)
        " SELECT row_number() OVER (ORDER BY u.id)::int AS n, u.id, u.username, u.agency_id,"
        f" a.name AS agency_name, u.role FROM {user_table} u JOIN {agency_table} a"
        " ON a.id = u.agency_id"
    )
    cursor.execute(
        "CREATE TEMP TABLE seed_staff ON COMMIT DROP AS"
        " SELECT row_number() OVER (PARTITION BY agency_id ORDER BY id)::int AS k, *"
        " FROM seed_user WHERE role = ANY(%s)",
        [staff_roles],
    )
    cursor.execute(
        "CREATE TEMP TABLE seed_case ON COMMIT DROP AS"  # noqa: S608 (model tables, constant actions)
        " SELECT row_number() OVER (ORDER BY md5(c.id::text))::int AS n, c.id,"
        " c.individual_id, c.owning_agency_id,"
        " r.username AS r_username, r.id AS r_id, r.role AS r_role,"
        " COALESCE(s.staff_count, 0) AS staff_count"
        f" FROM {case_table} c LEFT JOIN seed_user r ON r.id = c.responsible_id"
        " LEFT JOIN (SELECT agency_id, count(*)::int AS staff_count FROM seed_staff"
        "  GROUP BY agency_id) s ON s.agency_id = c.owning_agency_id"
    )
    cursor.execute(
        "CREATE TEMP TABLE seed_agency_case ON COMMIT DROP AS"
        " SELECT owning_agency_id AS agency_id,"
        " row_number() OVER (PARTITION BY owning_agency_id ORDER BY id)::int AS k, id AS case_id"
        " FROM seed_case"
    )
    cursor.execute(
        "CREATE TEMP TABLE seed_agency ON COMMIT DROP AS"  # noqa: S608 (model tables, constant actions)
        " SELECT a.id AS agency_id, a.name,"
        " COALESCE(c.cases, 0) AS cases"
        f" FROM {agency_table} a LEFT JOIN (SELECT agency_id, count(*)::int AS cases"
        "  FROM seed_agency_case GROUP BY agency_id) c ON c.agency_id = a.id"
    )
    for table, key in (
        ("seed_user", "n"),
        ("seed_staff", "agency_id, k"),
        ("seed_case", "n"),
        ("seed_agency_case", "agency_id, k"),
        ("seed_agency", "agency_id"),
    ):
        cursor.execute(f"CREATE UNIQUE INDEX ON {table} ({key})")
        cursor.execute(f"ANALYZE {table}")


@contextmanager
def _indexes_built_after(cursor) -> Iterator[None]:
    """The log tables' secondary indexes dropped while the rows go in and built again, the
    same definitions, afterwards: one sort a partition instead of millions of random inserts
    into four B-trees (several times faster). The keys stay, so ids stay unique throughout.
    Inside the seeder's transaction: a failure leaves the indexes as they were."""
    definitions = []
    for table in LOG_TABLES:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [table],
        )
        definitions += cursor.fetchall()
    for name, _definition in definitions:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _name, definition in definitions:
        # A partitioned table's index is defined "ON ONLY" the parent; made again on the parent
        # as a whole, it is made on every partition too.
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))


def seed_audit_events(
    total: int,
    *,
    now: datetime,
    seed: int,
    case_actions: list[tuple[str, float]],
    user_actions: list[tuple[str, float]],
    log: Callable[[str], None] = print,
) -> tuple[int, int]:
    """Insert `total` events over the 24 months before now; (events, shown-case rows)."""
    from avhopp.models import Agency, User
    from cases.models import Case

    windows = month_windows(now, total)
    create_months(windows[0][0].date(), add_months(now.date().replace(day=1), 3))
    case_action = _case_expression(case_actions, "p.r_action")
    user_action = _case_expression(user_actions, "p.r_action")
    listing = [AuditAction.CASE_LIST.value, AuditAction.CASE_SEARCH.value]
    events = shown = 0
    with connection.cursor() as cursor, _indexes_built_after(cursor):
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        _lookup_tables(cursor, Case._meta.db_table, User._meta.db_table, Agency._meta.db_table)
        cursor.execute("SELECT count(*) FROM seed_case")
        case_count = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM seed_user")
        user_count = cursor.fetchone()[0]
        for lower, upper, count in windows:
            started = time.perf_counter()
            if count <= 0:
                continue
            cursor.execute(
                # The draws in a subquery that is never flattened (OFFSET 0): each random()
                # once a row.
                "WITH picks AS ("  # noqa: S608 (model tables, constant actions)
                " SELECT %(lower)s::timestamptz + random() * (%(upper)s::timestamptz"
                "   - %(lower)s::timestamptz) AS occurred_at,"
                "  random() < %(case_share)s AS about_case, random() AS r_action,"
                "  1 + floor(power(random(), 2) * %(cases)s)::int AS case_n,"
                "  random() < %(responsible)s AS by_responsible, random() AS r_staff,"
                "  1 + floor(random() * %(users)s)::int AS user_n,"
                "  random() < %(shown)s AS lists_cases,"
                "  '10.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int"
                "   || '.' || (1 + floor(random() * 254)::int) AS ip,"
                "  lpad(to_hex(floor(random() * 4294967296)::bigint), 8, '0')"
                "   || lpad(to_hex(floor(random() * 4294967296)::bigint), 8, '0') AS request_id"
                " FROM generate_series(1, %(count)s) OFFSET 0"
                "), made AS ("
                " INSERT INTO avhopp_auditevent (occurred_at, user_id, username, agency_id,"
                "  agency_name, role, action, object_type, object_id, case_id, individual_id,"
                "  ip_address, request_id, reason)"
                " SELECT occurred_at, user_id, username, agency_id, agency_name, role, action,"
                "  CASE WHEN case_id IS NULL THEN '' ELSE 'cases.Case' END,"
                "  COALESCE(case_id::text, ''), case_id,"
                "  CASE WHEN action = %(view)s THEN individual_id END,"
                "  ip::inet, request_id,"
                "  CASE WHEN action = %(outside)s THEN 'supervision' ELSE '' END"
                " FROM ("
                "  SELECT p.occurred_at, p.ip, p.request_id,"
                "   CASE WHEN p.about_case THEN COALESCE(r.id, s.id) ELSE u.id END AS user_id,"
                "   CASE WHEN p.about_case THEN COALESCE(r.username, s.username)"
                "    ELSE u.username END AS username,"
                "   CASE WHEN p.about_case THEN c.owning_agency_id ELSE u.agency_id END"
                "    AS agency_id,"
                "   CASE WHEN p.about_case THEN a.name ELSE u.agency_name END AS agency_name,"
                "   CASE WHEN p.about_case THEN COALESCE(r.role, s.role) ELSE u.role END"
                "    AS role,"
                f"  CASE WHEN p.about_case THEN {case_action} ELSE {user_action} END AS action,"
                "   CASE WHEN p.about_case THEN c.id END AS case_id,"
                "   CASE WHEN p.about_case THEN c.individual_id END AS individual_id"
                "  FROM picks p"
                "  JOIN seed_user u ON u.n = p.user_n"
                "  JOIN seed_case c ON c.n = p.case_n"
                "  LEFT JOIN seed_agency a ON a.agency_id = c.owning_agency_id"
                "  LEFT JOIN seed_user r ON p.by_responsible AND r.id = c.r_id"
                "  LEFT JOIN seed_staff s ON s.agency_id = c.owning_agency_id"
                "   AND s.k = 1 + floor(p.r_staff * greatest(c.staff_count, 1))::int"
                " ) chosen"
                " RETURNING id, occurred_at, agency_id, action,"
                "  (ip_address IS NOT NULL AND random() < %(shown)s) AS lists_cases"
                "), listed AS ("
                " INSERT INTO avhopp_auditshowncase (event_id, event_occurred_at, case_id)"
                " SELECT DISTINCT pick.id, pick.occurred_at, ac.case_id FROM ("
                "  SELECT m.id, m.occurred_at, m.agency_id,"
                "   1 + floor(random() * ag.cases)::int AS k"
                "  FROM made m JOIN seed_agency ag ON ag.agency_id = m.agency_id"
                "   AND ag.cases > 0"
                "  CROSS JOIN generate_series(1, %(per_list)s)"
                "  WHERE m.lists_cases AND m.action = ANY(%(listing)s) OFFSET 0"
                " ) pick JOIN seed_agency_case ac ON ac.agency_id = pick.agency_id"
                "  AND ac.k = pick.k"
                " RETURNING 1"
                ") SELECT (SELECT count(*) FROM made), (SELECT count(*) FROM listed)",
                {
                    "lower": lower,
                    "upper": upper,
                    "count": count,
                    "case_share": CASE_SHARE,
                    "responsible": RESPONSIBLE_SHARE,
                    "cases": case_count,
                    "users": user_count,
                    "shown": SHOWN_FRACTION,
                    "view": AuditAction.CASE_VIEW.value,
                    "outside": AuditAction.OUTSIDE_ASSIGNMENT_READ.value,
                    "per_list": SHOWN_PER_LIST,
                    "listing": listing,
                },
            )
            made, listed = cursor.fetchone()
            events += made
            shown += listed
            log(
                f"    {lower:%Y-%m}: {made:>10,} events, {listed:>8,} shown cases"
                f"  {time.perf_counter() - started:6.1f} s"
            )
    return events, shown

"""The audit log's monthly partitions on PostgreSQL (migration 0008): made ahead of time, and
dropped whole once older than the log's retention. The embedded SQLite default has plain
tables, where both are no-ops.

Both take a brief exclusive lock on the log tables (PostgreSQL's rule for adding or removing a
partition), so both run with a short `lock_timeout`: behind a long transaction they give up and
the next run tries again, rather than queueing every request's log write behind them.
"""

from __future__ import annotations

import logging
import re
from datetime import date

from django.db import connection, transaction

from avhopp.audit import audit_record
from avhopp.models import AuditAction

logger = logging.getLogger(__name__)

LOG_TABLES = ("avhopp_auditevent", "avhopp_auditshowncase")
_MONTH_SUFFIX = re.compile(r"_y(\d{4})m(\d{2})$")


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def audit_partitions_ahead(*, today: date, months_ahead: int = 3) -> list[date]:
    """Make the partitions of this month and the next `months_ahead`; the months made.

    A month whose rows already went to the DEFAULT partition is left there (the database
    function says why) and logged as a warning: the log is whole either way."""
    if not partitioned():
        return []
    made = []
    first = today.replace(day=1)
    for offset in range(months_ahead + 1):
        month = add_months(first, offset)
        if month in audit_partition_months():
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            cursor.execute("SELECT avhopp_audit_create_month(%s)", [month])
            if cursor.fetchone()[0]:
                made.append(month)
            else:
                logger.warning("audit log rows of %s are in the default partition", month)
    return made


def audit_partition_months() -> set[date]:
    """The months that have their own partition of the events table."""
    if not partitioned():
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'avhopp_auditevent'::regclass"
        )
        names = [row[0] for row in cursor.fetchall()]
    months = set()
    for name in names:
        match = _MONTH_SUFFIX.search(name)
        if match:
            months.add(date(int(match[1]), int(match[2]), 1))
    return months


def audit_partitions_drop_before(*, month: date) -> list[date]:
    """Drop the log's partitions of every month before `month`, each month in its own
    transaction and logged. The append-only trigger guards rows, not tables: a whole month
    leaving at the end of its retention is the only way rows ever leave the log."""
    dropped = []
    for old in sorted(m for m in audit_partition_months() if m < month):
        suffix = f"_y{old:%Y}m{old:%m}"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            for table in LOG_TABLES:
                cursor.execute(f'DROP TABLE IF EXISTS "{table}{suffix}"')
            audit_record(
                actor=None,
                action=AuditAction.AUDIT_PARTITION_DROPPED,
                object_type="avhopp.AuditEvent",
                object_id=f"{old:%Y-%m}",
            )
        dropped.append(old)
    return dropped

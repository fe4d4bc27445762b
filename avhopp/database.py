"""Prepared statements on PostgreSQL, and the pages whose queries must not use them.

Most of a page's queries look rows up by key: the session, the user, a case and what hangs
off it. PostgreSQL spends longer planning those than running them, so psycopg prepares each
statement once it has run a few times on a connection and PostgreSQL reuses a generic plan.

A generic plan is made without the values, and that is wrong for lists, whose best plan does
depend on them: how many cases an agency holds, how many people a name matches (a name search
planned for another agency's search took almost twice as long). Views that list or search run
under `planned_for_values`, whose statements are planned at every execution.

Where PostgreSQL's estimate is wrong in a way no statistic can fix, `joined_by_lookup` tells
it how to join (one page of the audit log).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, transaction
from django.db.backends.postgresql.base import ServerBindingCursor

_planned_for_values: ContextVar[bool] = ContextVar("planned_for_values", default=False)


@contextmanager
def planned_for_values() -> Iterator[None]:
    """Plan every statement for its own values (usable as a decorator, on list views)."""
    token = _planned_for_values.set(True)
    try:
        yield
    finally:
        _planned_for_values.reset(token)


@contextmanager
def joined_by_lookup() -> Iterator[None]:
    """For reads only: join by index lookups alone (nested loops) in the statements inside,
    in a transaction of their own that is rolled back at the end, taking the setting with it,
    so whatever encloses the block plans as before. On SQLite, nothing changes.

    For a page of the log that joins the lists that showed a case to their events: PostgreSQL
    cannot know that the reviewer's filter on the events keeps most of those the case was
    listed in (the filter is on another table), so it reckons the lookups dear and filters
    every event the reviewer may see before it joins, a cost that grows with the log. Looked
    up one by one from the case's newest listings, the page costs the same at any size."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('enable_hashjoin', 'off', true),"
            " set_config('enable_mergejoin', 'off', true)"
        )
        yield
        transaction.set_rollback(True)


class PreparingCursor(ServerBindingCursor):
    """Django's server-binding cursor, which psycopg may prepare statements for, except
    under `planned_for_values`."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if _planned_for_values.get():
            kwargs["prepare"] = False
        return super().execute(query, params, **kwargs)

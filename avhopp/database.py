"""Prepared statements on PostgreSQL, and the pages whose queries must not use them.

Most of a page's queries look rows up by key: the session, the user, a case and what hangs
off it. PostgreSQL spends longer planning those than running them, so psycopg prepares each
statement once it has run a few times on a connection and PostgreSQL reuses a generic plan.

A generic plan is made without the values, and that is wrong for lists, whose best plan does
depend on them: how many cases an agency holds, how many people a name matches (a name search
planned for another agency's search took almost twice as long). Views that list or search run
under `planned_for_values`, whose statements are planned at every execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

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


class PreparingCursor(ServerBindingCursor):
    """Django's server-binding cursor, which psycopg may prepare statements for, except
    under `planned_for_values`."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if _planned_for_values.get():
            kwargs["prepare"] = False
        return super().execute(query, params, **kwargs)

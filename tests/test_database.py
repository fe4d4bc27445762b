"""Prepared statements (avhopp.database): key lookups are prepared, list pages are planned
for their values. Read from PostgreSQL's own view of the connection's prepared statements."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from avhopp.audit import audit_record
from avhopp.database import joined_by_lookup, planned_for_values
from avhopp.models import AuditAction, AuditEvent, User
from cases.models import Case

pytestmark = pytest.mark.django_db

# psycopg prepares a statement on its fifth run on a connection (settings.DATABASES).
RUNS = 6
GRANTS = "cases_casegroupobjectpermission"
USERNAME_LOOKUP = 'SELECT "avhopp_user"."username" AS "username" FROM "avhopp_user"'


@pytest.fixture(autouse=True)
def _nothing_prepared_yet() -> None:
    # psycopg sees DEALLOCATE ALL go through it and forgets its own statements too.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


def _prepared(fragment: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchone()[0]


def _username(user: User) -> str:
    return User.objects.values_list("username", flat=True).get(pk=user.pk)


def test_a_repeated_key_lookup_is_prepared(worker: User) -> None:
    for _ in range(RUNS):
        assert _username(worker) == worker.username
    assert _prepared(USERNAME_LOOKUP) == 1


def test_statements_planned_for_values_are_never_prepared(worker: User) -> None:
    with planned_for_values():
        for _ in range(RUNS):
            assert _username(worker) == worker.username
    assert _prepared(USERNAME_LOOKUP) == 0
    # The opt-out ends with its block.
    for _ in range(RUNS):
        _username(worker)
    assert _prepared(USERNAME_LOOKUP) == 1


def test_the_case_list_is_planned_for_its_reader_and_the_case_page_is_prepared(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    client = login(worker)
    for _ in range(RUNS):
        response = client.get(reverse("cases:list"), {"q": case.individual.last_name})
        assert case.reference in response.content.decode()
    assert _prepared(GRANTS) == 0
    for _ in range(RUNS):
        assert client.get(case.get_absolute_url()).status_code == 200
    assert _prepared(GRANTS) == 1  # the checkpoint's lookup of the case


def _join_settings() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')"
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_joined_by_lookup_holds_inside_the_block_only(case: Case) -> None:
    with joined_by_lookup():
        assert _join_settings() == ("off", "off")
        plan = (
            AuditEvent.objects.filter(shown_cases__case_id=case.pk)
            .order_by("-occurred_at")
            .explain()
        )
        assert "Hash Join" not in plan and "Merge Join" not in plan
    # Back for the rest of the enclosing transaction, also when the block failed.
    assert _join_settings() == ("on", "on")
    with pytest.raises(ZeroDivisionError), joined_by_lookup():
        1 / 0
    assert _join_settings() == ("on", "on")


@pytest.mark.django_db(transaction=True)
def test_joined_by_lookup_outside_a_transaction_reads_and_leaves_nothing_set(
    worker: User, case: Case
) -> None:
    audit_record(actor=worker, action=AuditAction.CASE_VIEW, obj=case, case_id=case.pk)
    events = AuditEvent.objects.filter(case_id=case.pk, action=AuditAction.CASE_VIEW)
    with joined_by_lookup():
        read = list(events.values_list("user_id", flat=True))
    assert read == [worker.pk]
    assert _join_settings() == ("on", "on")

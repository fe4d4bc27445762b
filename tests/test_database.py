"""Prepared statements (avhopp.database): key lookups are prepared, list pages are planned
for their values. Read from PostgreSQL's own view of the connection's prepared statements."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from avhopp.database import planned_for_values
from avhopp.models import User
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

"""The case list's name search: each word in the person's first or last name, among the
cases the user may see."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Q
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from avhopp.models import Agency, User
from cases import services
from cases.models import Case, Individual
from cases.selectors import CaseFilters, case_list, cases_visible_to

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def found(user: User, query: str) -> set[int]:
    return set(case_list(user, CaseFilters(query=query)).values_list("pk", flat=True))


def test_search_matches_first_and_last_name_in_any_case(worker: User, make_case) -> None:
    anna = make_case(worker, first_name="Anna-Karin", last_name="Åström")
    bo = make_case(worker, first_name="Bo", last_name="Ek")
    assert found(worker, "karin") == {anna.pk}
    assert found(worker, "ÅSTRÖM") == {anna.pk}
    assert found(worker, "anna åst") == {anna.pk}  # each word in the first or the last name
    assert found(worker, "anna ek") == set()
    assert found(worker, "ek") == {bo.pk}
    assert found(worker, "ås a-k") == {anna.pk}
    assert found(worker, "K") == {bo.pk, anna.pk}
    assert found(worker, "a_ka") == set()  # LIKE wildcards are plain characters
    assert found(worker, "%") == set()


def test_an_agency_finds_only_the_names_it_holds(
    worker: User,
    outsider: User,
    officer: User,
    coordinator: User,
    make_case,
    share_with,
    police_agency: Agency,
) -> None:
    ours = make_case(worker, first_name="Sara", last_name="Lind")
    theirs = make_case(outsider, first_name="Sara", last_name="Lind")
    assert found(worker, "lind") == {ours.pk}
    assert found(outsider, "lind") == {theirs.pk}
    assert found(officer, "lind") == set()
    share = share_with(ours, police_agency)
    assert found(officer, "lind") == {ours.pk}
    services.case_unshare(share=share, by=coordinator)
    assert found(officer, "lind") == set()


def test_renaming_the_person_renames_every_agency_row(
    worker: User, officer: User, make_case, share_with, police_agency: Agency
) -> None:
    case = make_case(worker, first_name="Kim", last_name="Berg")
    share_with(case, police_agency)
    services.individual_update(individual=case.individual, by=worker, case=case, last_name="Dal")
    for user in (worker, officer):
        assert found(user, "berg") == set()
        assert found(user, "kim dal") == {case.pk}


def test_changing_a_cases_person_and_deleting_the_case(
    worker: User, make_case: Callable[..., Case]
) -> None:
    case = make_case(worker, first_name="Ida", last_name="Vik")
    other = make_case(worker, first_name="Leo", last_name="Strand")
    Case.objects.filter(pk=case.pk).update(individual=other.individual)
    assert found(worker, "strand") == {case.pk, other.pk}
    other.delete()
    assert found(worker, "strand") == {case.pk}


def test_the_trigram_index_serves_a_word_of_three_letters(worker: User, make_case) -> None:
    """The plan, not the result: the index of migration 0003 matches the expressions the
    search compiles to, so PostgreSQL can use it when the names are many."""
    make_case(worker, first_name="Eva", last_name="Lindqvist")
    people = Individual.objects.filter(
        Q(first_name__icontains="lindqvist") | Q(last_name__icontains="lindqvist")
    )
    sql, params = people.values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "individual_name_trgm" in plan


def test_a_user_without_an_agency_finds_nothing(worker: User, make_case) -> None:
    make_case(worker, first_name="Ulf")
    worker.agency = None
    assert found(worker, "ulf") == set()


WORD = st.text(alphabet="abÅåÖö_%- ", min_size=1, max_size=6)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.lists(WORD, min_size=1, max_size=3).map(" ".join))
def test_search_finds_what_a_search_of_every_visible_person_finds(
    worker: User, outsider: User, make_case, query: str
) -> None:
    if not Case.objects.exists():
        for first, last in [("Åsa", "Öberg"), ("ab_ba", "b%a"), ("Bo", "Åb-Ba"), ("Ab", "Ab")]:
            make_case(worker, first_name=first, last_name=last)
        make_case(outsider, first_name="Åsa", last_name="Öberg")
    words = [word.upper() for word in query.split()[:4]]
    expected = {
        case.pk
        for case in cases_visible_to(worker).select_related("individual")
        for names in [(case.individual.first_name.upper(), case.individual.last_name.upper())]
        if all(any(word in name for name in names) for word in words)
    }
    assert found(worker, query) == expected


def test_the_embedded_sqlite_default_searches_names_too(tmp_path: Path) -> None:
    """`make run` serves SQLite: the same search without PostgreSQL's index."""
    script = (
        "from avhopp.models import Agency, AgencyKind, Role, User\n"
        "from cases import services\n"
        "from cases.selectors import CaseFilters, case_list\n"
        "agency = Agency.objects.create(name='K', kind=AgencyKind.SOCIAL_SERVICES,"
        " municipality_code='0180')\n"
        "user = User.objects.create_user('w', agency=agency, role=Role.SOCIAL_WORKER)\n"
        "person = services.individual_create(by=user, first_name='Tove', last_name='Ahl',"
        " personnummer='199503142383')\n"
        "case = services.case_create(by=user, individual=person, referral_source='police')\n"
        "services.individual_update(individual=person, by=user, case=case, last_name='Berg')\n"
        "hits = list(case_list(user, CaseFilters(query='tove berg')))\n"
        "assert hits == [case], hits\n"
        "print('sqlite ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"AVHOPP_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "avhopp.settings"}
    run = [sys.executable, "manage.py"]
    migrate = subprocess.run(
        [*run, "migrate", "-v", "0"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    shell = subprocess.run(
        [*run, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shell.returncode == 0, shell.stderr
    assert "sqlite ok" in shell.stdout

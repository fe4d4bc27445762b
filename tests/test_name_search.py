"""The case list's name search and the per-agency names its database triggers keep."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Q
from guardian.shortcuts import assign_perm, remove_perm
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from avhopp.models import Agency, User
from cases import selectors, services
from cases.models import AgencyCaseName, Case, CaseGroupObjectPermission
from cases.selectors import CaseFilters, case_list, cases_visible_to

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def found(user: User, query: str) -> set[int]:
    return set(case_list(user, CaseFilters(query=query)).values_list("pk", flat=True))


def assert_names_follow_grants() -> None:
    """One row per view grant, with the person's current name, and nothing else."""
    grants = {
        (g.pk, g.group_id, g.content_object_id, f"{person.first_name} {person.last_name}")
        for g in CaseGroupObjectPermission.objects.filter(
            permission__codename="view_case"
        ).select_related("content_object__individual")
        for person in [g.content_object.individual]
    }
    names = set(AgencyCaseName.objects.values_list("grant_id", "group_id", "case_id", "names"))
    assert names == grants
    connection.check_constraints()  # the deferred foreign keys hold as they will at commit


def test_search_matches_first_and_last_name_in_any_case(worker: User, make_case) -> None:
    anna = make_case(worker, first_name="Anna-Karin", last_name="Åström")
    bo = make_case(worker, first_name="Bo", last_name="Ek")
    assert found(worker, "karin") == {anna.pk}
    assert found(worker, "ÅSTRÖM") == {anna.pk}
    assert found(worker, "anna åst") == {anna.pk}  # each word in the first or the last name
    assert found(worker, "anna ek") == set()
    # Words without three letters in a row are tested on the agency's names, not the index.
    assert found(worker, "ek") == {bo.pk}
    assert found(worker, "ås a-k") == {anna.pk}
    assert found(worker, "K") == {bo.pk, anna.pk}
    assert found(worker, "a_ka") == set()  # LIKE wildcards are plain characters
    assert found(worker, "%") == set()
    assert_names_follow_grants()


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
    assert_names_follow_grants()
    services.case_unshare(share=share, by=coordinator)
    assert found(officer, "lind") == set()
    assert not AgencyCaseName.objects.filter(group_id=police_agency.group_id).exists()
    assert_names_follow_grants()


def test_renaming_the_person_renames_every_agency_row(
    worker: User, officer: User, make_case, share_with, police_agency: Agency
) -> None:
    case = make_case(worker, first_name="Kim", last_name="Berg")
    share_with(case, police_agency)
    services.individual_update(individual=case.individual, by=worker, case=case, last_name="Dal")
    for user in (worker, officer):
        assert found(user, "berg") == set()
        assert found(user, "kim dal") == {case.pk}
    assert_names_follow_grants()


def test_grants_other_than_view_add_no_name_and_changed_grants_follow(
    worker: User, outsider: User, make_case
) -> None:
    case = make_case(worker, first_name="Eli", last_name="Holm")
    assert AgencyCaseName.objects.filter(case=case).count() == 1  # view, not change
    other_case = make_case(outsider, first_name="Noa", last_name="Sund")
    grant = CaseGroupObjectPermission.objects.get(
        content_object=case, permission__codename="view_case"
    )
    grant.content_object = other_case
    grant.save(update_fields=["content_object"])
    assert found(worker, "sund") == {other_case.pk}
    assert found(worker, "holm") == set()
    assert_names_follow_grants()
    remove_perm("cases.view_case", worker.agency.group, other_case)
    assign_perm("cases.view_case", worker.agency.group, case)
    assert found(worker, "holm") == {case.pk}
    assert_names_follow_grants()


def test_changing_a_cases_person_and_deleting_the_case(
    worker: User, make_case: Callable[..., Case]
) -> None:
    case = make_case(worker, first_name="Ida", last_name="Vik")
    other = make_case(worker, first_name="Leo", last_name="Strand")
    Case.objects.filter(pk=case.pk).update(individual=other.individual)
    assert found(worker, "strand") == {case.pk, other.pk}
    assert_names_follow_grants()
    other.delete()
    assert found(worker, "strand") == {case.pk}
    assert_names_follow_grants()


def test_the_index_finds_the_agencys_names_by_group_and_trigram(worker: User, make_case) -> None:
    """The plan, not the result: the group and every word with a trigram are index conditions,
    and a word without one is only a filter (else the index would read every name)."""
    make_case(worker, first_name="Eva", last_name="Lindqvist")

    def plan(words: list[str]) -> str:
        sql, params = selectors._named(worker, words).query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())

    indexed = plan(["lindqvist", "ev"])
    assert "agency_case_name_search" in indexed
    condition = next(line for line in indexed.splitlines() if "Index Cond" in line)
    assert "group_id = " in condition and "LINDQVIST" in condition
    assert "strpos" not in condition and "strpos" in indexed
    short_only = next(line for line in plan(["ev"]).splitlines() if "Index Cond" in line)
    assert "group_id = " in short_only and "~~" not in short_only


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
    expected = cases_visible_to(worker)
    for word in query.split()[:4]:
        expected = expected.filter(
            Q(individual__first_name__icontains=word) | Q(individual__last_name__icontains=word)
        )
    assert found(worker, query) == set(expected.values_list("pk", flat=True))


def test_the_embedded_sqlite_default_keeps_the_names_too(tmp_path: Path) -> None:
    """`make run` serves SQLite: the same triggers, created by the same migration."""
    script = (
        "from avhopp.models import Agency, AgencyKind, Role, User\n"
        "from cases import services\n"
        "from cases.models import AgencyCaseName\n"
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
        "assert list(AgencyCaseName.objects.values_list('names', flat=True)) == ['Tove Berg']\n"
        "case.delete()\n"
        "assert not AgencyCaseName.objects.exists()\n"
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

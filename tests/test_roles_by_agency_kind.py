"""Roles belong to agency kinds: a municipality has no police officers, and only a
municipality's social services register people and own cases. Refused by the user form, the
services, the model's validation, the database and the case policy, each on its own."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from avhopp import services as user_services
from avhopp.models import ROLES_BY_AGENCY_KIND, Agency, AgencyKind, Role, User
from cases import services as case_services
from cases.models import Case, Individual, ReferralSource
from cases.policy import CaseAction, CasePolicy
from tests.conftest import AgencyFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
MISFIT = "Den rollen finns inte hos en myndighet av typen Socialtjänst (kommun)."
roles_migration = importlib.import_module("avhopp.migrations.0004_roles_fit_agency_kind")
# The latest frozen copy of the table (researchers, after the archive officer and the
# national coordination).
latest_roles_migration = importlib.import_module(
    "avhopp.migrations.0013_research_role_and_followup_audit"
)


def new_user_data(role: str) -> dict[str, str]:
    return {
        "username": "ny",
        "first_name": "Ny",
        "last_name": "Person",
        "role": role,
        "email": "ny.person@example.se",
    }


# --- The user form ---------------------------------------------------------------------------


def test_the_forms_offer_only_the_roles_of_the_agencys_kind(
    login: Callable[[User], Client], agency_admin: User, worker: User
) -> None:
    client = login(agency_admin)
    for url in ("/anvandare/", f"/anvandare/{worker.pk}/"):
        page = client.get(url).content.decode()
        assert 'value="social_worker"' in page
        assert 'value="coordinator"' in page
        assert 'value="police_officer"' not in page


def test_a_police_admin_is_offered_police_officers_not_social_workers(
    login: Callable[[User], Client], make_user: Callable[..., User], police_agency: Agency
) -> None:
    admin = make_user(police_agency, Role.AGENCY_ADMIN, username="polisadmin")
    page = login(admin).get("/anvandare/").content.decode()
    assert 'value="police_officer"' in page
    assert 'value="social_worker"' not in page


def test_a_municipality_admin_cannot_create_a_police_officer(
    login: Callable[[User], Client], agency_admin: User
) -> None:
    response = login(agency_admin).post("/anvandare/", new_user_data(Role.POLICE_OFFICER))
    assert response.status_code == 400
    assert MISFIT in response.content.decode()
    assert not User.objects.filter(username="ny").exists()


def test_a_municipality_admin_cannot_promote_a_user_to_police_officer(
    login: Callable[[User], Client], agency_admin: User, worker: User
) -> None:
    response = login(agency_admin).post(
        f"/anvandare/{worker.pk}/", {"role": Role.POLICE_OFFICER, "is_active": "on"}
    )
    assert response.status_code == 400
    assert MISFIT in response.content.decode()
    worker.refresh_from_db()
    assert worker.role == Role.SOCIAL_WORKER


def test_an_admin_cannot_make_themselves_a_police_officer_either(
    login: Callable[[User], Client], agency_admin: User
) -> None:
    response = login(agency_admin).post(
        f"/anvandare/{agency_admin.pk}/", {"role": Role.POLICE_OFFICER, "is_active": "on"}
    )
    assert response.status_code == 400
    agency_admin.refresh_from_db()
    assert agency_admin.role == Role.AGENCY_ADMIN


def test_an_admin_cannot_change_their_own_role(
    login: Callable[[User], Client], agency_admin: User
) -> None:
    response = login(agency_admin).post(
        f"/anvandare/{agency_admin.pk}/", {"role": Role.COORDINATOR, "is_active": "on"}
    )
    assert response.status_code == 400
    assert "Du kan inte ändra din egen roll." in response.content.decode()
    agency_admin.refresh_from_db()
    assert agency_admin.role == Role.AGENCY_ADMIN


def test_an_admin_may_still_save_their_own_page_unchanged(
    login: Callable[[User], Client], agency_admin: User
) -> None:
    response = login(agency_admin).post(
        f"/anvandare/{agency_admin.pk}/", {"role": Role.AGENCY_ADMIN, "is_active": "on"}
    )
    assert response.status_code == 302
    agency_admin.refresh_from_db()
    assert (agency_admin.role, agency_admin.is_active) == (Role.AGENCY_ADMIN, True)


# --- The services and the model's validation ---------------------------------------------------


def test_user_create_refuses_a_role_the_agency_does_not_have(agency_admin: User) -> None:
    with pytest.raises(ValidationError) as refused:
        user_services.user_create(
            by=agency_admin,
            username="ny",
            email="ny.person@example.se",
            role=Role.POLICE_OFFICER,
        )
    assert MISFIT in refused.value.message_dict["role"]
    assert not User.objects.filter(username="ny").exists()


def test_user_update_refuses_a_role_the_agency_does_not_have(
    agency_admin: User, worker: User
) -> None:
    with pytest.raises(ValidationError):
        user_services.user_update(
            user=worker, by=agency_admin, role=Role.POLICE_OFFICER, is_active=True
        )
    worker.refresh_from_db()
    assert worker.role == Role.SOCIAL_WORKER


def test_user_update_refuses_an_admins_change_of_their_own_access(agency_admin: User) -> None:
    for role, active in ((Role.COORDINATOR, True), (Role.AGENCY_ADMIN, False)):
        with pytest.raises(PermissionDenied):
            user_services.user_update(
                user=agency_admin, by=agency_admin, role=role, is_active=active
            )
    agency_admin.refresh_from_db()
    assert (agency_admin.role, agency_admin.is_active) == (Role.AGENCY_ADMIN, True)


def test_full_clean_refuses_a_misfit_role(municipality: Agency, police_agency: Agency) -> None:
    with pytest.raises(ValidationError) as refused:
        User(username="x", agency=municipality, role=Role.POLICE_OFFICER).full_clean(
            exclude=["password"]
        )
    assert MISFIT in refused.value.message_dict["role"]
    with pytest.raises(ValidationError):
        User(username="y", agency=police_agency, role=Role.SOCIAL_WORKER).full_clean(
            exclude=["password"]
        )
    User(username="z", agency=police_agency, role=Role.POLICE_OFFICER).full_clean(
        exclude=["password"]
    )


def test_an_agencys_kind_cannot_be_changed_under_its_users(
    worker: User, municipality: Agency
) -> None:
    municipality.kind = AgencyKind.POLICE
    with pytest.raises(ValidationError) as refused:
        municipality.full_clean()
    assert "worker" in refused.value.message_dict["kind"][0]


# --- The database ------------------------------------------------------------------------------


def test_the_database_refuses_a_police_officer_in_a_municipality(
    municipality: Agency, worker: User
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="raw", agency=municipality, role=Role.POLICE_OFFICER)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=worker.pk).update(role=Role.POLICE_OFFICER)
    worker.role = Role.POLICE_OFFICER
    with pytest.raises(IntegrityError), transaction.atomic():
        worker.save()  # save() validates nothing: the trigger refuses it
    assert User.objects.get(pk=worker.pk).role == Role.SOCIAL_WORKER


def test_the_database_refuses_moving_a_user_to_an_agency_without_their_role(
    worker: User, police_agency: Agency
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=worker.pk).update(agency=police_agency)


def test_the_database_refuses_changing_a_kind_under_the_users_roles(
    worker: User, officer: User, municipality: Agency, police_agency: Agency
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=municipality.pk).update(kind=AgencyKind.OTHER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=police_agency.pk).update(kind=AgencyKind.SOCIALSTYRELSEN)
    # Roles every kind has do not hold a kind in place.
    AgencyFactory(name="Ny Väg", kind=AgencyKind.CIVIL_SOCIETY, municipality_code="")
    civil = Agency.objects.get(name="Ny Väg")
    User.objects.create(username="samordnare2", agency=civil, role=Role.COORDINATOR)
    Agency.objects.filter(pk=civil.pk).update(kind=AgencyKind.OTHER)


def test_the_databases_table_is_the_models_table() -> None:
    """The latest migration's frozen copy, and the function made from it, agree with the
    model."""
    frozen = latest_roles_migration.ROLES_BY_AGENCY_KIND
    assert {kind: set(roles) for kind, roles in frozen.items()} == {
        kind: set(roles) for kind, roles in ROLES_BY_AGENCY_KIND.items()
    }
    with connection.cursor() as cursor:
        for kind in AgencyKind.values:
            for role in Role.values:
                cursor.execute("SELECT avhopp_role_fits_kind(%s, %s)", [kind, role])
                assert cursor.fetchone()[0] == (role in ROLES_BY_AGENCY_KIND[kind]), (kind, role)


# --- The migration's check ---------------------------------------------------------------------


def test_the_migration_names_existing_misfits_before_it_makes_the_triggers(
    worker: User, municipality: Agency
) -> None:
    with connection.cursor() as cursor:
        # As before the migration: no trigger (rolled back with the test's transaction). The
        # fixtures' deferred foreign-key checks run first, as PostgreSQL requires for ALTER.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE avhopp_user DISABLE TRIGGER avhopp_user_role_fits_agency")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    User.objects.filter(pk=worker.pk).update(role=Role.POLICE_OFFICER)
    assert roles_migration.misfit_users(connection) == [
        ("worker", "Södertälje kommun", "police_officer")
    ]
    with pytest.raises(roles_migration.MisfitRolesError) as refused:
        roles_migration.refuse_misfits(None, connection.schema_editor())
    assert "worker (Södertälje kommun, police_officer)" in str(refused.value)


def test_the_migration_passes_when_every_role_fits(worker: User, officer: User) -> None:
    assert roles_migration.misfit_users(connection) == []
    roles_migration.refuse_misfits(None, connection.schema_editor())


def test_the_migrations_message_names_each_user_agency_and_role() -> None:
    message = roles_migration.misfit_message(
        [("anna", "Södertälje kommun", "police_officer"), ("bo", "Föreningen X", "social_worker")]
    )
    assert "anna (Södertälje kommun, police_officer)" in message
    assert "bo (Föreningen X, social_worker)" in message


# --- The case policy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", [CaseAction.VIEW_THREAT_DETAILS, CaseAction.ADD_THREAT_ASSESSMENT]
)
def test_the_police_role_outside_the_police_opens_no_threat_details(
    action: CaseAction, case: Case, municipality: Agency, officer: User
) -> None:
    # Unsaved, so the database never sees it: the policy must refuse on its own.
    misfit = User(username="falskpolis", agency=municipality, role=Role.POLICE_OFFICER)
    assert not CasePolicy.allows(misfit, action, case)
    assert CasePolicy.allows(officer, action, case)


@pytest.mark.parametrize(
    ("kind", "name"),
    [(AgencyKind.PRISON_PROBATION, "Kriminalvården"), (AgencyKind.CIVIL_SOCIETY, "Ny Väg")],
)
def test_only_a_municipality_registers_people_and_opens_cases(
    login: Callable[[User], Client],
    make_user: Callable[..., User],
    worker: User,
    kind: str,
    name: str,
) -> None:
    agency = AgencyFactory(name=name, kind=kind, municipality_code="")
    coordinator = make_user(agency, Role.COORDINATOR, username="utomstaende")
    assert login(coordinator).get("/arenden/nytt/").status_code == 403
    assert login(worker).get("/arenden/nytt/").status_code == 200
    with pytest.raises(PermissionDenied):
        case_services.individual_create(by=coordinator, first_name="A", last_name="B")
    person = case_services.individual_create(by=worker, first_name="A", last_name="B")
    with pytest.raises(PermissionDenied):
        case_services.case_create(
            by=coordinator, individual=person, referral_source=ReferralSource.SELF
        )
    assert not Case.objects.filter(individual=person).exists()


def test_the_database_refuses_a_case_not_owned_by_a_municipality(
    case: Case, police_agency: Agency, prison_agency: Agency, worker: User
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(owning_agency=police_agency)
    person = Individual.objects.create(
        first_name="C", last_name="D", reserve_number="R202600000001", birth_date=date(1990, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            individual=person,
            owning_agency=prison_agency,
            responsible=worker,
            referral_source=ReferralSource.SELF,
        )
    assert Case.objects.get(pk=case.pk).owning_agency_id == case.owning_agency_id


def test_the_database_keeps_a_case_owners_kind(make_user: Callable[..., User], make_case) -> None:
    agency = AgencyFactory(name="Nykvarns kommun", municipality_code="0140")
    coordinator = make_user(agency, Role.COORDINATOR, username="nykvarn")
    make_case(coordinator)
    # A coordinator fits every kind, so only the case holds the agency a municipality.
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=agency.pk).update(kind=AgencyKind.OTHER)


# --- The embedded SQLite default -----------------------------------------------------------------


def test_the_embedded_sqlite_default_has_the_triggers_too(tmp_path: Path) -> None:
    script = (
        "from django.db import IntegrityError, transaction\n"
        "from avhopp.models import Agency, AgencyKind, Role, User\n"
        "from cases.models import Case, Individual\n"
        "town = Agency.objects.create(name='K', kind=AgencyKind.SOCIAL_SERVICES,"
        " municipality_code='0180')\n"
        "police = Agency.objects.create(name='P', kind=AgencyKind.POLICE)\n"
        "worker = User.objects.create_user('w', agency=town, role=Role.SOCIAL_WORKER)\n"
        "User.objects.create_user('p', agency=police, role=Role.POLICE_OFFICER)\n"
        "person = Individual.objects.create(first_name='A', last_name='B',"
        " reserve_number='R202600000002')\n"
        "attempts = [\n"
        "    lambda: User.objects.create_user('x', agency=town, role=Role.POLICE_OFFICER),\n"
        "    lambda: User.objects.filter(pk=worker.pk).update(role=Role.POLICE_OFFICER),\n"
        "    lambda: Agency.objects.filter(pk=town.pk).update(kind=AgencyKind.OTHER),\n"
        "    lambda: Case.objects.create(individual=person, owning_agency=police,"
        " responsible=worker, referral_source='self'),\n"
        "]\n"
        "for attempt in attempts:\n"
        "    try:\n"
        "        with transaction.atomic():\n"
        "            attempt()\n"
        "    except IntegrityError:\n"
        "        print('refused')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"AVHOPP_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "avhopp.settings"}
    run = [sys.executable, "manage.py"]
    migrate = subprocess.run(
        [*run, "migrate", "-v", "0"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    shell = subprocess.run(
        [*run, "shell", "-v", "0", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["refused"] * 4

"""Agency admins manage their own agency's users; deactivation ends sessions at once."""

from __future__ import annotations

import pytest

from avhopp.models import AuditAction, AuditEvent, Role, User

pytestmark = pytest.mark.django_db


def test_agency_admin_creates_a_user_in_own_agency(login, agency_admin) -> None:
    response = login(agency_admin).post(
        "/anvandare/",
        {
            "username": "ny",
            "first_name": "Ny",
            "last_name": "Person",
            "role": Role.SOCIAL_WORKER,
            "password": "Langt-och-unikt-losen-42",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="ny")
    assert created.agency == agency_admin.agency
    assert list(created.groups.all()) == [agency_admin.agency.group]
    assert AuditEvent.objects.filter(action=AuditAction.USER_CREATE).count() == 1


@pytest.mark.parametrize("password", ["kort", "password1234", "123456789012"])
def test_weak_passwords_are_refused(login, agency_admin, password: str) -> None:
    response = login(agency_admin).post(
        "/anvandare/",
        {
            "username": "svag",
            "first_name": "S",
            "last_name": "S",
            "role": "social_worker",
            "password": password,
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="svag").exists()


def test_deactivation_ends_the_users_session_at_once(login, agency_admin, worker) -> None:
    session = login(worker)
    assert session.get("/").status_code == 200
    response = login(agency_admin).post(
        f"/anvandare/{worker.pk}/", {"role": Role.SOCIAL_WORKER, "is_active": ""}
    )
    assert response.status_code == 302
    assert session.get("/").status_code == 302  # back to the login page


def test_admin_cannot_touch_another_agencys_user(login, agency_admin, outsider) -> None:
    client = login(agency_admin)
    assert client.get(f"/anvandare/{outsider.pk}/").status_code == 404
    assert client.post(f"/anvandare/{outsider.pk}/", {"role": "coordinator"}).status_code == 404
    outsider.refresh_from_db()
    assert outsider.role == Role.SOCIAL_WORKER


@pytest.mark.parametrize("role_fixture", ["worker", "coordinator", "log_reviewer", "officer"])
def test_only_agency_admins_manage_users(request, login, role_fixture: str) -> None:
    user = request.getfixturevalue(role_fixture)
    assert login(user).get("/anvandare/").status_code == 403


def test_admin_cannot_deactivate_self(login, agency_admin) -> None:
    response = login(agency_admin).post(
        f"/anvandare/{agency_admin.pk}/", {"role": Role.AGENCY_ADMIN, "is_active": ""}
    )
    assert response.status_code == 400
    agency_admin.refresh_from_db()
    assert agency_admin.is_active

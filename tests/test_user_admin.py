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
            "email": "ny.person@example.se",
            "role": Role.SOCIAL_WORKER,
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="ny")
    assert created.agency == agency_admin.agency
    assert list(created.groups.all()) == [agency_admin.agency.group]
    assert AuditEvent.objects.filter(action=AuditAction.USER_CREATE).count() == 1
    # The user chooses their own password through the invitation (tests/test_invitations.py).
    assert not created.has_usable_password()


def test_the_admin_neither_chooses_nor_sees_a_password(login, agency_admin) -> None:
    """No password field; one posted anyway is ignored, and the user has none until they
    choose it through the invitation. (Weak passwords are refused there.)"""
    client = login(agency_admin)
    page = client.get("/anvandare/").content.decode()
    assert 'type="password"' not in page
    assert 'name="password"' not in page
    response = client.post(
        "/anvandare/",
        {
            "username": "ny",
            "first_name": "Ny",
            "last_name": "Person",
            "email": "ny.person@example.se",
            "role": Role.SOCIAL_WORKER,
            "password": "Admins-eget-losen-42",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="ny")
    assert not created.has_usable_password()
    assert not created.check_password("Admins-eget-losen-42")


def test_an_address_is_required_where_the_agency_signs_in_with_passwords(
    login, agency_admin
) -> None:
    response = login(agency_admin).post(
        "/anvandare/",
        {"username": "utan", "first_name": "U", "last_name": "E", "role": Role.SOCIAL_WORKER},
    )
    assert response.status_code == 400
    assert "Inbjudan skickas hit" in response.content.decode()
    assert not User.objects.filter(username="utan").exists()


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

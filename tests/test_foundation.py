"""The base: settings helpers, agencies and their groups, login, start page, health check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DataError, IntegrityError, transaction
from django.test import Client

from avhopp import settings as avhopp_settings
from avhopp.celery import app as celery_app
from avhopp.models import Agency, AgencyKind, AuditAction, AuditEvent, Role, User
from tests.conftest import PASSWORD, AgencyFactory


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_env_bool_fails_loudly(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("X_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        avhopp_settings.env_bool("X_FLAG", False)


def test_env_int_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        avhopp_settings.env_int("X_NUMBER", 1)
    monkeypatch.setenv("X_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        avhopp_settings.env_int("X_NUMBER", 1, minimum=1)


def test_required_variable_missing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="X_REQUIRED"):
        avhopp_settings.env_str("X_REQUIRED")


def test_debug_is_off_unless_asked() -> None:
    from django.conf import settings

    assert settings.DEBUG is False
    assert settings.LANGUAGE_CODE == "sv"


def test_tests_run_on_postgresql() -> None:
    from django.db import connection

    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_agency_gets_its_own_group_kept_in_step() -> None:
    agency = AgencyFactory(name="Nacka kommun", municipality_code="0182")
    assert agency.group.name == "agency:Nacka kommun"
    agency.name = "Nacka kommun, socialtjänsten"
    agency.save()
    agency.group.refresh_from_db()
    assert agency.group.name == "agency:Nacka kommun, socialtjänsten"


@pytest.mark.django_db
def test_user_is_member_of_exactly_their_agency_group(make_user) -> None:
    first, second = AgencyFactory(), AgencyFactory()
    user = make_user(first)
    assert list(user.groups.all()) == [first.group]
    user.agency = second
    user.save()
    assert list(user.groups.all()) == [second.group]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["123", "12345", "abcd"])
def test_municipality_code_must_be_four_digits(code: str) -> None:
    group = Group.objects.create(name=f"g{code}")
    # Too long is refused by the column type, wrong characters by the check constraint.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Agency.objects.create(
            name="Fel", kind=AgencyKind.SOCIAL_SERVICES, municipality_code=code, group=group
        )


@pytest.mark.django_db
def test_user_in_agency_needs_a_role(municipality: Agency) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="norole", agency=municipality, role="")


@pytest.mark.django_db
def test_login_page_is_swedish(client: Client) -> None:
    response = client.get("/logga-in/")
    assert response.status_code == 200
    assert 'lang="sv"' in response.content.decode()
    assert "Logga in" in response.content.decode()


@pytest.mark.django_db
def test_english_is_available(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/logga-in/"})
    response = client.get("/logga-in/")
    body = response.content.decode()
    assert 'lang="en"' in body
    assert "Log in" in body
    assert "Logga in" not in body


@pytest.mark.django_db
def test_start_page_requires_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")


@pytest.mark.django_db
def test_start_page_shows_user_agency_and_role(login, worker: User) -> None:
    body = login(worker).get("/").content.decode()
    assert worker.get_full_name() in body
    assert worker.agency.name in body
    assert str(Role.SOCIAL_WORKER.label) in body


@pytest.mark.django_db
def test_login_logout_and_failed_login_are_audited(client: Client, worker: User) -> None:
    client.post("/logga-in/", {"username": worker.username, "password": "wrong-password-1"})
    client.post("/logga-in/", {"username": worker.username, "password": PASSWORD})
    client.post("/logga-ut/")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "username"))
    assert actions == [
        (AuditAction.LOGIN_FAILED, worker.username),
        (AuditAction.LOGIN, worker.username),
        (AuditAction.LOGOUT, worker.username),
    ]
    assert AuditEvent.objects.filter(ip_address="127.0.0.1").count() == 3


@pytest.mark.django_db
def test_failed_login_gives_the_same_answer_for_unknown_users(client: Client, worker: User) -> None:
    known = client.post("/logga-in/", {"username": worker.username, "password": "nope-nope-nope"})
    unknown = client.post("/logga-in/", {"username": "nobody-here", "password": "nope-nope-nope"})
    assert known.status_code == unknown.status_code == 200

    def errors(response) -> list[str]:
        return response.context["form"].non_field_errors()

    assert errors(known) == errors(unknown)


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_broker_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_load_demo_is_idempotent() -> None:
    call_command("load_demo")
    counts = (User.objects.count(), Agency.objects.count())
    call_command("load_demo")
    assert (User.objects.count(), Agency.objects.count()) == counts
    roles = set(User.objects.exclude(role="").values_list("role", flat=True))
    assert roles == set(Role.values)
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert {
        AgencyKind.SOCIAL_SERVICES,
        AgencyKind.POLICE,
        AgencyKind.PRISON_PROBATION,
        AgencyKind.SIS,
        AgencyKind.CIVIL_SOCIETY,
    } <= kinds


def test_celery_is_configured_for_safe_redelivery() -> None:
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True


@pytest.mark.django_db
def test_database_outage_answers_503_without_traceback(
    login, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    client = login(worker)
    client.raise_request_exception = False

    def unavailable(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("cases.views.case_page", unavailable)
    response = client.get("/arenden/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "tillfälligt otillgänglig" in body
    assert "Traceback" not in body
    assert "connection refused" not in body


@pytest.mark.django_db
def test_other_errors_answer_a_plain_500(
    login, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login(worker)
    client.raise_request_exception = False

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("cases.views.case_page", broken)
    response = client.get("/arenden/")
    assert response.status_code == 500
    assert "secret internals" not in response.content.decode()
    assert "Tekniskt fel" in response.content.decode()


@pytest.mark.django_db
def test_a_demo_user_logs_in_with_the_printed_code(client: Client) -> None:
    import io

    from devdata.demo import DEMO_PASSWORD

    call_command("load_demo", stdout=io.StringIO())
    printed = io.StringIO()
    call_command("totp_code", "handlaggare", stdout=printed)
    client.post("/logga-in/", {"username": "handlaggare", "password": DEMO_PASSWORD})
    response = client.post("/tvafaktor/", {"code": printed.getvalue().strip()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200

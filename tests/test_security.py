"""Authentication and sessions: two factors, lockout, timeouts, re-authentication, headers."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.middleware import SESSION_SEEN, SESSION_STARTED
from avhopp.models import AuditAction, AuditEvent, User
from tests.conftest import PASSWORD
from tests.support import current_code, production_env

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parent.parent


def _password_step(client: Client, user: User) -> None:
    response = client.post("/logga-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_password_alone_opens_nothing(client: Client, worker: User) -> None:
    _password_step(client, worker)
    for url in ("/", "/arenden/", "/remisser/", "/logg/", "/anvandare/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/tvafaktor/")


def test_first_login_enrols_an_authenticator_with_qr_and_recovery_codes(
    client: Client, worker: User
) -> None:
    _password_step(client, worker)
    page = client.get("/tvafaktor/")
    body = page.content.decode()
    assert "<svg" in body
    assert "Aktivera" in body
    device = TOTPDevice.objects.get(user=worker, confirmed=False)
    wrong = client.post("/tvafaktor/", {"code": "000000"})
    assert wrong.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    code = f"{totp(device.bin_key):06d}"
    done = client.post("/tvafaktor/", {"code": code})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_ENROLLED).count() == 1


def test_login_with_code_and_with_a_recovery_code_once(client: Client, worker: User) -> None:
    _password_step(client, worker)
    current_code(worker)
    assert client.post("/tvafaktor/", {"code": "123 456"}).status_code == 400
    code = current_code(worker)
    assert client.post("/tvafaktor/", {"code": code, "next": "/arenden/"})["Location"] == (
        "/arenden/"
    )
    static = worker.staticdevice_set.create(name="Reservkoder")
    StaticToken.objects.create(device=static, token="abcd1234")
    for expected in (302, 400):
        other = Client()
        _password_step(other, worker)
        assert other.post("/tvafaktor/", {"code": "abcd1234"}).status_code == expected


def test_next_after_login_cannot_leave_the_site(client: Client, worker: User) -> None:
    code = current_code(worker)
    _password_step(client, worker)
    response = client.post("/tvafaktor/", {"code": code, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_lockout_gives_the_same_answer_for_known_and_unknown_users(
    client: Client, worker: User
) -> None:
    def attempt(username: str) -> tuple[int, str]:
        response = client.post("/logga-in/", {"username": username, "password": "fel-losen-123"})
        return response.status_code, "spärrad" in response.content.decode()

    known = [attempt(worker.username) for _ in range(6)]
    unknown = [attempt("finns-inte") for _ in range(6)]
    assert known == unknown
    assert known[-1] == (429, True)
    # Locked: even the right password is refused.
    response = client.post("/logga-in/", {"username": worker.username, "password": PASSWORD})
    assert response.status_code == 429


def test_passwords_are_hashed_with_argon2() -> None:
    # The suite itself hashes with MD5 for speed (conftest); production's list is the module's.
    from avhopp import settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_idle_timeout_logs_out(login, worker: User, settings) -> None:
    client = login(worker)
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_SEEN] = time.time() - settings.SESSION_IDLE_SECONDS - 1
    session.save()
    response = client.get("/arenden/")
    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).count() == 1


def test_absolute_timeout_logs_out_even_when_active(login, worker: User, settings) -> None:
    client = login(worker)
    client.get("/")
    session = client.session
    session[SESSION_STARTED] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    assert client.get("/").status_code == 302


def test_agency_admin_ends_a_users_sessions(login, agency_admin, worker: User) -> None:
    first, second = login(worker), login(worker)
    assert first.get("/").status_code == second.get("/").status_code == 200
    assert login(agency_admin).post(f"/anvandare/{worker.pk}/avsluta-sessioner/").status_code == (
        302
    )
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302
    assert login(worker).get("/").status_code == 200  # a new login works
    assert AuditEvent.objects.filter(action=AuditAction.USER_SESSIONS_ENDED).count() == 1


def test_reveal_and_export_need_a_recent_second_factor(
    login, worker: User, log_reviewer: User, make_case, settings
) -> None:
    protected = make_case(worker, protection_level="protected_registration")
    client = login(worker)
    session = client.session
    session["avhopp_reauth_at"] = time.time() - settings.AVHOPP_REAUTH_SECONDS - 1
    session.save()
    reveal = f"/arenden/{protected.pk}/visa-skyddade-uppgifter/"
    response = client.get(reveal)
    assert response.status_code == 302
    assert response["Location"].startswith("/tvafaktor/bekrafta/")
    assert client.post("/tvafaktor/bekrafta/", {"code": "999999"}).status_code == 400
    confirmed = client.post("/tvafaktor/bekrafta/", {"code": current_code(worker), "next": reveal})
    assert confirmed["Location"] == reveal
    assert client.get(reveal).status_code == 200

    reviewer = login(log_reviewer)
    session = reviewer.session
    session["avhopp_reauth_at"] = 0
    session.save()
    assert reviewer.get("/logg/export.csv")["Location"].startswith("/tvafaktor/bekrafta/")


def test_security_headers(login, worker: User) -> None:
    response = login(worker).get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_style() -> None:
    for template in (REPO / "templates").rglob("*.html"):
        if template.parent.name in {
            "cases",
            "referrals",
            "relocations",
            "retention",
            "followup",
            "method",
        } and ("document" in template.name):
            continue  # PDF templates: rendered by WeasyPrint, never served to a browser
        text = template.read_text()
        assert "<script>" not in text, template
        assert "style=" not in text, template
        assert "<style" not in text, template


def test_deploy_check_with_production_settings_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "extra",
    [{"AVHOPP_REQUIRE_2FA": "false"}, {"DJANGO_DEBUG": "true"}, {"DJANGO_SECRET_KEY": "short"}],
)
def test_production_refuses_unsafe_settings(extra: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=production_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr

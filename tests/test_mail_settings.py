"""E-mail settings from the environment: the console in development without a server, SMTP
wherever EMAIL_HOST is set, required in production; a malformed value stops the start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import production_env

REPO = Path(__file__).resolve().parent.parent
SHOWN = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "AVHOPP_BASE_URL",
    "PASSWORD_RESET_TIMEOUT",
)


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, avhopp.settings as s; "
        f"print(json.dumps({{name: getattr(s, name, None) for name in {SHOWN!r}}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _loaded(env: dict[str, str]) -> dict[str, object]:
    result = _settings(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _development(**extra: str) -> dict[str, str]:
    env = production_env(DJANGO_ENV="development", **extra)
    for name in ("EMAIL_HOST", "DEFAULT_FROM_EMAIL", "DJANGO_ALLOWED_HOSTS", "DJANGO_SECRET_KEY"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_development_without_a_server_prints_mail_on_the_console() -> None:
    loaded = _loaded(_development())
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert loaded["DEFAULT_FROM_EMAIL"] == "avhopp@localhost"
    assert loaded["AVHOPP_BASE_URL"] == "http://localhost:8000"
    assert loaded["PASSWORD_RESET_TIMEOUT"] == 72 * 3600


def test_production_sends_through_smtp() -> None:
    loaded = _loaded(
        production_env(EMAIL_PORT="465", EMAIL_USE_TLS="false", AVHOPP_INVITATION_HOURS="24")
    )
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (loaded["EMAIL_HOST"], loaded["EMAIL_PORT"]) == ("smtp.example.se", 465)
    assert loaded["EMAIL_USE_TLS"] is False
    assert loaded["DEFAULT_FROM_EMAIL"] == "avhopp@example.se"
    # Links in mail start with the site's own address unless AVHOPP_BASE_URL says otherwise.
    assert loaded["AVHOPP_BASE_URL"] == "https://avhopp.example.se"
    assert loaded["PASSWORD_RESET_TIMEOUT"] == 24 * 3600


@pytest.mark.parametrize(
    ("missing", "message"),
    [("EMAIL_HOST", "EMAIL_HOST must be set"), ("DEFAULT_FROM_EMAIL", "DEFAULT_FROM_EMAIL")],
)
def test_production_refuses_to_start_without_mail(missing: str, message: str) -> None:
    env = production_env()
    env.pop(missing)
    result = _settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EMAIL_PORT", "smtp"),
        ("EMAIL_PORT", "0"),
        ("EMAIL_USE_TLS", "kanske"),
        ("DEFAULT_FROM_EMAIL", "avhopp"),
        ("AVHOPP_BASE_URL", "http://avhopp.example.se"),  # production links are https
        ("AVHOPP_BASE_URL", "https://avhopp.example.se/undersida"),
        ("AVHOPP_BASE_URL", "avhopp.example.se"),
        ("AVHOPP_INVITATION_HOURS", "0"),
        ("AVHOPP_REMINDER_DAYS", "två veckor"),
    ],
)
def test_a_malformed_mail_setting_stops_the_start_naming_it(name: str, value: str) -> None:
    result = _settings(production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr

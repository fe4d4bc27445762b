from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
SETTINGS_FILE = REPO / "avhopp" / "settings.py"

EXPECTED_SERVICES = {"postgres", "redis", "web", "worker", "beat"}

# Variables that only configure the compose stack itself (consumed by the
# postgres image or interpolated into other values), not read by Django.
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD"}

# ${VAR}, ${VAR:-default}, ${VAR:?message} and bare $VAR; "$$" is an escaped "$".
_VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict)
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose.get("services")
    assert isinstance(services, dict), "docker-compose.yml has no services mapping"
    return services


def _command(service: dict[str, Any]) -> str:
    command = service.get("command")
    if isinstance(command, list):
        return " ".join(str(part) for part in command)
    assert isinstance(command, str), f"service has no command: {service!r}"
    return command


def test_all_services_present(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) >= EXPECTED_SERVICES


def test_postgres_has_persistent_volume(compose: dict[str, Any]) -> None:
    postgres = _services(compose)["postgres"]
    assert str(postgres["image"]).startswith("postgres:15")
    volumes = postgres.get("volumes") or []
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in volumes)
    named = {str(v).split(":", 1)[0] for v in volumes}
    assert named & set(compose.get("volumes") or {}), "postgres volume must be a named volume"
    assert "healthcheck" in postgres


def test_web_runs_migrations_and_gunicorn(compose: dict[str, Any]) -> None:
    assert (REPO / "avhopp" / "wsgi.py").is_file()
    assert (REPO / "manage.py").is_file()
    web = _services(compose)["web"]
    command = _command(web)
    assert "manage.py migrate --noinput" in command
    assert "gunicorn avhopp.wsgi:application" in command
    depends_on = web.get("depends_on") or {}
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert "redis" in depends_on


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_celery_services_use_project_app(compose: dict[str, Any], name: str) -> None:
    assert (REPO / "avhopp" / "celery.py").is_file()
    command = _command(_services(compose)[name])
    assert command.startswith("celery ")
    assert "-A avhopp" in command
    assert f" {name} " in f"{command} "


def test_web_and_worker_share_data_volume(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in ("web", "worker"):
        service = services[name]
        assert service["environment"]["AVHOPP_DATA_DIR"] == "/data"
        assert "avhopp-data:/data" in service["volumes"]
        assert service["environment"]["DJANGO_ENV"] == "production"


def test_dockerfile_installs_locked_requirements() -> None:
    assert DOCKERFILE.is_file()
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim-bookworm", text, re.MULTILINE)
    assert "pip install -r requirements.lock" in text
    assert "compilemessages" in text
    assert "collectstatic" in text
    assert re.search(r"^USER\s+(?!root\b)\S+", text, re.MULTILINE), "image must not run as root"


def test_compose_variables_are_known(compose_text: str) -> None:
    variables = {braced or bare for braced, bare in _VARIABLE.findall(compose_text)}
    assert "DJANGO_SECRET_KEY" in variables
    settings = SETTINGS_FILE.read_text(encoding="utf-8")
    unknown = sorted(
        name for name in variables if name not in COMPOSE_ONLY_VARIABLES and name not in settings
    )
    assert not unknown, f"compose variables neither read by settings nor allow-listed: {unknown}"


def test_secret_key_is_required(compose_text: str) -> None:
    assert re.search(r"\$\{DJANGO_SECRET_KEY:\?", compose_text)


def test_ci_entry_point_runs_make_test() -> None:
    ci = REPO / ".ci" / "run"
    assert ci.is_file()
    assert "make test" in ci.read_text(encoding="utf-8")

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

from tests.support import production_env

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
SETTINGS_FILE = REPO / "avhopp" / "settings.py"
RUNTIME_LOCK = REPO / "requirements.lock"
DEV_LOCK = REPO / "requirements-dev.lock"

# Tools for development and tests, never wanted at runtime (with the dev extra's packages).
DEV_ONLY_TOOLS = {
    "pytest",
    "pytest-django",
    "playwright",
    "locust",
    "hypothesis",
    "ruff",
    "factory-boy",
    "faker",
}
# Development-only code: the devdata app (demo loader, seeds), tests, benchmark, load test.
DEV_ONLY_PATHS = ["devdata", "tests", "bench", "loadtest"]
DEV_COMMANDS = {"load_demo", "seed_scale", "seed_loadtest", "totp_code"}
PRODUCTION_APPS = [
    "avhopp",
    "cases",
    "referrals",
    "relocations",
    "register",
    "followup",
    "research",
]

EXPECTED_SERVICES = {"postgres", "redis", "web", "worker", "beat"}

# Variables that only configure the compose stack itself (consumed by the
# postgres image or interpolated into other values), not read by Django.
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "REGISTER_POSTGRES_PASSWORD"}

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


def _canonical(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if not requirement:
            continue
        name, separator, version = requirement.partition("==")
        assert separator and version and ";" not in version, f"{lock.name}: {line!r}"
        pins[_canonical(name)] = version
    return pins


def _declared(extra: str | None = None) -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["optional-dependencies"][extra] if extra else project["dependencies"]
    declared = {}
    for requirement in requirements:
        name, separator, version = requirement.partition("==")
        assert separator, f"pyproject.toml: {requirement!r} is not pinned"
        declared[_canonical(name.split("[", 1)[0])] = version
    return declared


def _dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_image_installs_only_the_runtime_lock() -> None:
    instructions = _dockerfile_instructions()
    installs = [line for line in instructions if "pip install" in line]
    assert installs == ["RUN pip install -r requirements.lock"]
    copies = [line for line in instructions if line.startswith("COPY") and "requirements" in line]
    assert copies == ["COPY requirements.lock ./"]
    # The dev lock and the dev extra are named only where they are removed.
    named = [line for line in instructions if "requirements-dev" in line or "[dev]" in line]
    assert all(line.startswith("RUN rm -rf ") for line in named), named


def test_runtime_lock_pins_the_runtime_dependencies_and_no_dev_tool() -> None:
    runtime, dev = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    declared, dev_extra = _declared(), _declared("dev")
    for name, version in declared.items():
        assert runtime.get(name) == version, f"requirements.lock: {name} is not {version}"
    dev_only = sorted(runtime.keys() & (DEV_ONLY_TOOLS | dev_extra.keys()))
    assert not dev_only, f"dev-only packages in requirements.lock: {dev_only}"
    # The dev lock is the runtime lock plus the dev extra, with one version for each package.
    assert runtime.items() <= dev.items(), "requirements-dev.lock differs from requirements.lock"
    for name, version in dev_extra.items():
        assert dev.get(name) == version, f"requirements-dev.lock: {name} is not {version}"


def test_image_leaves_development_code_out() -> None:
    ignored = {
        line.strip().strip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    removals = [
        line.split()[3:] for line in _dockerfile_instructions() if line.startswith("RUN rm -rf ")
    ]
    assert removals, "the Dockerfile keeps local state out with a RUN rm -rf line"
    for path in DEV_ONLY_PATHS:
        assert (REPO / path).is_dir()
        assert path in ignored, f".dockerignore lets {path}/ into the build context"
        assert any(path in removed for removed in removals), f"the image keeps {path}/"


def _installed(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.management import get_commands\n"
        "print(json.dumps({'apps': settings.INSTALLED_APPS, 'commands': sorted(get_commands())}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "avhopp.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_do_not_install_devdata() -> None:
    result = _installed(production_env())
    assert result.returncode == 0, result.stderr
    installed = json.loads(result.stdout.strip().splitlines()[-1])
    assert "devdata" not in installed["apps"]
    assert not DEV_COMMANDS & set(installed["commands"])
    # Development (these tests) has it, with every development command.
    assert "devdata" in settings.INSTALLED_APPS
    assert set(get_commands()) >= DEV_COMMANDS


@pytest.mark.parametrize("environment", ["production", "development"])
def test_a_copy_without_devdata_runs_only_in_production(tmp_path: Path, environment: str) -> None:
    """The image has no devdata: production settings load, development ones refuse loudly."""
    shutil.copytree(REPO / "avhopp", tmp_path / "avhopp")
    env = production_env(DJANGO_ENV=environment, AVHOPP_DATA_DIR=str(tmp_path / "data"))
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "import avhopp.settings as s; print(s.INSTALLED_APPS)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if environment == "production":
        assert result.returncode == 0, result.stderr
        assert "devdata" not in result.stdout
    else:
        assert result.returncode != 0
        assert "needs the devdata app" in result.stderr


def test_production_apps_never_import_devdata() -> None:
    for app in PRODUCTION_APPS:
        for module in (REPO / app).rglob("*.py"):
            tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                assert not any(name.split(".")[0] == "devdata" for name in names), module

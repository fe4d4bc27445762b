"""Faults, tested with the real services: Redis stopped while a referral is submitted, and
PostgreSQL restarted while the application runs.

The shared test services (scripts/test-services.sh) are never touched: this module starts its
own throwaway PostgreSQL cluster and Redis on free loopback ports, runs the application under
gunicorn and a real Celery worker against them, and stops and restarts only those. A worker
killed mid-render is covered by tests/test_referral_worker.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import redis
import requests
from django_otp.oath import totp

from devdata.demo import DEMO_PASSWORD, DEMO_TOTP_KEY
from tests.support import WORKER_ARGS, stop_processes


def _pg_bindir() -> Path | None:
    """As scripts/test-services.sh: $PG_BINDIR, else Debian's newest, else the PATH."""
    if os.environ.get("PG_BINDIR") and Path(os.environ["PG_BINDIR"], "initdb").exists():
        return Path(os.environ["PG_BINDIR"])
    installed = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    found = sorted(
        (path for path in installed if path.parts[-3].isdigit()),
        key=lambda path: int(path.parts[-3]),
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _cluster_user_missing() -> bool:
    """As root the cluster runs as the postgres OS user (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return False
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return True
    return shutil.which("runuser") is None


PG_BINDIR = _pg_bindir()
REDIS_SERVER = shutil.which("redis-server")
REPO = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(PG_BINDIR is None, reason="needs the PostgreSQL server binaries"),
    pytest.mark.skipif(_cluster_user_missing(), reason="as root, needs the postgres OS user"),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
    pytest.mark.skipif(not GUNICORN.exists(), reason="needs gunicorn in the virtualenv"),
]

DEADLINE = 60.0
HTTP_TIMEOUT = 15.0
# Run in the application's environment once the database is migrated: demo data, and the
# ids the scenarios need.
SETUP = """
import io, json
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("load_demo", stdout=io.StringIO())
from avhopp.models import Agency
from cases.models import Case
case = Case.objects.get(individual__first_name="Adam", individual__last_name="Demo")
police = Agency.objects.get(name="Polisregion Stockholm")
print(json.dumps({"case": case.pk, "police": police.pk}))
"""
# What the beat schedule runs every two minutes, without waiting for the referral to age.
REQUEUE = (
    "from datetime import timedelta; from referrals.services import referrals_requeue_stale; "
    "print(referrals_requeue_stale(older_than=timedelta(0)))"
)

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def log_tail(path: Path, chars: int = 4000) -> str:
    if not path.exists():
        return f"({path.name}: no log)"
    return f"--- {path.name} ---\n" + path.read_text(encoding="utf-8", errors="replace")[-chars:]


class ThrowawayPostgres:
    """A private cluster in its own directory, run as the `postgres` OS user when root."""

    def __init__(self, root: Path, port: int) -> None:
        assert PG_BINDIR is not None
        self.bindir = PG_BINDIR
        self.root = root
        self.data = root / "pgdata"
        self.socket_dir = root / "pgsocket"
        self.log = root / "postgres.log"
        self.port = port
        self.url = f"postgres://avhopp@127.0.0.1:{port}/avhopp"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def init(self) -> None:
        self.root.chmod(0o755)  # the postgres OS user must reach the cluster
        self.data.mkdir(mode=0o700)
        self.socket_dir.mkdir()
        self.log.touch()
        if os.geteuid() == 0:
            for path in (self.data, self.socket_dir, self.log):
                shutil.chown(path, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "avhopp",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        self.start()
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE avhopp OWNER avhopp")

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


class ThrowawayRedis:
    def __init__(self, root: Path, port: int) -> None:
        self.port = port
        self.root = root
        self.log = root / "redis.log"
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None and self.process is None
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.root),
                ],
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._pong, timeout=10, what="Redis to answer")

    def _pong(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Stack:
    """PostgreSQL, Redis, gunicorn and a Celery worker, all private to this module."""

    root: Path
    pg: ThrowawayPostgres
    redis: ThrowawayRedis
    web_port: int
    env: dict[str, str]
    document_root: Path
    ids: dict[str, int] = field(default_factory=dict)
    processes: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            pytest.fail(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT
            )
        self.processes.append((process, log))
        return process

    def logs(self) -> str:
        parts = [log_tail(log) for _process, log in self.processes]
        return "\n".join([*parts, log_tail(self.pg.log, 1500), log_tail(self.redis.log, 1500)])

    def check_alive(self) -> None:
        for process, log in self.processes:
            if process.poll() is not None:
                pytest.fail(f"{log.stem} exited with {process.returncode}\n{self.logs()}")

    def stop_processes(self) -> None:
        stop_processes(process for process, _log in self.processes)

    def documents(self) -> list[Path]:
        """The referral documents (the demo's relocation agreements are made on load too)."""
        referrals = self.document_root / "referrals"
        return sorted(path for path in referrals.rglob("*") if path.is_file())

    def referral_row(self, pk: int) -> tuple[str, int, str]:
        with psycopg.connect(self.pg.url) as conn:
            row = conn.execute(
                "SELECT status, attempts, document_path FROM referrals_referral WHERE id = %s",
                [pk],
            ).fetchone()
        assert row is not None
        return row


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not under pytest's tmp_path: its parents are private to root, and the cluster runs as
    # the postgres OS user.
    root = Path(tempfile.mkdtemp(prefix="avhopp-faults-"))
    pg = ThrowawayPostgres(root, free_port())
    cache = ThrowawayRedis(root, free_port())
    document_root = root / "documents"
    env = {
        **os.environ,
        "DATABASE_URL": pg.url,
        "REDIS_URL": cache.url,
        "DJANGO_SETTINGS_MODULE": "avhopp.settings",
        "DJANGO_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AVHOPP_DATA_DIR": str(root / "data"),
        "AVHOPP_DOCUMENT_ROOT": str(document_root),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    built = Stack(root, pg, cache, free_port(), env, document_root)
    try:
        pg.init()
        cache.start()
        built.ids = json.loads(built.manage("shell", "-c", SETUP).strip().splitlines()[-1])
        built.spawn(
            "gunicorn",
            [
                str(GUNICORN),
                "avhopp.wsgi:application",
                "--bind",
                f"127.0.0.1:{built.web_port}",
                "--workers",
                "1",
                "--threads",
                "2",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
        )
        built.spawn("worker", [sys.executable, "-m", "celery", "-A", "avhopp", *WORKER_ARGS])

        def web_answers() -> bool:
            built.check_alive()
            try:
                # The master listens before the worker has loaded Django: a request may wait.
                return requests.get(f"{built.base_url}/healthz", timeout=10).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_until(web_answers, timeout=60, what="gunicorn to answer /healthz")
        yield built
    finally:
        built.stop_processes()
        cache.stop()
        if pg.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                pg.stop()
        shutil.rmtree(root, ignore_errors=True)


class Visitor:
    """A signed-in person: one requests.Session, logged in once (a TOTP code is single-use)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def get_detached(self, path: str) -> int:
        """The status of a GET with this session's cookies, safe to run from many threads."""
        cookies = self.session.cookies.get_dict()
        answer = requests.get(
            self.base_url + path, cookies=cookies, allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        return answer.status_code

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        token = self.session.cookies.get("csrftoken")
        return self.session.post(
            self.base_url + path,
            data={**data, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )

    def log_in(self, username: str) -> None:
        assert self.get("/logga-in/").status_code == 200
        answer = self.post("/logga-in/", {"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 302, answer.text[:500]
        code = f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}"
        answer = self.post("/tvafaktor/", {"code": code})
        assert answer.status_code == 302, answer.text[:500]
        assert self.get("/").status_code == 200


@pytest.fixture(scope="module")
def coordinator(stack: Stack) -> Visitor:
    visitor = Visitor(stack.base_url)
    visitor.log_in("samordnare")
    # The demo case's responsible worker is someone else: state the reason once.
    case = stack.ids["case"]
    answer = visitor.post(f"/arenden/{case}/skal/", {"reason": "joint_meeting"})
    assert answer.status_code == 302
    assert visitor.get(f"/arenden/{case}/").status_code == 200
    return visitor


def health(stack: Stack) -> tuple[int, dict[str, str]]:
    """As a monitor asks: no session cookie."""
    answer = requests.get(f"{stack.base_url}/healthz", timeout=HTTP_TIMEOUT)
    return answer.status_code, answer.json()


def expect_health(stack: Stack, status: int, **states: str) -> None:
    code, body = health(stack)
    assert code == status, body
    assert {name: body[name] for name in states} == states, body


def submit_referral(visitor: Visitor, stack: Stack, summary: str) -> int:
    case = stack.ids["case"]
    form = visitor.get(f"/remisser/arende/{case}/ny/")
    assert form.status_code == 200
    started = time.monotonic()
    answer = visitor.post(
        f"/remisser/arende/{case}/ny/",
        {
            "to_agency": stack.ids["police"],
            "external_recipient": "",
            "intervention_kind": "protection",
            "reason": "Behöver skydd efter avhopp.",
            "summary": summary,
            "requested_start": "",
            "contact_person": "Karin Kontakt",
            "consent": "",
            # Without a consent a referral rests on a legal basis with a citation.
            "legal_basis": "osl_10_2",
            "legal_basis_citation": "OSL 10 kap. 2 §, beslut i ärendet",
        },
    )
    assert answer.status_code == 302, f"{answer.status_code}: {answer.text[:800]}"
    assert time.monotonic() - started < 10, "the broker outage held the request up"
    match = re.fullmatch(r"/remisser/(\d+)/", answer.headers["Location"])
    assert match, answer.headers["Location"]
    return int(match[1])


def status_of(visitor: Visitor, pk: int) -> str:
    answer = visitor.get(f"/remisser/{pk}/status/")
    assert answer.status_code == 200
    return answer.json()["status"]


def wait_for_ready(visitor: Visitor, stack: Stack, pk: int, timeout: float = DEADLINE) -> None:
    def ready() -> bool:
        stack.check_alive()
        status = status_of(visitor, pk)
        if status == "failed":
            pytest.fail(f"render failed\n{stack.logs()}")
        return status == "ready"

    try:
        wait_until(ready, timeout=timeout, what=f"referral {pk} to be ready", interval=0.5)
    except pytest.fail.Exception:
        print(stack.logs())
        raise


def test_redis_outage_keeps_the_referral_and_produces_it_once_redis_is_back(
    stack: Stack, coordinator: Visitor
) -> None:
    expect_health(stack, 200, database="ok", broker="ok")

    stack.redis.stop()
    try:
        expect_health(stack, 503, database="ok", broker="down")
        pk = submit_referral(coordinator, stack, "Lämnad under avbrott i kön.")

        page = coordinator.get(f"/remisser/{pk}/")
        assert page.status_code == 200
        assert 'data-status="queued"' in page.text
        assert "I kö" in page.text
        assert status_of(coordinator, pk) == "queued"
        assert stack.referral_row(pk)[:2] == ("queued", 0)
        assert stack.documents() == []
    finally:
        stack.redis.start()

    wait_until(lambda: health(stack)[0] == 200, timeout=15, what="/healthz to recover")
    expect_health(stack, 200, database="ok", broker="ok")
    # Nothing was published during the outage, so nothing happens until the requeue job.
    assert status_of(coordinator, pk) == "queued"
    assert stack.manage("shell", "-c", REQUEUE).split()[-1] == "1"
    wait_for_ready(coordinator, stack, pk)

    page = coordinator.get(f"/remisser/{pk}/")
    assert 'data-status="ready"' in page.text
    assert "Klar" in page.text
    status, attempts, document_path = stack.referral_row(pk)
    assert (status, attempts) == ("ready", 1)
    assert stack.documents() == [stack.document_root / document_path]
    assert (stack.document_root / document_path).read_bytes().startswith(b"%PDF")

    # The web process publishes again by itself: no requeue needed for the next one.
    second = submit_referral(coordinator, stack, "Lämnad efter avbrottet.")
    wait_for_ready(coordinator, stack, second, timeout=30)
    assert len(stack.documents()) == 2
    expect_health(stack, 200, database="ok", broker="ok")


OUTAGE_PAGES = ["/", "/arenden/", "/arenden/{case}/", "/remisser/"]


def assert_clean_outage_page(answer: requests.Response) -> None:
    assert answer.status_code == 503, f"{answer.status_code}: {answer.text[:500]}"
    assert "tillfälligt otillgänglig" in answer.text
    assert "Traceback" not in answer.text
    assert answer.headers.get("Retry-After") == "30"


def test_postgres_restart_fails_cleanly_and_recovers_by_itself(
    stack: Stack, coordinator: Visitor
) -> None:
    case = stack.ids["case"]
    pages = [path.format(case=case) for path in OUTAGE_PAGES]
    expect_health(stack, 200, database="ok", broker="ok")
    for path in pages:
        assert coordinator.get(path).status_code == 200, path

    stack.pg.stop()
    try:
        outage_ends = time.monotonic() + 3
        while time.monotonic() < outage_ends:
            for path in pages:
                assert_clean_outage_page(coordinator.get(path))
            assert_clean_outage_page(
                coordinator.post(f"/arenden/{case}/journal/", {"text": "Under avbrottet."})
            )
            expect_health(stack, 503, database="down", broker="ok")
        stack.check_alive()
    finally:
        stack.pg.start()

    # Back at once, on the same gunicorn: every thread's connection is checked and renewed.
    # Concurrent requests, so both threads serve some of them.
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(coordinator.get_detached, pages * 3))
    assert codes == [200] * len(codes)
    expect_health(stack, 200, database="ok", broker="ok")
    # The session survived the outage and writes work again.
    answer = coordinator.post(f"/arenden/{case}/journal/", {"text": "Efter avbrottet."})
    assert answer.status_code == 302
    detail = coordinator.get(f"/arenden/{case}/")
    assert "Efter avbrottet." in detail.text
    assert "Under avbrottet." not in detail.text
    stack.check_alive()


def test_healthz_reports_states_to_a_signed_in_browser_during_an_outage(
    stack: Stack, coordinator: Visitor
) -> None:
    stack.pg.stop()
    try:
        answer = coordinator.session.get(f"{stack.base_url}/healthz", timeout=HTTP_TIMEOUT)
    finally:
        stack.pg.start()
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["database"] == "down"

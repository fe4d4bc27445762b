"""Real Celery workers for the services tests (tests/test_*_worker.py): worker subprocesses
pointed at the test database and at a private document root, always stopped at teardown,
and the jobs a test left in Redis removed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from pypdf import PdfReader

from avhopp.celery import app as celery_app
from tests.support import REPO, WORKER_ARGS, stop_processes

DEADLINE = 60.0

# A worker whose renders hang first, so it can be killed mid-job. Patched in the worker
# process only: the application has no such hook, and needs none.
SLOW_WORKER = """
import os
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avhopp.settings")
import django

django.setup()
from referrals import services

real_render = services.render_pdf


def slow_render(html):
    time.sleep(float(os.environ["SLOW_RENDER_SECONDS"]))
    return real_render(html)


services.render_pdf = slow_render
from avhopp.celery import app

app.worker_main(sys.argv[1:])
"""


def worker_database_url() -> str:
    """The database pytest-django made for this run (`test_` + the configured name)."""
    config = connection.settings_dict
    name = config["NAME"]
    assert name.startswith("test_"), f"refusing to point a worker at {name!r}"
    auth = quote(config["USER"] or "", safe="")
    if config["PASSWORD"]:
        auth += ":" + quote(config["PASSWORD"], safe="")
    return f"postgres://{auth}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{name}"


DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def _point_broker_at(url: str) -> None:
    # The app caches its connection and producer pools (keyed by URL in kombu's registry):
    # drop the app's references so the next publish builds them for `url`.
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Publish to `url` meanwhile (DEAD_BROKER: a broker outage, for real)."""
    previous = celery_app.conf.broker_url
    _point_broker_at(url)
    try:
        yield
    finally:
        _point_broker_at(previous)


def _ours(message: dict, task: str, ids: set[int]) -> bool:
    headers = message.get("headers", {})
    return headers.get("task") == task and headers.get("argsrepr") in {f"({pk},)" for pk in ids}


def unacked_of(task: str, ids: set[int]) -> list[bytes]:
    """Delivery tags of `task` jobs for these ids that a worker took but never acked."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return [
            tag
            for tag, raw in client.hgetall("unacked").items()
            if _ours(json.loads(raw)[0], task, ids)
        ]
    finally:
        client.close()


def take_queued(task: str, ids: set[int]) -> int:
    """Remove the queued (not yet taken) `task` jobs for these ids from Redis; answer how
    many there were."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return sum(
            client.lrem("celery", 0, raw)
            for raw in client.lrange("celery", 0, -1)
            if _ours(json.loads(raw), task, ids)
        )
    finally:
        client.close()


def forget_jobs_of(task: str, ids: set[int]) -> None:
    """Drop queued and unacked `task` jobs for these ids from Redis, so nothing of a test is
    redelivered to anyone else later."""
    import redis

    take_queued(task, ids)
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for tag in unacked_of(task, ids):
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    finally:
        client.close()


class Workers:
    """Start Celery worker subprocesses; `stop_all` ends every one of them."""

    def __init__(self, tmp_path: Path, document_root: Path) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "AVHOPP_DOCUMENT_ROOT": str(document_root),
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, *, slow_render_seconds: float | None = None) -> subprocess.Popen[bytes]:
        env = dict(self.env)
        if slow_render_seconds is None:
            command = [sys.executable, "-m", "celery", "-A", "avhopp", *WORKER_ARGS]
        else:
            script = self.tmp_path / "slow_worker.py"
            script.write_text(SLOW_WORKER, encoding="utf-8")
            env["SLOW_RENDER_SECONDS"] = str(slow_render_seconds)
            command = [sys.executable, str(script), *WORKER_ARGS]
        log = self.tmp_path / f"worker-{len(self.processes)}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT
            )
        self.processes.append((process, log))
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name} (exit {process.poll()}) ---\n"
            + log.read_text(encoding="utf-8", errors="replace")[-3000:]
            for process, log in self.processes
        )

    def check_alive(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            pytest.fail(f"the worker exited early\n{self.logs()}")

    def stop_all(self) -> None:
        stop_processes((process for process, _log in self.processes), timeout=10)


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)

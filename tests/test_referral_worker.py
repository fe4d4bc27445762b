"""Referral documents made by a real Celery worker over the real Redis broker.

Each worker is a subprocess pointed at the test database and at a private document root.
Workers are always stopped at teardown, and messages left in Redis for our referrals are
removed, so nothing of these tests is redelivered to anyone else later.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from pypdf import PdfReader

from avhopp.celery import app as celery_app
from avhopp.models import Agency, User
from cases.models import Case, InterventionKind, LegalBasis
from referrals import services
from referrals.models import Referral, ReferralStatus
from referrals.tasks import generate_document
from tests.support import WORKER_ARGS, stop_processes

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker (REDIS_URL)"),
]

REPO = Path(__file__).resolve().parent.parent
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


def _ours(message: dict, referral_ids: set[int]) -> bool:
    headers = message.get("headers", {})
    return headers.get("task") == generate_document.name and headers.get("argsrepr") in {
        f"({pk},)" for pk in referral_ids
    }


def unacked_jobs(referral_ids: set[int]) -> list[bytes]:
    """Delivery tags of jobs for these referrals that a worker took but never acked."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return [
            tag
            for tag, raw in client.hgetall("unacked").items()
            if _ours(json.loads(raw)[0], referral_ids)
        ]
    finally:
        client.close()


def forget_jobs(referral_ids: set[int]) -> None:
    """Drop queued and unacked jobs for these referrals from Redis."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for raw in client.lrange("celery", 0, -1):
            if _ours(json.loads(raw), referral_ids):
                client.lrem("celery", 0, raw)
        for tag in unacked_jobs(referral_ids):
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


@pytest.fixture
def document_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "documents"
    root.mkdir()
    settings.DOCUMENT_ROOT = root  # the test process reads what the worker wrote
    return root


@pytest.fixture
def referral_ids() -> Iterator[set[int]]:
    ids: set[int] = set()
    yield ids
    forget_jobs(ids)


@pytest.fixture
def workers(
    transactional_db: None, tmp_path: Path, document_root: Path, referral_ids: set[int]
) -> Iterator[Workers]:
    celery_app.control.purge()
    pool = Workers(tmp_path, document_root)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_for_status(
    referral: Referral,
    wanted: ReferralStatus,
    worker: subprocess.Popen[bytes],
    pool: Workers,
    *,
    timeout: float = DEADLINE,
) -> Referral:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        referral.refresh_from_db()
        if referral.status == wanted:
            return referral
        if referral.status == ReferralStatus.FAILED:
            pytest.fail(f"render failed: {referral.error_message}\n{pool.logs()}")
        pool.check_alive(worker)
        time.sleep(0.05)
    pytest.fail(f"still {referral.status!r}, not {wanted!r}, after {timeout} s\n{pool.logs()}")


@pytest.fixture
def submit(
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    referral_ids: set[int],
) -> Callable[[], Referral]:
    def create() -> Referral:
        case = make_case(worker, responsible=coordinator)
        # Committed, as in a request: the job is published only after the commit.
        with transaction.atomic():
            referral = services.referral_create(
                case=case,
                by=coordinator,
                to_agency=police_agency,
                intervention_kind=InterventionKind.PROTECTION,
                reason="Behöver skydd efter avhopp.",
                summary="Personen har lämnat nätverket.",
                contact_person="Karin Kontakt",
                legal_basis=LegalBasis.NECESSARY_FOR_DUTY,
                legal_basis_citation="OSL 10 kap. 2 §, beslut i ärendet",
            )
            referral_ids.add(referral.pk)
        return referral

    return create


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_worker_renders_a_submitted_referral(
    workers: Workers, submit: Callable[[], Referral], document_root: Path
) -> None:
    worker_process = workers.start()
    referral = submit()
    assert referral.status == ReferralStatus.QUEUED

    referral = wait_for_status(referral, ReferralStatus.READY, worker_process, workers)
    assert referral.attempts == 1
    document = document_root / referral.document_path
    assert files_under(document_root) == [document]
    content = document.read_bytes()
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == referral.document_sha256
    assert referral.document_size == len(content)
    text = pdf_text(document)
    assert "Remiss" in text
    assert referral.reference in text
    assert referral.case.reference in text
    assert "Polisregion Stockholm" in text
    assert "Adam Testsson" in text
    assert "Sekretess enligt OSL" in text
    assert f"Sida 1 av {referral.page_count}" in text


def test_worker_killed_mid_render_is_recovered(
    workers: Workers, submit: Callable[[], Referral], document_root: Path
) -> None:
    doomed = workers.start(slow_render_seconds=30)
    referral = submit()
    referral = wait_for_status(referral, ReferralStatus.GENERATING, doomed, workers)

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.GENERATING
    assert referral.attempts == 1
    assert files_under(document_root) == []  # no half-written document left behind
    # Acked late: the job taken by the dead worker is not lost, only held by the broker.
    assert len(unacked_jobs({referral.pk})) == 1

    survivor = workers.start()
    # What the beat schedule does every two minutes, without waiting for the job to age.
    assert services.referrals_requeue_stale(older_than=timedelta(0)) == 1
    referral = wait_for_status(referral, ReferralStatus.READY, survivor, workers)

    assert referral.attempts >= 2
    document = document_root / referral.document_path
    assert files_under(document_root) == [document]
    assert hashlib.sha256(document.read_bytes()).hexdigest() == referral.document_sha256
    assert referral.reference in pdf_text(document)

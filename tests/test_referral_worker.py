"""Referral documents made by a real Celery worker over the real Redis broker.

Each worker is a subprocess pointed at the test database and at a private document root.
Workers are always stopped at teardown, and messages left in Redis for our referrals are
removed, so nothing of these tests is redelivered to anyone else later.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from avhopp.celery import app as celery_app
from avhopp.models import Agency, User
from cases.models import Case, InterventionKind, LegalBasis
from referrals import services
from referrals.models import Referral, ReferralStatus
from referrals.tasks import generate_document
from tests.worker_support import DEADLINE, Workers, forget_jobs_of, pdf_text, unacked_of

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker (REDIS_URL)"),
]


def unacked_jobs(referral_ids: set[int]) -> list[bytes]:
    return unacked_of(generate_document.name, referral_ids)


def forget_jobs(referral_ids: set[int]) -> None:
    forget_jobs_of(generate_document.name, referral_ids)


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

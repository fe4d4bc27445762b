"""The relocation's Celery jobs run by a real worker over the real Redis broker: the placement
agreement (both copies, the sending side's without the address) and the periodic expiry of
unanswered offers and handovers (tests/worker_support.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.celery import app as celery_app
from avhopp.models import User
from cases.models import Case
from relocations import services
from relocations.models import (
    Candidate,
    OfferStatus,
    PlacementAgreement,
    Relocation,
    RelocationStatus,
)
from relocations.tasks import expire_answers, generate_agreement
from tests.access_support import give_outside_reason
from tests.relocation_support import (
    DESTINATION_ADDRESS,
    DESTINATION_NAME,
    Parties,
    advance,
    relocation_consent,
)
from tests.relocation_support import request as request_relocation
from tests.support import assess_threat
from tests.worker_support import DEADLINE, Workers, forget_jobs_of, pdf_text

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker (REDIS_URL)"),
]

STREET = DESTINATION_ADDRESS.split(",")[0]


@pytest.fixture
def relocation_ids() -> Iterator[set[int]]:
    ids: set[int] = set()
    yield ids
    forget_jobs_of(generate_agreement.name, ids)


@pytest.fixture
def workers(
    transactional_db: None, tmp_path: Path, doc_root: Path, relocation_ids: set[int]
) -> Iterator[Workers]:
    celery_app.control.purge()
    pool = Workers(tmp_path, doc_root)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_until(
    ready: Callable[[], bool], what: str, pool: Workers, *, timeout: float = DEADLINE
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        for process, _log in pool.processes:
            pool.check_alive(process)
        time.sleep(0.1)
    pytest.fail(f"{what} not done after {timeout} s\n{pool.logs()}")


def _agreement_ready(relocation: Relocation) -> Callable[[], bool]:
    return lambda: PlacementAgreement.objects.filter(
        relocation=relocation, generated_at__isnull=False
    ).exists()


def _downloaded_text(client: Client, relocation: Relocation, tmp_path: Path, name: str) -> str:
    response = client.get(reverse("relocations:agreement", args=[relocation.pk]))
    assert response.status_code == 200, name
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    return pdf_text(path)


def test_worker_makes_the_agreement_and_each_side_reads_its_copy(
    workers: Workers,
    relocation: Relocation,
    relocation_ids: set[int],
    parties: Parties,
    worker: User,
    login: Callable[[User], Client],
    doc_root: Path,
    tmp_path: Path,
) -> None:
    workers.start()
    relocation_ids.add(relocation.pk)
    advance(relocation, parties, RelocationStatus.ACCEPTED)
    # Committed, as in a request: the job is published only after the commit.
    with transaction.atomic():
        services.placement_record(
            relocation=relocation,
            by=parties.receiving_coordinator,
            housing="long_term",
            address=DESTINATION_ADDRESS,
            move_date=timezone.localdate(),
        )
    wait_until(_agreement_ready(relocation), "the agreement", workers)

    agreement = PlacementAgreement.objects.get(relocation=relocation)
    assert sorted(path.name for path in doc_root.rglob("*.pdf")) == [
        f"{relocation.pk}-full.pdf",
        f"{relocation.pk}-sending.pdf",
    ]
    assert (doc_root / agreement.full_path).read_bytes().startswith(b"%PDF")
    # Read back as each side is served it.
    full = _downloaded_text(login(parties.receiving_coordinator), relocation, tmp_path, "full")
    assert "Placeringsavtal" in full and relocation.reference in full
    assert DESTINATION_NAME in full and STREET in full
    for user in (parties.sending_coordinator, worker):
        client = login(user)
        if user == parties.sending_coordinator:  # not responsible: a logged reason first
            give_outside_reason(client, relocation.case)
        sending = _downloaded_text(client, relocation, tmp_path, f"sending-{user.pk}")
        assert "Sändande kommunens exemplar" in sending and relocation.reference in sending
        assert DESTINATION_NAME in sending  # the deciders read where, and pay for it
        assert STREET not in sending and "999 99" not in sending
        assert "Skyddad" in sending


def test_worker_runs_the_expiry_of_unanswered_offers_and_handovers(
    workers: Workers,
    relocation: Relocation,
    parties: Parties,
    relocation_ids: set[int],
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    coordinator: User,
    national_agency: object,
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    # A second relocation, moved and waiting for the receiving municipality to take over.
    second_case = make_case(worker)
    assess_threat(
        second_case,
        officer,
        level="high",
        summary="Hög hotbild.",
        details="Polisens egna uppgifter.",
        relocation=True,
        next_review_date=timezone.localdate() + timedelta(days=30),
    )
    second = request_relocation(
        second_case, coordinator, relocation_consent(second_case, coordinator, national_agency)
    )
    relocation_ids.add(second.pk)  # its agreement's job waits in Redis for the worker
    advance(second, parties, RelocationStatus.HANDOVER)
    # Both answers are overdue: the working days of the offer, the month of the handover.
    Candidate.objects.filter(relocation=relocation).update(
        offer_due_on=timezone.localdate() - timedelta(days=1)
    )
    Relocation.objects.filter(pk=second.pk).update(
        handover_due_on=timezone.localdate() - timedelta(days=1)
    )

    workers.start()
    expire_answers.delay()  # what the beat schedule publishes every five minutes

    def both_expired() -> bool:
        statuses = dict(
            Relocation.objects.filter(pk__in=[relocation.pk, second.pk]).values_list("pk", "status")
        )
        return statuses == {
            relocation.pk: RelocationStatus.MATCHING,
            second.pk: RelocationStatus.DISPUTED,
        }

    wait_until(both_expired, "the expiry", workers)
    assert relocation.candidates.get().offer == OfferStatus.EXPIRED
    assert list(relocation.steps.values_list("status", flat=True))[-2:] == [
        "offered",
        "matching",
    ]
    assert second.steps.last().status == RelocationStatus.DISPUTED
    assert second.steps.last().by is None  # the system, not a person

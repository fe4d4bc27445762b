"""The referral PDF: the render service against a bare WeasyPrint render of the same HTML,
and submit-to-ready through a real Celery worker over Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import transaction
from django.utils import timezone

from avhopp.models import Agency, AgencyKind
from bench.dataset import Actors
from bench.env import ROOT
from bench.timing import in_turn, summary
from cases.models import Case, Consent
from tests.support import WORKER_ARGS, stop_processes


def _pdf_case(actors: Actors) -> tuple[Case, Consent]:
    case = actors.coordinator_case
    prison = Agency.objects.get(kind=AgencyKind.PRISON_PROBATION)
    consent, _created = Consent.objects.get_or_create(
        individual=case.individual,
        recipient=prison,
        document_reference="BENCH-PDF",
        defaults={
            "given_on": timezone.localdate() - timedelta(days=1),
            "valid_until": timezone.localdate() + timedelta(days=365),
            "created_by": actors.coordinator,
            "scope_interventions": True,
            "scope_threat_level": True,
            "scope_journal": True,
        },
    )
    return case, consent


def _submit(actors: Actors, case: Case, consent: Consent) -> int:
    from referrals.services import referral_create

    with transaction.atomic():
        referral = referral_create(
            case=case,
            by=actors.coordinator,
            to_agency=consent.recipient,
            consent=consent,
            include_interventions=True,
            include_threat_level=True,
            include_journal=True,
            contact_person="Samordnare, 08-123 456",
            reason="Behov av stöd med boende och arbete.",
            summary="Personen följer planen.",
        )
    return referral.pk


def drop_bench_referrals() -> int:
    """Remove the referrals the PDF benchmarks made, so every run reads the same case pages
    (they pile up on the coordinator's largest case, which the detail rows also read)."""
    from referrals.models import Referral

    deleted, _per_model = Referral.objects.filter(consent__document_reference="BENCH-PDF").delete()
    return deleted


def bench_pdf(actors: Actors, runs: int) -> dict[str, Any]:
    from weasyprint import HTML

    from referrals.models import Referral, ReferralStatus
    from referrals.services import referral_html, referral_render

    case, consent = _pdf_case(actors)
    # Create through the service with the broker unreachable: the row stays queued.
    with mock.patch("referrals.services.enqueue_generation", lambda _pk: False):
        referral_id = _submit(actors, case, consent)
    html = referral_html(referral_id=referral_id)

    def service() -> None:
        Referral.objects.filter(pk=referral_id).update(status=ReferralStatus.QUEUED)
        referral_render(referral_id=referral_id)

    def bare() -> None:
        HTML(string=html).write_pdf()

    arms = {"service": service, "bare": bare}
    samples: dict[str, list[float]] = {name: [] for name in arms}
    for index in range(runs + 2):
        # Swap which goes first: the first of back-to-back renders ran 15-25 % slower here.
        for name in in_turn(index, list(arms)):
            started = time.perf_counter()
            arms[name]()
            if index >= 2:  # warm-up: fonts and WeasyPrint's caches
                samples[name].append(time.perf_counter() - started)
    referral = Referral.objects.get(pk=referral_id)
    timed = {name: summary(values) for name, values in samples.items()}
    return {
        **timed,
        "ratio_p50": timed["service"]["p50"] / timed["bare"]["p50"],
        "ratio_p95": timed["service"]["p95"] / timed["bare"]["p95"],
        "pages": referral.page_count,
        "bytes": referral.document_size,
        "html_chars": len(html),
    }


def bench_worker(actors: Actors, runs: int, timeout: float = 60.0) -> dict[str, Any] | None:
    from referrals.models import Referral, ReferralStatus

    if not os.environ.get("REDIS_URL"):
        print("  REDIS_URL unset: submit-to-ready skipped", flush=True)
        return None
    env = dict(os.environ)
    command = [sys.executable, "-m", "celery", "-A", "avhopp", *WORKER_ARGS]
    worker = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (fixed arguments)
    try:
        case, consent = _pdf_case(actors)
        samples = []
        for index in range(runs + 2):
            started = time.perf_counter()
            referral_id = _submit(actors, case, consent)
            deadline = started + timeout
            status = ""
            while time.perf_counter() < deadline:
                status = (
                    Referral.objects.filter(pk=referral_id).values_list("status", flat=True).get()
                )
                if status in (ReferralStatus.READY, ReferralStatus.FAILED):
                    break
                time.sleep(0.005)
            elapsed = time.perf_counter() - started
            if status != ReferralStatus.READY:
                raise RuntimeError(f"referral {referral_id} ended {status!r} after {elapsed:.1f}s")
            if index >= 2:  # the first jobs include the worker's start and WeasyPrint's warm-up
                samples.append(elapsed)
        return summary(samples)
    finally:
        stop_processes([worker], timeout=20)

"""Avhopp benchmark: `make bench` (BENCH_CASES=10000 by default).

Runs in-process against PostgreSQL with a `seed_scale` dataset (seeded first when the
database holds a different N), through Django's test Client on the real URLs:

- case list (first page, a deep page, filters, name search, identity-number search) and
  case detail for a social worker, a coordinator and a police officer: p50/p95 server time
  (time around client.get) and the query count of one request. The pages are timed in turn,
  one request each per round, with a fixed loop of pure Python as a gauge of the machine's
  speed in the same rounds: on a shared machine whose speed swings (2 x here between seconds),
  every page then meets the same slow and fast seconds;
- the same list without the permission filter (the floor) and the ratio, timed
  at the queryset level (Paginator count + the page's rows, same select_related/order/filters;
  only `cases_visible_to` is swapped for `Case.objects.all()`, the unfiltered list's
  ids from the grant index for all cases' ids from the primary key, and the agency's names
  for every person's name), the two timed alternately;
- referral PDF: `referral_render` end to end vs a bare WeasyPrint render of the same HTML
  (and vs one with the cycle collector paused, as the service renders), and submit-to-ready
  through a real Celery worker over Redis;
- case detail with and without the audit write.

Results: a Markdown table on stdout, in bench-results/latest.md and bench-results/bench-<N>.json;
when results for both 10,000 and 100,000 exist the growth ratios are added.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avhopp.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _redis_for_bench(url: str) -> str:
    """A Redis database of our own, so no other worker on the same server takes our jobs."""
    if not url:
        return ""
    base = url.rsplit("/", 1)[0] if url.count("/") >= 3 else url
    return f"{base}/{os.environ.get('BENCH_REDIS_DB', '7')}"


os.environ["REDIS_URL"] = _redis_for_bench(os.environ.get("REDIS_URL", ""))
_DOCS = Path(tempfile.mkdtemp(prefix="avhopp-bench-docs-"))
os.environ["AVHOPP_DOCUMENT_ROOT"] = str(_DOCS)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from avhopp.database import planned_for_values  # noqa: E402
from avhopp.models import Agency, AgencyKind, AuditEvent, Role, User  # noqa: E402
from cases import selectors  # noqa: E402
from cases.identity import format_identity_number  # noqa: E402
from cases.models import Case, Consent, ProtectionLevel  # noqa: E402
from cases.selectors import CaseFilters, case_page  # noqa: E402
from cases.views import PAGE_SIZE  # noqa: E402
from tests.support import WORKER_ARGS, stop_processes, verify_second_factor  # noqa: E402

DEEP_PAGE = 40  # offset 975; clamped to the last page for smaller lists


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples) * 1000,
        "p95": pct(samples, 0.95) * 1000,
        "n": len(samples),
    }


# --- Dataset ---------------------------------------------------------------------------------


def ensure_dataset(cases: int) -> float | None:
    call_command("migrate", verbosity=0, interactive=False)
    if Case.objects.count() == cases and Agency.objects.filter(kind=AgencyKind.POLICE).count() == 7:
        return None
    print(f"Seeding {cases:,} cases (the database holds a different dataset)...", flush=True)
    started = time.perf_counter()
    call_command("seed_scale", cases=cases, reset=True)
    return time.perf_counter() - started


class Actors:
    """The users and cases the benchmark reads as."""

    def __init__(self) -> None:
        # A police region with about 5 % of all cases shared to it (the median region).
        police = list(
            Agency.objects.filter(kind=AgencyKind.POLICE)
            .annotate(shared=Count("shared_cases", filter=Q(shared_cases__revoked_at__isnull=True)))
            .order_by("shared")
        )
        self.region = police[len(police) // 2]
        self.region_cases = self.region.shared  # type: ignore[attr-defined]
        # The largest municipality: the worst case for its staff's lists.
        self.municipality = (
            Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES)
            .annotate(owned=Count("owned_cases"))
            .order_by("-owned", "pk")
            .first()
        )
        self.municipality_cases = self.municipality.owned  # type: ignore[union-attr]
        self.officer = User.objects.filter(agency=self.region, role=Role.POLICE_OFFICER).first()
        self.coordinator = User.objects.filter(
            agency=self.municipality, role=Role.COORDINATOR
        ).first()
        self.worker = (
            User.objects.filter(agency=self.municipality, role=Role.SOCIAL_WORKER)
            .annotate(n=Count("responsible_cases"))
            .order_by("-n", "pk")
            .first()
        )
        sized = Case.objects.annotate(size=Count("interventions", distinct=True)).order_by(
            "-size", "pk"
        )
        # Detail: the largest case each reader may open (whatever the case's size).
        self.worker_case = sized.filter(responsible=self.worker).first()
        self.coordinator_case = sized.filter(owning_agency=self.municipality).first()
        today = timezone.localdate()
        self.officer_case = sized.filter(
            Q(shares__agency=self.region, shares__revoked_at__isnull=True)
            & (Q(shares__expires_on__isnull=True) | Q(shares__expires_on__gte=today))
        ).first()
        self.typical_officer_case = (
            Case.objects.filter(shares__agency=self.region, shares__revoked_at__isnull=True)
            .exclude(shares__expires_on__lt=today)
            .annotate(size=Count("interventions", distinct=True))
            .filter(size=5)
            .order_by("pk")
            .first()
        )
        self.number_case = (
            Case.objects.filter(
                shares__agency=self.region,
                shares__revoked_at__isnull=True,
                individual__personnummer__isnull=False,
                individual__protection_level=ProtectionLevel.NONE,
            )
            .exclude(shares__expires_on__lt=today)
            .select_related("individual")
            .order_by("-pk")
            .first()
        )
        self.name = "Lindqvist"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


# --- Measuring -------------------------------------------------------------------------------


# The machine gauge: the same pure-Python work every round, about 1 ms on this machine when
# it runs at full speed. Its spread is the machine's, since the work never changes.
GAUGE_LOOP = 20_000


def gauge_sample() -> float:
    started = time.perf_counter()
    total = 0
    for number in range(GAUGE_LOOP):
        total += number * number
    return time.perf_counter() - started


@dataclass
class Probe:
    """One page as one reader, timed a request per round."""

    role: str
    label: str
    client: Client
    url: str
    params: dict[str, str]
    listed: int | None = None  # the cases a list page counts
    shown: int | None = None  # the rows on the page
    samples: list[float] = field(default_factory=list)

    def get(self) -> float:
        started = time.perf_counter()
        response = self.client.get(self.url, self.params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (self.url, self.params, response.status_code)
        return elapsed

    def result(self) -> dict[str, Any]:
        with CaptureQueriesContext(connection) as captured:
            self.get()
        result = {"row": self.label, "user": self.role, **summary(self.samples)}
        result["queries"] = len(captured.captured_queries)
        if self.listed is not None:
            result["rows"] = self.listed
            result["shown"] = self.shown
        return result


def time_in_rounds(probes: list[Probe], requests: int, warmup: int) -> dict[str, Any]:
    """Each round requests every page once and takes one gauge sample; returns the gauge's
    summary."""
    gauge: list[float] = []
    for round_number in range(warmup + requests):
        for probe in probes:
            elapsed = probe.get()
            if round_number >= warmup:
                probe.samples.append(elapsed)
        if round_number >= warmup:
            gauge.append(gauge_sample())
        if round_number % 20 == 19:
            print(f"  round {round_number + 1} of {warmup + requests}", flush=True)
    return {**summary(gauge), "min": min(gauge) * 1000}


def queryset_pair(
    user: User, filters: CaseFilters, page: int, requests: int, warmup: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Paginator count + the page's rows, the way the list view reads them (each statement
    planned for its values, never prepared), with the permission filter and without it
    (the floor), alternately."""

    def once() -> tuple[float, int]:
        started = time.perf_counter()
        paginated = case_page(user, filters, str(page), size=PAGE_SIZE)
        return time.perf_counter() - started, paginated.paginator.count

    filtered: list[float] = []
    floor: list[float] = []
    with planned_for_values():
        for index in range(warmup + requests):
            elapsed, rows = once()
            with _floor():
                elapsed_floor, floor_rows = once()
            if index >= warmup:
                filtered.append(elapsed)
                floor.append(elapsed_floor)
    return {**summary(filtered), "rows": rows}, {**summary(floor), "rows": floor_rows}


def _anyone_named(_user: User, words: list[str]) -> Any:
    named = Case.objects.all()
    for word in words:
        named = named.filter(
            Q(individual__first_name__icontains=word) | Q(individual__last_name__icontains=word)
        )
    return named.values("pk")


@contextmanager
def _floor() -> Iterator[None]:
    """Every case visible: the permission filter, the grant index and the agency's names
    swapped for all cases and every person's name."""
    with (
        mock.patch.object(selectors, "cases_visible_to", lambda _user: Case.objects.all()),
        mock.patch.object(selectors, "_named", _anyone_named),
        mock.patch.object(
            selectors,
            "visible_case_ids",
            lambda _user: Case.objects.order_by("-pk").values_list("pk", flat=True),
        ),
    ):
        yield


LIST_ROWS: list[tuple[str, Callable[[Actors, User], dict[str, str]], Callable[..., Any]]] = [
    ("list, first page", lambda a, u: {}, lambda a, u: (CaseFilters(), 1)),
    (
        f"list, deep page (page {DEEP_PAGE})",
        lambda a, u: {"page": str(DEEP_PAGE)},
        lambda a, u: (CaseFilters(), DEEP_PAGE),
    ),
    (
        "list, filters (open, threat high)",
        lambda a, u: {"status": "open", "threat_level": "high"},
        lambda a, u: (CaseFilters(status="open", threat_level="high"), 1),
    ),
    (
        "list, name search",
        lambda a, u: {"q": a.name},
        lambda a, u: (CaseFilters(query=a.name), 1),
    ),
    (
        "list, identity-number search",
        lambda a, u: {"q": format_identity_number(a.number_case.individual.personnummer)},
        lambda a, u: (
            CaseFilters(query=format_identity_number(a.number_case.individual.personnummer)),
            1,
        ),
    ),
]


def _size(case: Case) -> str:
    return (
        f"{case.interventions.count()} interventions, {case.journal_entries.count()} notes, "
        f"{case.threat_assessments.count()} threat assessments"
    )


def bench_pages(actors: Actors, requests: int, warmup: int) -> tuple[list[dict[str, Any]], dict]:
    """The pages' rows, and the machine gauge's summary over the same rounds."""
    probes = page_probes(actors)
    gauge = time_in_rounds(probes, requests, warmup)
    rows = []
    for probe in probes:
        rows.append(probe.result())
        print(f"  {probe.role:<15} {probe.label:<38} {_fmt(rows[-1])}", flush=True)
    print(
        f"  machine gauge: min {gauge['min']:.2f} ms  p50 {gauge['p50']:.2f} ms  "
        f"p95 {gauge['p95']:.2f} ms",
        flush=True,
    )
    return rows, gauge


def page_probes(actors: Actors) -> list[Probe]:
    """Every page the benchmark times, as the reader who opens it (signed in)."""
    probes: list[Probe] = []
    readers = [
        ("social worker", actors.worker, actors.worker_case),
        ("coordinator", actors.coordinator, actors.coordinator_case),
        ("police officer", actors.officer, actors.officer_case),
    ]
    list_url = reverse("cases:list")
    for role, user, detail_case in readers:
        client = client_for(user)
        for label, params, qs in LIST_ROWS:
            filters, page = qs(actors, user)
            with planned_for_values():
                shown = case_page(user, filters, str(page), size=PAGE_SIZE)
            probes.append(
                Probe(
                    role,
                    label,
                    client,
                    list_url,
                    params(actors, user),
                    shown.paginator.count,
                    len(shown.object_list),
                )
            )
        # Owning-agency staff who are not responsible give a reason first (kept in session).
        if detail_case.responsible_id != user.pk and detail_case.owning_agency_id == (
            user.agency_id
        ):
            client.post(
                reverse("cases:outside_reason", args=[detail_case.pk]), {"reason": "supervision"}
            )
        label = f"detail (largest case, {_size(detail_case)})"
        probes.append(
            Probe(role, label, client, reverse("cases:detail", args=[detail_case.pk]), {})
        )
    journal_case = actors.worker_case
    probes.append(
        Probe(
            "social worker",
            f"whole journal, first page ({journal_case.journal_entries.count()} notes)",
            client_for(actors.worker),
            reverse("cases:journal", args=[journal_case.pk]),
            {},
        )
    )
    typical = actors.typical_officer_case
    label = f"detail (typical case, {_size(typical)})"
    probes.append(
        Probe(
            "police officer",
            label,
            client_for(actors.officer),
            reverse("cases:detail", args=[typical.pk]),
            {},
        )
    )
    return probes


def bench_floor(actors: Actors, requests: int, warmup: int) -> list[dict[str, Any]]:
    rows = []
    for role, user in (("social worker", actors.worker), ("police officer", actors.officer)):
        for label, _params, qs in LIST_ROWS:
            filters, page = qs(actors, user)
            filtered, floor = queryset_pair(user, filters, page, requests, warmup)
            row = {
                "row": label,
                "user": role,
                "filtered": filtered,
                "floor": floor,
                "ratio_p95": filtered["p95"] / floor["p95"],
            }
            rows.append(row)
            print(
                f"  {role:<15} {label:<38} filtered p95 {filtered['p95']:6.1f} ms, "
                f"floor p95 {floor['p95']:6.1f} ms, ratio {row['ratio_p95']:.2f}",
                flush=True,
            )
    return rows


def bench_audit(actors: Actors, requests: int, warmup: int) -> dict[str, Any]:
    """The same detail page, alternating requests with and without the audit write."""
    client = client_for(actors.worker)
    url = reverse("cases:detail", args=[actors.worker_case.pk])
    for _ in range(warmup):
        client.get(url)
    with_audit: list[float] = []
    without: list[float] = []
    noop = mock.patch("cases.views.audit_record_all", lambda events: None)
    with noop:
        newest = AuditEvent.objects.aggregate(newest=Max("pk"))["newest"]
        client.get(url)
        unwritten = AuditEvent.objects.aggregate(newest=Max("pk"))["newest"] == newest
    assert unwritten, "the case page still wrote its audit row: patch what it calls"
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        with_audit.append(time.perf_counter() - started)
        with noop:
            started = time.perf_counter()
            client.get(url)
            without.append(time.perf_counter() - started)
    a, b = summary(with_audit), summary(without)
    return {
        "with": a,
        "without": b,
        "overhead_p50": (a["p50"] - b["p50"]) / a["p50"],
        "overhead_p95": (a["p95"] - b["p95"]) / a["p95"],
    }


# --- Referral PDF ----------------------------------------------------------------------------


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
    from referrals.pdf import collector_paused
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

    def bare_paused() -> None:
        # The service renders with the cycle collector paused (referrals.pdf): this shows
        # how much of the gap to the bare render that pause closes.
        with collector_paused():
            HTML(string=html).write_pdf()

    arms = {"service": service, "bare": bare, "bare_paused": bare_paused}
    samples: dict[str, list[float]] = {name: [] for name in arms}
    for index in range(runs + 2):
        # Rotate which goes first: the first of back-to-back renders ran 15-25 % slower here.
        names = list(arms)
        for name in names[index % 3 :] + names[: index % 3]:
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
        "paused_ratio_p50": timed["service"]["p50"] / timed["bare_paused"]["p50"],
        "paused_ratio_p95": timed["service"]["p95"] / timed["bare_paused"]["p95"],
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


# --- Report ----------------------------------------------------------------------------------


def _fmt(result: dict[str, Any]) -> str:
    return (
        f"p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
        f"{result.get('queries', '-')} queries  {result.get('rows', '')}"
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        memory = "?"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} RAM, PostgreSQL {pg}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def report(data: dict[str, Any]) -> str:
    n = data["cases"]
    lines = [
        f"# Avhopp benchmark, N = {n:,} cases",
        "",
        f"{data['when']} · {data['machine']}",
        "",
        f"Readers: {data['actors']}.",
        f"{data['requests']} rounds after {data['warmup']} warm-up, each timing one request "
        "of every page in turn; server time = time around Django's test Client `get` "
        "(middleware, view, template), in ms.",
        "",
        *gauge_lines(data.get("gauge")),
        "| page | reader | p50 ms | p95 ms | queries | cases listed | rows on the page |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in data["pages"]:
        lines.append(
            f"| {row['row']} | {row['user']} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['queries']} | {row.get('rows', '')} | {row.get('shown') or ''} |"
        )
    lines += [
        "",
        "Permission filter vs the unfiltered floor: the list's queryset (Paginator count + the "
        "page's 25 rows, same select_related, filters and order) with `cases_visible_to(user)` "
        "(the unfiltered list paged and counted on the grant index) vs `Case.objects.all()` "
        "(the unfiltered list paged and counted on the primary key; a name search over every "
        "person's name instead of the agency's names), timed alternately.",
        "",
        "| list | reader | filtered p50 | filtered p95 | floor p50 | floor p95 | ratio p95 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in data["floor"]:
        f, fl = row["filtered"], row["floor"]
        lines.append(
            f"| {row['row']} | {row['user']} | {f['p50']:.1f} ({f['rows']}) | {f['p95']:.1f} | "
            f"{fl['p50']:.1f} ({fl['rows']}) | {fl['p95']:.1f} | {row['ratio_p95']:.2f} |"
        )
    audit = data["audit"]
    lines += [
        "",
        "| audit log cost (social worker, largest case) | p50 ms | p95 ms |",
        "|---|---:|---:|",
        f"| detail with the audit write | {audit['with']['p50']:.1f} | "
        f"{audit['with']['p95']:.1f} |",
        f"| detail without (the audit write a no-op) | {audit['without']['p50']:.1f} | "
        f"{audit['without']['p95']:.1f} |",
        f"| overhead | {audit['overhead_p50']:.1%} | {audit['overhead_p95']:.1%} |",
    ]
    pdf = data["pdf"]
    lines += [
        "",
        f"Referral PDF ({pdf['pages']} pages, {pdf['bytes']:,} bytes; interventions, threat "
        f"level and journal included), {pdf['service']['n']} runs after 2 warm-up:",
        "",
        "| referral PDF | p50 ms | p95 ms |",
        "|---|---:|---:|",
        f"| `referral_render` (queries, template, render, storage) | {pdf['service']['p50']:.0f} | "
        f"{pdf['service']['p95']:.0f} |",
        f"| bare `weasyprint.HTML(string=html).write_pdf()` | {pdf['bare']['p50']:.0f} | "
        f"{pdf['bare']['p95']:.0f} |",
        f"| ratio | {pdf['ratio_p50']:.2f} | {pdf['ratio_p95']:.2f} |",
        f"| bare, cycle collector paused as the service does | {pdf['bare_paused']['p50']:.0f} | "
        f"{pdf['bare_paused']['p95']:.0f} |",
        f"| ratio to that | {pdf['paused_ratio_p50']:.2f} | {pdf['paused_ratio_p95']:.2f} |",
    ]
    worker = data.get("worker")
    if worker:
        lines.append(
            f"| submit-to-ready, real Celery worker over Redis ({worker['n']} runs) | "
            f"{worker['p50']:.0f} | {worker['p95']:.0f} |"
        )
    lines.append("")
    growth = growth_table()
    if growth:
        lines += growth
    return "\n".join(lines) + "\n"


def gauge_lines(gauge: dict[str, Any] | None) -> list[str]:
    if not gauge:
        return []
    return [
        f"Machine gauge, in the same rounds: the same {GAUGE_LOOP:,} multiply-adds in Python "
        f"took {gauge['min']:.2f} ms at the fastest, {gauge['p50']:.2f} at p50 and "
        f"{gauge['p95']:.2f} at p95 ({gauge['p95'] / gauge['min']:.1f} x the fastest): "
        "what is the machine's, not the code's.",
        "",
    ]


def growth_table() -> list[str]:
    small, large = RESULTS / "bench-10000.json", RESULTS / "bench-100000.json"
    if not (small.exists() and large.exists()):
        return []
    a, b = json.loads(small.read_text()), json.loads(large.read_text())
    index = {(r["row"], r["user"]): r for r in a["pages"]}
    lines = [
        "Growth: N = 100,000 vs N = 10,000 (from bench-results/bench-*.json). p95 over 100",
        "requests moves by several ms between runs on a shared 2-core machine; p50 is steadier.",
        *(
            [
                f"The machine gauge's p50 was {a['gauge']['p50']:.2f} ms in the N = 10,000 run "
                f"and {b['gauge']['p50']:.2f} ms in the N = 100,000 run."
            ]
            if a.get("gauge") and b.get("gauge")
            else []
        ),
        "",
        "A list row whose page shows fewer rows at 10,000 (a search with fewer matches, a deep "
        "page past the end, which shows the last page) compares unlike work: its rows on the "
        "page are given.",
        "",
        "| page | reader | p95 at 10,000 | p95 at 100,000 | ratio p95 | ratio p50 "
        "| rows on the page |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in b["pages"]:
        key = (row["row"], row["user"])
        other = index.get(key)
        if other is None and row["row"].startswith(("detail (", "whole journal")):
            other = next(
                (
                    r
                    for r in a["pages"]
                    if r["user"] == row["user"]
                    and r["row"].split(",")[0] == row["row"].split(",")[0]
                ),
                None,
            )
        if other is None:
            continue
        both = (other.get("shown"), row.get("shown"))  # absent from older result files
        shown = f"{both[0]} / {both[1]}" if None not in both else ""
        lines.append(
            f"| {row['row']} | {row['user']} | {other['p95']:.1f} | {row['p95']:.1f} | "
            f"{row['p95'] / other['p95']:.2f} | {row['p50'] / other['p50']:.2f} | {shown} |"
        )
    lines += [
        "",
        "The permission-filtered list's queryset alone (count and page, as in the floor table):",
        "",
        "| list | reader | p95 at 10,000 | p95 at 100,000 | ratio p95 |",
        "|---|---|---:|---:|---:|",
    ]
    before = {(r["row"], r["user"]): r["filtered"] for r in a["floor"]}
    for row in b["floor"]:
        other = before.get((row["row"], row["user"]))
        if other is not None:
            now = row["filtered"]
            lines.append(
                f"| {row['row']} | {row['user']} | {other['p95']:.1f} | {now['p95']:.1f} | "
                f"{now['p95'] / other['p95']:.2f} |"
            )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", 10_000)))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 100)))
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--pdf-runs", type=int, default=20)
    parser.add_argument("--worker-runs", type=int, default=10)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL (make bench does).")
    seeded = ensure_dataset(args.cases)
    actors = Actors()
    described = (
        f"social worker `{actors.worker.username}` and coordinator "
        f"`{actors.coordinator.username}` of {actors.municipality.name} (owns "
        f"{actors.municipality_cases:,} cases, the largest municipality), police officer "
        f"`{actors.officer.username}` of {actors.region.name} ({actors.region_cases:,} "
        "active shares)"
    )
    print(f"N = {args.cases:,}; {described}", flush=True)
    drop_bench_referrals()  # left by an earlier run
    print("Pages:", flush=True)
    pages, gauge = bench_pages(actors, args.requests, args.warmup)
    print("Permission filter vs floor:", flush=True)
    floor = bench_floor(actors, args.requests, args.warmup)
    print("Audit write:", flush=True)
    audit = bench_audit(actors, args.requests, args.warmup)
    print("Referral PDF:", flush=True)
    pdf = bench_pdf(actors, args.pdf_runs)
    print("Submit-to-ready (Celery worker):", flush=True)
    worker = bench_worker(actors, args.worker_runs)
    drop_bench_referrals()
    data = {
        "cases": args.cases,
        "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "actors": described,
        "requests": args.requests,
        "warmup": args.warmup,
        "seed_seconds": seeded,
        "pages": pages,
        "gauge": gauge,
        "floor": floor,
        "audit": audit,
        "pdf": pdf,
        "worker": worker,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench-{args.cases}.json").write_text(json.dumps(data, indent=2))
    text = report(data)
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / f"bench-{args.cases}.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()

"""The audit log at national scale, side by side: `make bench-log`.

The log reviewer's pages at two sizes of the log, timed in one process the way
`bench/growth.py` times the case pages: each page is requested from one dataset and then from
the other, who goes first swapped every round, so both meet the same fast and slow seconds.
Both datasets are `seed_scale --cases 10000` with the same seed (the same agencies, users,
people and cases, by the same ids) and a log of `--audit-events` 2,000,000 and 20,000,000
events over 24 months (`make bench-log-seed` makes them).

The pages, as the log reviewer of the largest municipality: the search by case (its
reference), by person (identity number), by name, by user (a social worker's name, in capitals:
the search ignores case), by date range (one week half a year back), the unfiltered search (the
newest events), and "who has read this case" (audit:case_readers). Then the audit write on a case
page at each size: the page with its audit rows and without (the write a no-op), alternately,
and the write alone.

`python bench/log.py --explain` prints EXPLAIN (ANALYZE, BUFFERS) of every log query of those
pages on the larger dataset instead (the evidence behind the log's indexes).

DATABASE_URL is the larger dataset, BENCH_LOG_SMALL_DATABASE_URL the smaller. Writes
bench-results/log.md and bench-results/log.json.
"""

# ruff: noqa: E402 (the app is imported after Django is set up)
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env

env.setup()

# isort: split
import dj_database_url
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avhopp.audit import audit_event, audit_record_all
from avhopp.models import AuditAction, AuditEvent, Role, User
from bench.dataset import Actors
from bench.overheads import bench_audit
from bench.pages import Probe, client_for
from bench.report import machine
from bench.timing import summary, time_in_rounds
from cases.identity import format_identity_number
from cases.models import Case


@dataclass
class Dataset:
    database: BaseDatabaseWrapper
    events: int = 0
    probes: list[Probe] = field(default_factory=list)
    actors: Actors | None = None

    def use(self) -> None:
        # Swapping the connection keeps each dataset's own, with its prepared statements.
        connections["default"] = self.database


def log_pages(actors: Actors) -> list[tuple[str, User, str, tuple[int, ...], dict[str, str]]]:
    """(label, reader, URL name, arguments, query string) of every timed log page."""
    reviewer = actors.reviewer
    case = (
        Case.objects.filter(
            owning_agency=actors.municipality, individual__personnummer__isnull=False
        )
        .select_related("individual")
        .order_by("pk")
        .first()
    )
    worker = actors.worker
    today = timezone.localdate()
    week = {
        "date_from": (today - timedelta(days=190)).isoformat(),
        "date_to": (today - timedelta(days=184)).isoformat(),
    }
    number = format_identity_number(case.individual.personnummer)
    return [
        ("log search, by case", reviewer, "audit:search", (), {"case": case.reference}),
        ("log search, by person", reviewer, "audit:search", (), {"person": number}),
        (
            "log search, by name",
            reviewer,
            "audit:search",
            (),
            {"person": str(case.individual)},
        ),
        (
            "log search, by user",
            reviewer,
            "audit:search",
            (),
            {"username": worker.username.upper()},
        ),
        ("log search, by date range (7 days)", reviewer, "audit:search", (), week),
        ("log search, newest (no filter)", reviewer, "audit:search", (), {}),
        ("who has read this case", reviewer, "audit:case_readers", (case.pk,), {}),
    ]


def open_dataset(database: BaseDatabaseWrapper) -> Dataset:
    dataset = Dataset(database)
    dataset.use()
    dataset.events = AuditEvent.objects.count()
    actors = Actors()
    dataset.actors = actors
    clients: dict[int, Any] = {}
    for label, user, name, args, params in log_pages(actors):
        if user.pk not in clients:
            clients[user.pk] = client_for(user)
        client = clients[user.pk]
        if name == "audit:case_readers":
            # The reviewer reads outside any assignment: the reason first (kept in session).
            client.post(reverse("cases:outside_reason", args=args), {"reason": "supervision"})
        probe = Probe("log reviewer", label, client, reverse(name, args=args), params)
        response = client.get(probe.url, params)
        assert response.status_code == 200, (label, response.status_code)
        body = response.content.decode()
        # The rows of the table: every </tr> less the header's, and the "no events" row.
        probe.shown = body.count("</tr>") - 1 - ("Inga händelser." in body)
        dataset.probes.append(probe)
    return dataset


def time_side_by_side(small: Dataset, large: Dataset, requests: int, warmup: int) -> dict:
    def measure(dataset: Dataset, index: int) -> float:
        dataset.use()
        return dataset.probes[index].get()

    samples, gauge = time_in_rounds([small, large], len(small.probes), requests, warmup, measure)
    for dataset, timed in zip((small, large), samples, strict=True):
        for probe, values in zip(dataset.probes, timed, strict=True):
            probe.samples = values
    return gauge


def queries_of(dataset: Dataset) -> list[int]:
    dataset.use()
    counts = []
    for probe in dataset.probes:
        with CaptureQueriesContext(connection) as captured:
            probe.get()
        counts.append(len(captured.captured_queries))
    return counts


def write_alone(dataset: Dataset, requests: int) -> dict[str, float]:
    """The case page's audit write alone: its one CASE_VIEW row, as the page writes it."""
    dataset.use()
    actors = dataset.actors
    assert actors is not None
    case = actors.worker_case
    samples = []
    for _ in range(requests):
        event = audit_event(
            actor=actors.worker,
            action=AuditAction.CASE_VIEW,
            obj=case,
            case_id=case.pk,
            individual_id=case.individual_id,
        )
        started = time.perf_counter()
        with transaction.atomic():
            audit_record_all([event])
        samples.append(time.perf_counter() - started)
    return summary(samples)


def audit_cost(dataset: Dataset, requests: int, warmup: int) -> dict[str, Any]:
    dataset.use()
    assert dataset.actors is not None
    page = bench_audit(dataset.actors, requests, warmup)
    return {**page, "alone": write_alone(dataset, requests)}


def explain(dataset: Dataset) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each page's queries that read the log."""
    dataset.use()
    out = []
    for probe in dataset.probes:
        with CaptureQueriesContext(connection) as captured:
            probe.get()
        for query in captured.captured_queries:
            sql = query["sql"]
            if "avhopp_auditevent" not in sql or not sql.startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            out.append(f"## {probe.label}\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n")
    return "\n".join(out)


def report(data: dict[str, Any]) -> str:
    small, large = f"{data['events'][0]:,}", f"{data['events'][1]:,}"
    gauge = data["gauge"]
    lines = [
        f"# Avhopp audit log, {large} events against {small}, side by side",
        "",
        f"{data['when']} · {data['machine']}",
        "",
        f"{data['requests']} rounds after {data['warmup']} warm-up; in each, every page is "
        "requested once from each dataset, one right after the other, the order swapped every "
        "round. Whole request through Django's test Client as the log reviewer, in ms.",
        "",
        f"Machine gauge in the same rounds: {gauge['min']:.2f} ms at the fastest, "
        f"{gauge['p50']:.2f} at p50, {gauge['p95']:.2f} at p95.",
        "",
        f"| page | p50 at {small} | p95 at {small} | p50 at {large} | p95 at {large} "
        "| ratio p50 | ratio p95 | rows on the page | queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["rows"]:
        shown = row["shown"]
        lines.append(
            f"| {row['page']} | {row['small']['p50']:.1f} | {row['small']['p95']:.1f} | "
            f"{row['large']['p50']:.1f} | {row['large']['p95']:.1f} | {row['ratio_p50']:.2f} | "
            f"{row['ratio_p95']:.2f} | {shown[0]} / {shown[1]} | "
            f"{row['queries'][0]} / {row['queries'][1]} |"
        )
    lines += [
        "",
        "The audit write on a case page (social worker, the largest case): the page with its "
        "audit rows and without (the write a no-op), alternately; the write alone is its one "
        "row inserted in its own transaction.",
        "",
        "| log size | page with the write p50 | without p50 | overhead p50 | with p95 "
        "| without p95 | overhead p95 | the write alone p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, cost in zip((small, large), data["audit"], strict=True):
        lines.append(
            f"| {size} | {cost['with']['p50']:.1f} | {cost['without']['p50']:.1f} | "
            f"{cost['overhead_p50']:.1%} | {cost['with']['p95']:.1f} | "
            f"{cost['without']['p95']:.1f} | {cost['overhead_p95']:.1%} | "
            f"{cost['alone']['p50']:.2f} |"
        )
    lines.append("")
    worst50 = max(data["rows"], key=lambda row: row["ratio_p50"])
    worst95 = max(data["rows"], key=lambda row: row["ratio_p95"])
    lines.append(
        f"Worst growth: {worst50['ratio_p50']:.2f} at p50 ({worst50['page']}), "
        f"{worst95['ratio_p95']:.2f} at p95 ({worst95['page']})."
    )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    requests = int(os.environ.get("BENCH_REQUESTS", 40))
    warmup = 5
    large_database = connections["default"]
    url = dj_database_url.parse(os.environ["BENCH_LOG_SMALL_DATABASE_URL"])
    where = {key: url[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    small_database = type(large_database)({**large_database.settings_dict, **where}, "default")
    if "--explain" in sys.argv:
        print(explain(open_dataset(large_database)))
        return
    small, large = open_dataset(small_database), open_dataset(large_database)
    print(f"{small.events:,} and {large.events:,} events, side by side:", flush=True)
    gauge = time_side_by_side(small, large, requests, warmup)
    counts = [queries_of(small), queries_of(large)]
    rows = []
    for index, (a, b) in enumerate(zip(small.probes, large.probes, strict=True)):
        one, other = summary(a.samples), summary(b.samples)
        rows.append(
            {
                "page": a.label,
                "small": one,
                "large": other,
                "ratio_p50": other["p50"] / one["p50"],
                "ratio_p95": other["p95"] / one["p95"],
                "shown": [a.shown, b.shown],
                "queries": [counts[0][index], counts[1][index]],
            }
        )
    print("The audit write on a case page:", flush=True)
    audit = [audit_cost(small, requests, warmup), audit_cost(large, requests, warmup)]
    data = {
        "events": [small.events, large.events],
        "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "requests": requests,
        "warmup": warmup,
        "gauge": gauge,
        "rows": rows,
        "audit": audit,
        "reviewer": Role.LOG_REVIEWER.value,
    }
    env.RESULTS.mkdir(exist_ok=True)
    (env.RESULTS / "log.json").write_text(json.dumps(data, indent=2))
    text = report(data)
    (env.RESULTS / "log.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()

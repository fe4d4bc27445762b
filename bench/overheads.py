"""What the permission filter and the audit write cost, and what the log search by case gains
by joining through lookups: each timed against the same work without it, the two arms
alternately."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest import mock

from django.db.models import Max
from django.urls import reverse

from avhopp.database import planned_for_values
from avhopp.models import AuditEvent, User
from bench.dataset import Actors
from bench.pages import client_for, queryset_lists
from bench.timing import summary, time_in_rounds
from cases import selectors
from cases.models import Case
from cases.selectors import CaseFilters, case_page
from cases.views import PAGE_SIZE


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


@contextmanager
def _floor() -> Iterator[None]:
    """Every case visible: the permission filter and the grant index swapped for all cases
    and their primary key."""
    with (
        mock.patch.object(selectors, "cases_visible_to", lambda _user: Case.objects.all()),
        mock.patch.object(
            selectors,
            "visible_case_ids",
            lambda _user: Case.objects.order_by("-pk").values_list("pk", flat=True),
        ),
    ):
        yield


def bench_floor(actors: Actors, requests: int, warmup: int) -> list[dict[str, Any]]:
    rows = []
    for page in queryset_lists(actors):
        filters, number = page.listing  # type: ignore[misc]
        filtered, floor = queryset_pair(page.user, filters, number, requests, warmup)
        row = {
            "row": page.label,
            "user": page.role,
            "filtered": filtered,
            "floor": floor,
            "ratio_p95": filtered["p95"] / floor["p95"],
        }
        rows.append(row)
        print(
            f"  {page.role:<15} {page.label:<38} filtered p95 {filtered['p95']:6.1f} ms, "
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
    noop = mock.patch("cases.checkpoint.audit_record_all", lambda events: None)
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


def bench_joins(actors: Actors, requests: int, warmup: int) -> dict[str, Any]:
    """The log reviewer's search by case and "who has read this case", each with its page read
    under joined_by_lookup and as PostgreSQL plans it unaided, in rounds (bench.timing)."""
    client = client_for(actors.reviewer)
    case = actors.logged_case
    pages = [
        ("log search, one case's events", reverse("audit:search"), {"case": case.reference}),
        ("who has read this case", reverse("audit:case_readers", args=[case.pk]), {}),
    ]
    sides = {
        "aided": nullcontext,
        "unaided": lambda: mock.patch("cases.audit_views.joined_by_lookup", nullcontext),
    }

    def measure(side: str, page: int) -> float:
        _label, url, params = pages[page]
        with sides[side]():
            started = time.perf_counter()
            client.get(url, params)
            return time.perf_counter() - started

    samples, gauge = time_in_rounds(list(sides), len(pages), requests, warmup, measure)
    rows = []
    for page, (label, _url, _params) in enumerate(pages):
        aided, plain = summary(samples[0][page]), summary(samples[1][page])
        rows.append(
            {
                "page": label,
                "aided": aided,
                "unaided": plain,
                "ratio_p50": aided["p50"] / plain["p50"],
                "ratio_p95": aided["p95"] / plain["p95"],
            }
        )
    return {"rows": rows, "gauge": gauge}

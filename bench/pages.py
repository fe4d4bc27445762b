"""The pages the benchmark times, each as the reader who opens it.

`page_set` is the one list of pages: `make bench` and `make bench-growth` request them in
process through `Probe`s, `make bench-compare` sends them (`Page.spec`) to a worker process in
each checkout. A page is named by its URL name, so each checkout requests its own URL for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from avhopp.database import planned_for_values
from avhopp.models import User
from bench.dataset import Actors
from bench.report import fmt
from bench.timing import summary, time_in_rounds
from cases.identity import format_identity_number
from cases.models import Case
from cases.selectors import CaseFilters, case_page
from cases.views import PAGE_SIZE
from tests.support import verify_second_factor

DEEP_PAGE = 40  # offset 975; clamped to the last page for smaller lists

# The case list's rows: label, the query string, and the filters and page number it reads.
LIST_ROWS: list[tuple[str, Callable[[Actors], tuple[dict[str, str], CaseFilters, int]]]] = [
    ("list, first page", lambda a: ({}, CaseFilters(), 1)),
    (
        f"list, deep page (page {DEEP_PAGE})",
        lambda a: ({"page": str(DEEP_PAGE)}, CaseFilters(), DEEP_PAGE),
    ),
    (
        "list, filters (open, threat high)",
        lambda a: (
            {"status": "open", "threat_level": "high"},
            CaseFilters(status="open", threat_level="high"),
            1,
        ),
    ),
    ("list, name search", lambda a: ({"q": a.name}, CaseFilters(query=a.name), 1)),
    ("list, identity-number search", lambda a: _number_search(a)),
]


def _number_search(actors: Actors) -> tuple[dict[str, str], CaseFilters, int]:
    number = format_identity_number(actors.number_case.individual.personnummer)
    return {"q": number}, CaseFilters(query=number), 1


@dataclass
class Page:
    """One page as one reader: a URL name and its arguments, the query string, and the
    requests made once before it is timed (kept in the reader's session)."""

    role: str
    label: str
    user: User
    url: str
    args: tuple[int, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    posts: tuple[tuple[str, tuple[int, ...], dict[str, str]], ...] = ()
    listing: tuple[CaseFilters, int] | None = None  # a case list: its filters and page number

    def spec(self) -> dict[str, Any]:
        """As JSON for a worker process: the reader by primary key."""
        return {
            "role": self.role,
            "label": self.label,
            "user": self.user.pk,
            "url": self.url,
            "args": list(self.args),
            "params": self.params,
            "posts": [[name, list(args), data] for name, args, data in self.posts],
        }


def _size(case: Case) -> str:
    return (
        f"{case.interventions.count()} interventions, {case.journal_entries.count()} notes, "
        f"{case.threat_assessments.count()} threat assessments"
    )


def page_set(actors: Actors) -> list[Page]:
    """Every page the benchmark times, in the order it times them."""
    pages: list[Page] = []
    readers = [
        ("social worker", actors.worker, actors.worker_case),
        ("coordinator", actors.coordinator, actors.coordinator_case),
        ("police officer", actors.officer, actors.officer_case),
    ]
    for role, user, detail_case in readers:
        for label, read in LIST_ROWS:
            params, filters, number = read(actors)
            pages.append(
                Page(role, label, user, "cases:list", params=params, listing=(filters, number))
            )
        # Owning-agency staff who are not responsible give a reason first (kept in session).
        posts: tuple[tuple[str, tuple[int, ...], dict[str, str]], ...] = ()
        if detail_case.responsible_id != user.pk and detail_case.owning_agency_id == (
            user.agency_id
        ):
            posts = (("cases:outside_reason", (detail_case.pk,), {"reason": "supervision"}),)
        label = f"detail (largest case, {_size(detail_case)})"
        pages.append(Page(role, label, user, "cases:detail", (detail_case.pk,), posts=posts))
    journal_case = actors.worker_case
    typical = actors.typical_officer_case
    pages += [
        Page(
            "social worker",
            f"whole journal, first page ({journal_case.journal_entries.count()} notes)",
            actors.worker,
            "cases:journal",
            (journal_case.pk,),
        ),
        Page(
            "police officer",
            f"detail (typical case, {_size(typical)})",
            actors.officer,
            "cases:detail",
            (typical.pk,),
        ),
        Page("social worker", "start page", actors.worker, "home"),
        Page("coordinator", "referral overview", actors.coordinator, "referrals:dashboard"),
        Page(
            "coordinator", "statistics, own municipality", actors.coordinator, "followup:statistics"
        ),
        Page(
            "national coordinator",
            "statistics, the whole country",
            actors.national,
            "followup:statistics",
        ),
        Page(
            "log reviewer",
            "log search, one case's events",
            actors.reviewer,
            "audit:search",
            params={"case": actors.logged_case.reference},
        ),
    ]
    return pages


def queryset_lists(actors: Actors) -> list[Page]:
    """The case lists whose querysets are also timed alone: the social worker's and the
    police officer's."""
    readers = {actors.worker.pk, actors.officer.pk}
    return [page for page in page_set(actors) if page.listing and page.user.pk in readers]


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


@dataclass
class Probe:
    """One page as one reader, through Django's test Client in this process."""

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


def page_probes(actors: Actors) -> list[Probe]:
    """The page set as probes, one signed-in client per reader."""
    clients: dict[int, Client] = {}
    probes = []
    for page in page_set(actors):
        if page.user.pk not in clients:
            clients[page.user.pk] = client_for(page.user)
        client = clients[page.user.pk]
        for name, args, data in page.posts:
            client.post(reverse(name, args=args), data)
        listed = shown = None
        if page.listing:
            filters, number = page.listing
            with planned_for_values():
                read = case_page(page.user, filters, str(number), size=PAGE_SIZE)
            listed, shown = read.paginator.count, len(read.object_list)
        url = reverse(page.url, args=page.args)
        probes.append(Probe(page.role, page.label, client, url, page.params, listed, shown))
    return probes


def bench_pages(actors: Actors, requests: int, warmup: int) -> tuple[list[dict[str, Any]], dict]:
    """The pages' rows, and the machine gauge's summary over the same rounds."""
    probes = page_probes(actors)
    samples, gauge = time_in_rounds(
        [probes], len(probes), requests, warmup, lambda side, index: side[index].get()
    )
    rows = []
    for probe, timed in zip(probes, samples[0], strict=True):
        probe.samples = timed
        rows.append(probe.result())
        print(f"  {probe.role:<15} {probe.label:<38} {fmt(rows[-1])}", flush=True)
    print(
        f"  machine gauge: min {gauge['min']:.2f} ms  p50 {gauge['p50']:.2f} ms  "
        f"p95 {gauge['p95']:.2f} ms",
        flush=True,
    )
    return rows, gauge

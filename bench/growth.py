"""Growth, side by side: `make bench-growth`.

The same pages, as the same kind of reader, at N = 10,000 and at N = 100,000, timed in one
process: each page is requested from one dataset and then from the other, the order swapped
every round, so both meet the same fast and slow seconds of a machine whose speed swings about
2 x. `make bench` at each N gives the ratio of two runs minutes apart, which moved 1.2 x from
one pair of runs to the next with no change in the code.

Needs both datasets (`make bench` and `make bench BENCH_CASES=100000`): DATABASE_URL is the
larger, BENCH_SMALL_DATABASE_URL the smaller. The pages are `bench/pages.py`'s; the list's
permission-filtered queryset (count and page) is timed the same way. Writes
bench-results/growth.md and bench-results/growth.json.
"""

# ruff: noqa: E402 (the app is imported after Django is set up)
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env

env.setup()

# isort: split
import dj_database_url
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from avhopp.database import planned_for_values
from bench.dataset import Actors
from bench.pages import page_probes, queryset_lists
from bench.report import machine
from bench.timing import summary, time_in_rounds
from cases.models import Case
from cases.selectors import case_page
from cases.views import PAGE_SIZE


@dataclass
class QuerysetProbe:
    """The list's permission-filtered queryset alone: count and page, as the list reads them."""

    role: str
    label: str
    read: Callable[[], Any]
    shown: int
    samples: list[float] = field(default_factory=list)

    def get(self) -> float:
        started = time.perf_counter()
        with planned_for_values():
            self.read()
        return time.perf_counter() - started


@dataclass
class Dataset:
    database: BaseDatabaseWrapper
    cases: int = 0
    probes: list[Any] = field(default_factory=list)

    def use(self) -> None:
        # Swapping the connection keeps each dataset's own, with its prepared statements.
        connections["default"] = self.database


def open_dataset(database: BaseDatabaseWrapper) -> Dataset:
    dataset = Dataset(database)
    dataset.use()
    dataset.cases = Case.objects.count()
    actors = Actors()
    dataset.probes = page_probes(actors)
    for page in queryset_lists(actors):
        filters, number = page.listing  # type: ignore[misc]

        def read(user: Any = page.user, filters: Any = filters, number: int = number) -> Any:
            return case_page(user, filters, str(number), size=PAGE_SIZE)

        with planned_for_values():
            shown = len(read().object_list)
        dataset.probes.append(QuerysetProbe(page.role, f"{page.label}, queryset", read, shown))
    return dataset


def same_ids(small: Dataset, large: Dataset) -> bool:
    """Content type and permission ids are cached for the process (Django's content type
    cache, the selectors' permission id): both datasets must number them alike."""

    def ids() -> tuple[list[Any], list[Any]]:
        return (
            list(ContentType.objects.order_by("pk").values_list("pk", "app_label", "model")),
            list(Permission.objects.order_by("pk").values_list("pk", "codename")),
        )

    small.use()
    first = ids()
    large.use()
    return ids() == first


def time_side_by_side(small: Dataset, large: Dataset, requests: int, warmup: int) -> dict:
    def measure(dataset: Dataset, index: int) -> float:
        dataset.use()
        return dataset.probes[index].get()

    samples, gauge = time_in_rounds([small, large], len(small.probes), requests, warmup, measure)
    for dataset, timed in zip((small, large), samples, strict=True):
        for probe, values in zip(dataset.probes, timed, strict=True):
            probe.samples = values
    return gauge


def rows_of(small: Dataset, large: Dataset) -> list[dict[str, Any]]:
    rows = []
    for a, b in zip(small.probes, large.probes, strict=True):
        assert a.role == b.role and a.label.split(" (")[0] == b.label.split(" (")[0]
        one, other = summary(a.samples), summary(b.samples)
        rows.append(
            {
                "page": b.label,
                "small_page": a.label,
                "user": b.role,
                "small": one,
                "large": other,
                "ratio_p95": other["p95"] / one["p95"],
                "ratio_p50": other["p50"] / one["p50"],
                "shown": [a.shown, b.shown],
            }
        )
    return rows


def report(data: dict[str, Any]) -> str:
    small, large = f"{data['cases'][0]:,}", f"{data['cases'][1]:,}"
    gauge = data["gauge"]
    lines = [
        f"# Avhopp growth, N = {large} against N = {small}, side by side",
        "",
        f"{data['when']} · {data['machine']}",
        "",
        f"{data['requests']} rounds after {data['warmup']} warm-up; in each, every page is "
        "requested once from each dataset, one right after the other, the order swapped every "
        "round. Whole request through Django's test Client, in ms; the queryset rows time the "
        "list's permission-filtered count and page alone.",
        "",
        f"Machine gauge in the same rounds: {gauge['min']:.2f} ms at the fastest, "
        f"{gauge['p50']:.2f} at p50, {gauge['p95']:.2f} at p95.",
        "",
        "Rows on the page are given where they differ: such a row compares unlike work (a name "
        "search with fewer matches, a deep page past the end, which shows the last page, the "
        "journal's first page with fewer notes).",
        "",
        f"| page | reader | p50 at {small} | p95 at {small} | p50 at {large} | p95 at {large} "
        "| ratio p50 | ratio p95 | rows on the page |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["rows"]:
        shown = row["shown"]
        unlike = f"{shown[0]} / {shown[1]}" if shown[0] != shown[1] else ""
        lines.append(
            f"| {row['page']} | {row['user']} | {row['small']['p50']:.1f} | "
            f"{row['small']['p95']:.1f} | {row['large']['p50']:.1f} | {row['large']['p95']:.1f} "
            f"| {row['ratio_p50']:.2f} | {row['ratio_p95']:.2f} | {unlike} |"
        )
    lines.append("")
    for kind, rows in (
        ("page", [r for r in data["rows"] if not r["page"].endswith(", queryset")]),
        ("queryset", [r for r in data["rows"] if r["page"].endswith(", queryset")]),
    ):
        like = [row for row in rows if _like(row)]
        p95 = max(like, key=lambda row: row["ratio_p95"])
        p50 = max(like, key=lambda row: row["ratio_p50"])
        lines.append(
            f"Worst growth of a {kind} where the work is alike: {p95['ratio_p95']:.2f} at p95 "
            f"({p95['page']}, {p95['user']}), {p50['ratio_p50']:.2f} at p50 ({p50['page']}, "
            f"{p50['user']})."
        )
    lines.append("")
    return "\n".join(lines)


def _like(row: dict[str, Any]) -> bool:
    """A page that shows the same rows at both sizes (within two), or a case page, which shows
    at most the newest ten of each part."""
    shown = row["shown"]
    if row["page"].startswith("whole journal"):
        return False
    return None in shown or abs(shown[0] - shown[1]) <= 2


def main() -> None:
    requests = int(os.environ.get("BENCH_REQUESTS", 100))
    warmup = 10
    large_database = connections["default"]
    url = dj_database_url.parse(os.environ["BENCH_SMALL_DATABASE_URL"])
    where = {key: url[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    small_database = type(large_database)({**large_database.settings_dict, **where}, "default")
    small, large = open_dataset(small_database), open_dataset(large_database)
    if not same_ids(small, large):
        sys.exit("The two datasets number content types or permissions differently.")
    print(f"N = {small.cases:,} and N = {large.cases:,}, side by side:", flush=True)
    gauge = time_side_by_side(small, large, requests, warmup)
    data = {
        "cases": [small.cases, large.cases],
        "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "requests": requests,
        "warmup": warmup,
        "gauge": gauge,
        "rows": rows_of(small, large),
    }
    env.RESULTS.mkdir(exist_ok=True)
    (env.RESULTS / "growth.json").write_text(json.dumps(data, indent=2))
    text = report(data)
    (env.RESULTS / "growth.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()

"""The benchmark's report: the machine, the Markdown tables of `make bench`, and the growth
ratios between the result files of two sizes."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from django.db import connection

from bench.env import RESULTS
from bench.timing import GAUGE_LOOP


def fmt(result: dict[str, Any]) -> str:
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
        "(the unfiltered list paged and counted on the primary key), timed alternately.",
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
    if "joins" in data:
        lines += [
            "",
            "| log reviewer's page (largest municipality's logged case) | joined by lookup p50 | "
            "as planned p50 | ratio p50 | joined by lookup p95 | as planned p95 | ratio p95 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in data["joins"]["rows"]:
            aided, plain = row["aided"], row["unaided"]
            lines.append(
                f"| {row['page']} | {aided['p50']:.1f} | {plain['p50']:.1f} | "
                f"{row['ratio_p50']:.2f} | {aided['p95']:.1f} | {plain['p95']:.1f} | "
                f"{row['ratio_p95']:.2f} |"
            )
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

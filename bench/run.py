"""Avhopp benchmark: `make bench` (BENCH_CASES=10000 by default).

Runs in-process against PostgreSQL with a `seed_scale` dataset (seeded first when the
database holds a different N), through Django's test Client on the real URLs:

- the pages of `bench/pages.py` (case lists, case pages, the journal, the start page, the
  referral overview, the log search), each as the reader who opens it: p50/p95 server time
  (time around client.get) and the query count of one request, timed in rounds beside the
  machine gauge (`bench/timing.py`);
- the list without the permission filter (the floor), the case page without the audit
  write, and the log reviewer's pages for one case read as PostgreSQL plans them unaided
  instead of joined by lookups, each timed alternately with the real one
  (`bench/overheads.py`);
- referral PDF: `referral_render` end to end against a bare WeasyPrint render of the same HTML,
  and submit-to-ready through a real Celery worker over Redis (`bench/pdf.py`).

Results: a Markdown table on stdout, in bench-results/latest.md and bench-results/bench-<N>.json;
when results for both 10,000 and 100,000 exist the growth ratios are added.
"""

# ruff: noqa: E402 (the app is imported after Django is set up)
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env

env.setup()

# isort: split
from django.db import connection
from django.utils import timezone

from bench.dataset import Actors, ensure_dataset
from bench.overheads import bench_audit, bench_floor, bench_joins
from bench.pages import bench_pages
from bench.pdf import bench_pdf, bench_worker, drop_bench_referrals
from bench.report import machine, report


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
    print(f"N = {args.cases:,}; {actors.described()}", flush=True)
    drop_bench_referrals()  # left by an earlier run
    print("Pages:", flush=True)
    pages, gauge = bench_pages(actors, args.requests, args.warmup)
    print("Permission filter vs floor:", flush=True)
    floor = bench_floor(actors, args.requests, args.warmup)
    print("Audit write:", flush=True)
    audit = bench_audit(actors, args.requests, args.warmup)
    print("Log search joined by lookups:", flush=True)
    joins = bench_joins(actors, args.requests, args.warmup)
    print("Referral PDF:", flush=True)
    pdf = bench_pdf(actors, args.pdf_runs)
    print("Submit-to-ready (Celery worker):", flush=True)
    worker = bench_worker(actors, args.worker_runs)
    drop_bench_referrals()
    data = {
        "cases": args.cases,
        "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "actors": actors.described(),
        "requests": args.requests,
        "warmup": args.warmup,
        "seed_seconds": seeded,
        "pages": pages,
        "gauge": gauge,
        "floor": floor,
        "audit": audit,
        "joins": joins,
        "pdf": pdf,
        "worker": worker,
    }
    env.RESULTS.mkdir(exist_ok=True)
    (env.RESULTS / f"bench-{args.cases}.json").write_text(json.dumps(data, indent=2))
    text = report(data)
    (env.RESULTS / "latest.md").write_text(text)
    (env.RESULTS / f"bench-{args.cases}.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()

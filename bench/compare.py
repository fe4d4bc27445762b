"""HEAD against another revision, side by side: `make bench-compare REV=<commit>`.

The pages of `bench/pages.py`, timed for two checkouts against the same dataset: REV checked
out with `git worktree add --detach` (removed afterwards), HEAD the working tree. One dataset is
seeded with REV's code and migrations (`manage.py seed_scale --cases N`) into a database named
after REV and N, and copied (`CREATE DATABASE ... TEMPLATE`) for HEAD, whose `manage.py
migrate` then brings the copy to HEAD's schema; the pair is reused by later runs for the same
REV and N. Each checkout runs in its own Python process (`bench/compare_worker.py`, the same
venv) that answers "time page i" over a pipe; this process alternates request by request, page
i on one side and then on the other, who goes first swapped every round, with the machine gauge
timed once per round. Prints the table and writes bench-results/compare.md and compare.json.

Environment: BENCH_CASES (10000), BENCH_REQUESTS (100), BENCH_DATABASE_URL (its server holds
the compared databases).
"""

# ruff: noqa: E402, S603, S607 (bench/ once ROOT is on sys.path; git, manage.py: fixed arguments)
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import summary, time_in_rounds

WORKER = Path(__file__).resolve().parent / "compare_worker.py"
DEFAULT_DATABASE = "postgres://avhopp@127.0.0.1:54329/avhopp_bench"


# --- The table (pure) ------------------------------------------------------------------------


def database_names(rev: str, cases: int) -> tuple[str, str]:
    """REV's seeded database and HEAD's copy of it, named after the short REV and N."""
    return f"avhopp_cmp_{rev}_{cases}", f"avhopp_cmp_{rev}_{cases}_head"


def ratio_rows(rev: dict[str, Any], head: dict[str, Any]) -> list[dict[str, Any]]:
    """One row a page timed on both sides, in REV's order: both sides' figures and HEAD ÷ REV.

    Each side is {"pages": [{"page", "user", "p50", "p95", "queries"}, ...]}."""
    theirs = {(row["page"], row["user"]): row for row in head["pages"]}
    rows = []
    for ours in rev["pages"]:
        other = theirs.get((ours["page"], ours["user"]))
        if other is None:
            continue
        rows.append(
            {
                "page": ours["page"],
                "user": ours["user"],
                "rev": ours,
                "head": other,
                "ratio_p50": other["p50"] / ours["p50"],
                "ratio_p95": other["p95"] / ours["p95"],
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| page | reader | p50 REV | p50 HEAD | p50 ratio | p95 REV | p95 HEAD | p95 ratio "
        "| queries REV | queries HEAD |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rev, head = row["rev"], row["head"]
        lines.append(
            f"| {row['page']} | {row['user']} | {rev['p50']:.1f} | {head['p50']:.1f} | "
            f"{row['ratio_p50']:.2f} | {rev['p95']:.1f} | {head['p95']:.1f} | "
            f"{row['ratio_p95']:.2f} | {rev['queries']} | {head['queries']} |"
        )
    return lines


def report(data: dict[str, Any]) -> str:
    rev, head, gauge = data["rev"], data["head"], data["gauge"]
    migrations = data["migrations"]
    lines = [
        f"# Avhopp, HEAD against {rev['ref']}, side by side, N = {data['cases']:,} cases",
        "",
        f"{data['when']} · {data['machine']}",
        "",
        f"REV: `{rev['ref']}` = {rev['commit']} ({rev['subject']}). HEAD: {head['commit']} "
        f"({head['subject']}){' with uncommitted changes' if head['dirty'] else ''}.",
        "",
        f"One dataset seeded by REV's `seed_scale` (`{data['databases'][0]}`), copied for HEAD "
        f"(`{data['databases'][1]}`) and migrated by HEAD's `migrate` "
        f"({migrations['applied'] or 'nothing to apply in this run'}). Migrations HEAD has "
        f"and REV does not: {migrations['added'] or 'none'}; REV has and HEAD does not: "
        f"{migrations['removed'] or 'none'}; changed: {migrations['changed'] or 'none'}.",
        "",
        f"{data['requests']} rounds after {data['warmup']} warm-up; in each, every page is "
        "requested once on each side, one right after the other, who goes first swapped every "
        "round. Each checkout runs in its own process; server time = time around Django's "
        "test Client `get` there, in ms. Ratio = HEAD ÷ REV (below 1: HEAD is faster).",
        "",
        f"Machine gauge in the same rounds: {gauge['min']:.2f} ms at the fastest, "
        f"{gauge['p50']:.2f} at p50, {gauge['p95']:.2f} at p95.",
        "",
        *table(data["rows"]),
        "",
    ]
    for skipped in data["skipped"]:
        lines.append(f"Not timed: {skipped['page']} ({skipped['user']}): {skipped['why']}.")
    return "\n".join(lines) + "\n"


# --- The two sides ---------------------------------------------------------------------------


@dataclass
class Side:
    """One checkout's worker process, asked over its pipe."""

    name: str
    checkout: Path
    database: str
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        environment = {**os.environ, "DATABASE_URL": self.database}
        environment.pop("PYTHONPATH", None)
        environment["AVHOPP_DOCUMENT_ROOT"] = tempfile.mkdtemp(prefix="avhopp-compare-docs-")
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            cwd=self.checkout,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process is not None
        pipe_in: IO[str] = self.process.stdin  # type: ignore[assignment]
        pipe_out: IO[str] = self.process.stdout  # type: ignore[assignment]
        pipe_in.write(json.dumps(request) + "\n")
        pipe_in.flush()
        line = pipe_out.readline()
        if not line:
            raise RuntimeError(f"{self.name}'s worker ended (exit {self.process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name}: {answer['error']}")
        return answer

    def measure(self, index: int) -> float:
        return self.ask(op="time", page=index)["seconds"]

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                self.process.stdin.write('{"op": "quit"}\n')  # type: ignore[union-attr]
                self.process.stdin.close()  # type: ignore[union-attr]
            self.process.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


# --- Checkout and databases ------------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def checkout_of(commit: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="avhopp-compare-"))
    path = folder / "rev"
    git("worktree", "add", "--detach", str(path), commit)
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", str(path))
        shutil.rmtree(folder, ignore_errors=True)


def manage(checkout: Path, database: str, *args: str) -> str:
    """`manage.py` of a checkout against a database, in the same venv; its output."""
    environment = {**os.environ, "DATABASE_URL": database}
    environment.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=checkout,
        env=environment,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"manage.py {' '.join(args)} failed in {checkout}")
    return done.stdout


class Server:
    """The PostgreSQL server that holds the compared databases."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def execute(self, statement: str, *params: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as connection:
            cursor = connection.execute(statement, params or None)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def exists(self, name: str) -> bool:
        return bool(self.execute("SELECT 1 FROM pg_database WHERE datname = %s", name))

    def run(self, template: str, *names: str) -> None:
        """A statement with database names, quoted as identifiers."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL(template).format(*(sql.Identifier(name) for name in names))
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as connection:
            connection.execute(statement)


def prepare_databases(
    server: Server, rev_checkout: Path, short: str, cases: int
) -> tuple[str, str, str]:
    """REV's seeded database and HEAD's migrated copy (made when missing); their URLs and what
    HEAD's migrate applied."""
    rev_name, head_name = database_names(short, cases)
    if not server.exists(rev_name):
        seeding = f"{rev_name}_seeding"  # renamed when complete: an interrupted seed is redone
        server.run("DROP DATABASE IF EXISTS {}", seeding)
        server.run("CREATE DATABASE {}", seeding)
        print(f"Seeding {cases:,} cases with REV's code into {rev_name}...", flush=True)
        manage(rev_checkout, f"{server.url}/{seeding}", "migrate", "--noinput", "-v", "0")
        manage(rev_checkout, f"{server.url}/{seeding}", "seed_scale", "--cases", str(cases))
        server.run("ALTER DATABASE {} RENAME TO {}", seeding, rev_name)
        server.run("DROP DATABASE IF EXISTS {}", head_name)  # a copy of an older seed
    if not server.exists(head_name):
        print(f"Copying {rev_name} to {head_name} for HEAD...", flush=True)
        server.run("CREATE DATABASE {} TEMPLATE {}", head_name, rev_name)
    head_url = f"{server.url}/{head_name}"
    output = manage(ROOT, head_url, "migrate", "--noinput")
    applied = ", ".join(
        line.split()[1].removesuffix("...")
        for line in output.splitlines()
        if line.strip().startswith("Applying ")
    )
    return f"{server.url}/{rev_name}", head_url, applied


def migration_changes(commit: str) -> dict[str, str]:
    """The migration files HEAD's working tree adds, removes and changes against REV."""
    lines = git("diff", "--name-status", commit, "--", "*/migrations/0*.py").splitlines()
    by_status: dict[str, list[str]] = {"A": [], "D": [], "M": []}
    for line in lines:
        status, path = line.split("\t", 1)
        by_status.setdefault(status[0], []).append(f"`{path}`")
    return {
        "added": ", ".join(by_status["A"]),
        "removed": ", ".join(by_status["D"]),
        "changed": ", ".join(by_status["M"]),
    }


# --- The run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the revision to compare HEAD against")
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", 10_000)))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 100)))
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    server = Server(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE).rsplit("/", 1)[0])
    commit = git("rev-parse", "--verify", f"{args.rev}^{{commit}}")
    short = git("rev-parse", "--short", commit)
    head = {  # as the HEAD side starts: the working tree, with what is not committed yet
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }
    with checkout_of(commit) as rev_checkout:
        rev_url, head_url, applied = prepare_databases(server, rev_checkout, short, args.cases)
        # Translations compiled in both checkouts, as `make install` compiles HEAD's.
        manage(rev_checkout, rev_url, "compilemessages", "-v", "0")
        data = compare(args, rev_checkout, rev_url, head_url)
    data["rev"] = {
        "ref": args.rev,
        "commit": short,
        "subject": git("log", "-1", "--format=%s", commit),
    }
    data["head"] = head
    data["migrations"] = {"applied": applied, **migration_changes(commit)}
    data["databases"] = [rev_url.rsplit("/", 1)[1], head_url.rsplit("/", 1)[1]]
    from bench.env import RESULTS

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.json").write_text(json.dumps(data, indent=2))
    text = report(data)
    (RESULTS / "compare.md").write_text(text)
    print()
    print(text)


def compare(args: argparse.Namespace, rev_checkout: Path, rev_url: str, head_url: str) -> dict:
    """The pages chosen on HEAD's copy, timed on both sides."""
    os.environ["DATABASE_URL"] = head_url
    from bench import env

    env.setup()
    from django.db import connection
    from django.utils import timezone

    from bench.dataset import Actors
    from bench.pages import page_set
    from bench.report import machine

    pages = page_set(Actors())
    described = machine()
    connection.close()
    sides = [Side("REV", rev_checkout, rev_url), Side("HEAD", ROOT, head_url)]
    try:
        for side in sides:
            side.start()
        errors = [
            side.ask(op="open", pages=[page.spec() for page in pages])["pages"] for side in sides
        ]
        timed = [index for index in range(len(pages)) if not (errors[0][index] or errors[1][index])]
        skipped = [
            {
                "page": pages[index].label,
                "user": pages[index].role,
                "why": "; ".join(
                    f"{side.name}: {error[index]}"
                    for side, error in zip(sides, errors, strict=True)
                    if error[index]
                ),
            }
            for index in range(len(pages))
            if index not in timed
        ]
        print(f"{len(timed)} pages, REV and HEAD in turn:", flush=True)
        samples, gauge = time_in_rounds(
            sides, len(timed), args.requests, args.warmup, lambda side, i: side.measure(timed[i])
        )
        results = []
        for side, per_page in zip(sides, samples, strict=True):
            results.append(
                {
                    "pages": [
                        {
                            "page": pages[index].label,
                            "user": pages[index].role,
                            **summary(values),
                            "queries": side.ask(op="queries", page=index)["queries"],
                        }
                        for index, values in zip(timed, per_page, strict=True)
                    ]
                }
            )
    finally:
        for side in sides:
            side.stop()
    return {
        "cases": args.cases,
        "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "machine": described,
        "requests": args.requests,
        "warmup": args.warmup,
        "gauge": gauge,
        "sides": results,
        "rows": ratio_rows(results[0], results[1]),
        "skipped": skipped,
    }


if __name__ == "__main__":
    main()

"""The pure parts of `make bench-compare`: the alternation of the sides and the ratio table."""

from __future__ import annotations

import pytest

from bench.compare import database_names, ratio_rows, report, table
from bench.timing import in_turn, summary, time_in_rounds


def side(*pages: tuple[str, str, float, float, int]) -> dict:
    return {
        "pages": [
            {"page": page, "user": user, "p50": p50, "p95": p95, "n": 20, "queries": queries}
            for page, user, p50, p95, queries in pages
        ]
    }


def test_sides_swap_who_goes_first_every_round() -> None:
    assert in_turn(0, ["REV", "HEAD"]) == ["REV", "HEAD"]
    assert in_turn(1, ["REV", "HEAD"]) == ["HEAD", "REV"]
    assert in_turn(2, ["REV", "HEAD"]) == ["REV", "HEAD"]
    assert in_turn(7, ["only"]) == ["only"]


def test_rounds_alternate_request_by_request_and_drop_the_warm_up() -> None:
    calls: list[tuple[str, int]] = []
    clock = iter(range(1, 1000))

    def measure(name: str, page: int) -> float:
        calls.append((name, page))
        return next(clock) / 1000

    samples, gauge = time_in_rounds(["REV", "HEAD"], 2, requests=2, warmup=1, measure=measure)

    straight = [("REV", 0), ("HEAD", 0), ("REV", 1), ("HEAD", 1)]
    swapped = [("HEAD", 0), ("REV", 0), ("HEAD", 1), ("REV", 1)]
    assert calls == straight + swapped + straight  # the first round is the warm-up
    # samples[side][page], in seconds, the warm-up round left out
    assert samples == [[[0.006, 0.009], [0.008, 0.011]], [[0.005, 0.010], [0.007, 0.012]]]
    assert gauge["n"] == 2 and 0 < gauge["min"] <= gauge["p50"] <= gauge["p95"]


def test_summary_in_ms() -> None:
    timed = summary([i / 1000 for i in range(1, 101)])
    assert timed["p50"] == pytest.approx(50.5)
    assert timed["p95"] == pytest.approx(95.05)
    assert timed["n"] == 100


def test_ratio_rows_are_head_over_rev_in_revs_order() -> None:
    rev = side(("list", "police officer", 40.0, 50.0, 7), ("detail", "coordinator", 30.0, 60.0, 12))
    head = side(
        ("detail", "coordinator", 15.0, 66.0, 11), ("list", "police officer", 50.0, 45.0, 7)
    )

    rows = ratio_rows(rev, head)

    assert [(row["page"], row["user"]) for row in rows] == [
        ("list", "police officer"),
        ("detail", "coordinator"),
    ]
    assert rows[0]["ratio_p50"] == pytest.approx(1.25)
    assert rows[0]["ratio_p95"] == pytest.approx(0.9)
    assert rows[1]["ratio_p50"] == pytest.approx(0.5)
    assert rows[1]["ratio_p95"] == pytest.approx(1.1)
    assert (rows[1]["rev"]["queries"], rows[1]["head"]["queries"]) == (12, 11)


def test_a_page_timed_on_one_side_only_has_no_row() -> None:
    rev = side(("list", "social worker", 40.0, 50.0, 7), ("journal", "social worker", 9, 9, 7))
    head = side(("list", "social worker", 40.0, 50.0, 7))
    assert [row["page"] for row in ratio_rows(rev, head)] == ["list"]


def test_table_columns() -> None:
    rows = ratio_rows(
        side(("detail", "coordinator", 30.0, 60.0, 12)),
        side(("detail", "coordinator", 15.0, 66.0, 11)),
    )
    header, rule, line = table(rows)
    assert header.split("|")[1:-1] == [
        " page ",
        " reader ",
        " p50 REV ",
        " p50 HEAD ",
        " p50 ratio ",
        " p95 REV ",
        " p95 HEAD ",
        " p95 ratio ",
        " queries REV ",
        " queries HEAD ",
    ]
    assert rule.count("|") == 11
    assert line == "| detail | coordinator | 30.0 | 15.0 | 0.50 | 60.0 | 66.0 | 1.10 | 12 | 11 |"


def test_report_names_both_sides_the_schema_and_what_was_not_timed() -> None:
    rev = side(("detail", "coordinator", 30.0, 60.0, 12))
    head = side(("detail", "coordinator", 15.0, 66.0, 11))
    data = {
        "cases": 10_000,
        "when": "2026-11-29 21:00 UTC",
        "machine": "2 cores",
        "requests": 20,
        "warmup": 10,
        "gauge": {"min": 0.9, "p50": 1.1, "p95": 1.8, "n": 20},
        "rows": ratio_rows(rev, head),
        "skipped": [{"page": "log search", "user": "log reviewer", "why": "REV: 404"}],
        "rev": {"ref": "HEAD~3", "commit": "3bcd59d", "subject": "Forms"},
        "head": {"commit": "cb6900d", "subject": "Bench", "dirty": False},
        "migrations": {
            "applied": "cases.0007_remove_agency_case_name",
            "added": "`cases/migrations/0007_remove_agency_case_name.py`",
            "removed": "",
            "changed": "",
        },
        "databases": database_names("3bcd59d", 10_000),
    }

    text = report(data)

    assert "HEAD against HEAD~3" in text
    assert "`avhopp_cmp_3bcd59d_10000`" in text and "`avhopp_cmp_3bcd59d_10000_head`" in text
    assert "(cases.0007_remove_agency_case_name)" in text
    assert "| detail | coordinator | 30.0 | 15.0 | 0.50 |" in text
    assert "Not timed: log search (log reviewer): REV: 404." in text


def test_databases_are_named_after_the_revision_and_n() -> None:
    assert database_names("3bcd59d", 100_000) == (
        "avhopp_cmp_3bcd59d_100000",
        "avhopp_cmp_3bcd59d_100000_head",
    )

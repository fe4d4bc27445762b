"""Disclosure control: an attacker who knows every shown count and every sum the tables
publish tries to work out hidden counts, by linear algebra and by bounds, and must fail."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.disclosure import THRESHOLD
from followup.tables import Table, nested, one_way, shares, two_way

Equation = list[tuple[int, tuple[int, int]]]  # (coefficient, (row, column)): sum == 0


def _equations(table: Table, shape: str) -> list[Equation]:
    """The sums any reader knows hold between the cells of a table of this shape."""
    rows = table.rows
    if shape == "one_way":
        return [[(1, (i, 0)) for i in range(len(rows) - 1)] + [(-1, (len(rows) - 1, 0))]]
    if shape == "two_way":
        width = len(table.columns)
        equations = [
            [(1, (i, j)) for j in range(width - 1)] + [(-1, (i, width - 1))]
            for i in range(len(rows))
        ]
        equations += [
            [(1, (i, j)) for i in range(len(rows) - 1)] + [(-1, (len(rows) - 1, j))]
            for j in range(width)
        ]
        return equations
    equations, grand, current = [], [(-1, (len(rows) - 1, 0))], None
    for i, row in enumerate(rows[:-1]):
        if row.kind == "subtotal":
            current = [(-1, (i, 0))]
            equations.append(current)
            grand.append((1, (i, 0)))
        else:
            current.append((1, (i, 0)))
    return [*equations, grand]


def _recovered(table: Table, truth: list[list[int]], shape: str) -> list[tuple[int, int]]:
    """Hidden cells the attacker pins to one value (after checking its reasoning is sound)."""
    hidden = [
        (i, j) for i, row in enumerate(table.rows) for j, c in enumerate(row.cells) if c is None
    ]
    if not hidden:
        return []
    index = {cell: n for n, cell in enumerate(hidden)}
    equations = _equations(table, shape)
    known = {
        (i, j): c
        for i, row in enumerate(table.rows)
        for j, c in enumerate(row.cells)
        if c is not None
    }
    matrix = np.zeros((len(equations), len(hidden)))
    for e, equation in enumerate(equations):
        for coefficient, cell in equation:
            if cell in index:
                matrix[e, index[cell]] += coefficient
    rank = np.linalg.matrix_rank(matrix)
    pinned = set()
    for cell, n in index.items():
        unit = np.zeros(len(hidden))
        unit[n] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            pinned.add(cell)
    # Bounds: every count is at least 0; each sum bounds each of its hidden terms.
    low = dict.fromkeys(hidden, 0.0)
    high = dict.fromkeys(hidden, math.inf)
    for _round in range(50):
        changed = False
        for equation in equations:
            constant = sum(c * known[cell] for c, cell in equation if cell in known)
            terms = [(c, cell) for c, cell in equation if cell in index]
            for c, cell in terms:
                rest = [(c2, other) for c2, other in terms if other != cell]
                # c*x = -constant - sum(rest): the range of the right side
                lo = -constant - sum(c2 * (high if c2 > 0 else low)[o] for c2, o in rest)
                hi = -constant - sum(c2 * (low if c2 > 0 else high)[o] for c2, o in rest)
                lo, hi = (lo, hi) if c > 0 else (-hi, -lo)
                if lo > low[cell]:
                    low[cell], changed = lo, True
                if hi < high[cell]:
                    high[cell], changed = hi, True
        if not changed:
            break
    for cell in hidden:
        value = truth[cell[0]][cell[1]]
        assert low[cell] <= value <= high[cell], "the attacker's bounds must hold"
        if low[cell] == high[cell]:
            pinned.add(cell)
    return sorted(pinned)


counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


def _check(published: Table, unpublished: Table, shape: str) -> None:
    truth = [list(row.cells) for row in unpublished.rows]
    for shown_row, true_row in zip(published.rows, truth, strict=True):
        for shown, true in zip(shown_row.cells, true_row, strict=True):
            assert shown is None or shown == true, "a shown count is the true count"
            assert shown is None or not 0 < shown < THRESHOLD, "no small count is shown"
    assert _recovered(published, truth, shape) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(counts, min_size=1, max_size=5), min_size=1, max_size=6), st.data())
def test_no_hidden_cell_of_a_two_way_table_can_be_worked_out(grid, data) -> None:
    width = len(grid[0])
    grid = [(row + [0] * width)[:width] for row in grid]
    rows = [(f"r{i}", f"r{i}") for i in range(len(grid))]
    columns = [(f"c{j}", f"c{j}") for j in range(width)]
    cells = {(f"r{i}", f"c{j}"): v for i, row in enumerate(grid) for j, v in enumerate(row)}
    published = two_way("t", rows, columns, cells, suppress=True)
    _check(published, two_way("t", rows, columns, cells, suppress=False), "two_way")


@settings(max_examples=300, deadline=None)
@given(st.lists(counts, min_size=1, max_size=10))
def test_no_hidden_cell_of_a_one_way_table_can_be_worked_out(values) -> None:
    items = [(f"k{i}", f"k{i}") for i in range(len(values))]
    cells = {f"k{i}": v for i, v in enumerate(values)}
    published = one_way("t", "n", items, cells, suppress=True)
    _check(published, one_way("t", "n", items, cells, suppress=False), "one_way")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(counts, min_size=1, max_size=4), min_size=1, max_size=5))
def test_no_hidden_cell_of_a_nested_table_can_be_worked_out(groups) -> None:
    shape = [
        (f"g{g}", [(f"g{g}m{m}", f"m{m}") for m in range(len(items))])
        for g, items in enumerate(groups)
    ]
    cells = {f"g{g}m{m}": v for g, items in enumerate(groups) for m, v in enumerate(items)}
    published = nested("t", "n", shape, cells, suppress=True)
    _check(published, nested("t", "n", shape, cells, suppress=False), "nested")


def test_the_attacker_recovers_what_primary_suppression_alone_leaves() -> None:
    """The attacker has teeth: one hidden count in a row with its total shown is found."""
    table = two_way("t", [("a", "a"), ("b", "b")], [("x", "x"), ("y", "y")], {}, suppress=False)
    rows = list(table.rows)
    truth = [[3, 10, 13], [7, 9, 16], [10, 19, 29]]
    shown = [[None, 10, 13], [7, 9, 16], [10, 19, 29]]
    rows = [type(r)(r.label, tuple(cells), r.kind) for r, cells in zip(rows, shown, strict=True)]
    attacked = Table("t", table.columns, tuple(rows), True)
    assert _recovered(attacked, truth, "two_way") == [(0, 0)]


def test_zero_is_shown_and_small_counts_are_hidden_with_a_partner() -> None:
    table = one_way(
        "t", "n", [("a", "a"), ("b", "b"), ("c", "c")], {"a": 3, "c": 40}, suppress=True
    )
    assert [row.cells[0] for row in table.rows] == [None, 0, None, 43]
    own = one_way("t", "n", [("a", "a"), ("b", "b"), ("c", "c")], {"a": 3, "c": 40}, suppress=False)
    assert [row.cells[0] for row in own.rows] == [3, 0, 40, 43]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(counts, min_size=1, max_size=4), min_size=1, max_size=4), st.data())
def test_no_share_gives_away_a_small_count(grid, data) -> None:
    """Rows of follow-ups with how many answered yes to each question: a shown share and its
    shown count pin both the yes count and the rest, so neither may be small; a hidden
    count hides its row's shares."""
    width = len(grid[0])
    items = [(f"r{i}", f"r{i}") for i in range(len(grid))]
    questions = [(f"q{j}", f"q{j}") for j in range(width)]
    counts = {f"r{i}": data.draw(st.integers(0, 60)) for i in range(len(grid))}
    yes = {
        (f"r{i}", f"q{j}"): min(value, counts[f"r{i}"])
        for i, row in enumerate(grid)
        for j, value in enumerate((row + [0] * width)[:width])
    }
    published = shares("t", items, questions, "n", counts, yes, suppress=True)
    own = shares("t", items, questions, "n", counts, yes, suppress=False)
    for (key, _label), row, true_row in zip(items, published.rows, own.rows, strict=True):
        *cells, count = row.cells
        *true_cells, _count = true_row.cells
        assert count is None or count == counts[key]
        assert count is None or not 0 < count < THRESHOLD
        for (question, _), share, true_share in zip(questions, cells, true_cells, strict=True):
            assert share is None or share == true_share
            if count is None:
                assert share is None
            elif share is not None:
                said_yes = yes[key, question]
                assert not 0 < said_yes < THRESHOLD and not 0 < count - said_yes < THRESHOLD
                # Why: whole per cent of at most 60 pins the yes count for a reader.
                pinned = [n for n in range(count + 1) if (200 * n + count) // (2 * count) == share]
                assert pinned == [said_yes]


def test_a_share_is_shown_with_its_count_or_hidden_with_it() -> None:
    items = [("a", "a"), ("b", "b"), ("c", "c")]
    questions = [("x", "x"), ("y", "y")]
    counts = {"a": 12, "b": 3}
    yes = {("a", "x"): 6, ("a", "y"): 10, ("b", "x"): 3}
    table = shares("t", items, questions, "n", counts, yes, suppress=True)
    # 6 of 12 is 50 %; 10 of 12 leaves 2 who did not say yes; 3 follow-ups are too few.
    assert [row.cells for row in table.rows] == [
        (50, None, 12),
        (None, None, None),
        (None, None, 0),
    ]
    own = shares("t", items, questions, "n", counts, yes, suppress=False)
    assert [row.cells for row in own.rows] == [(50, 83, 12), (100, 0, 3), (None, None, 0)]

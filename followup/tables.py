"""Count tables with their totals, suppressed (followup.disclosure) when shown outside the
owning municipality. A hidden count is None; templates and charts show it as HIDDEN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from followup.disclosure import Relation, protect

HIDDEN = ".."  # Statistics Sweden's mark for a figure that is not published
TOTAL = "__total__"


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[int | None, ...]
    kind: str = ""  # "" a count, "subtotal" a group's sum, "total" the table's


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    suppressed: bool  # disclosure control was applied

    @property
    def has_hidden(self) -> bool:
        return any(cell is None for row in self.rows for cell in row.cells)

    def body(self) -> tuple[Row, ...]:
        """The rows that are counts, not sums."""
        return tuple(row for row in self.rows if not row.kind)


Labelled = Sequence[tuple[str, str]]  # (key, label) in the order shown


def _shown(values: Mapping, relations: list[Relation], suppress: bool, grand: object) -> dict:
    hidden = protect(values, relations, hide_last=frozenset({grand})) if suppress else frozenset()
    return {key: None if key in hidden else value for key, value in values.items()}


def one_way(
    caption: str, header: str, items: Labelled, counts: Mapping[str, int], *, suppress: bool
) -> Table:
    values = {key: counts.get(key, 0) for key, _label in items}
    values[TOTAL] = sum(values.values())
    shown = _shown(values, [Relation(TOTAL, tuple(key for key, _ in items))], suppress, TOTAL)
    rows = [Row(label, (shown[key],)) for key, label in items]
    rows.append(Row(_("Totalt"), (shown[TOTAL],), "total"))
    return Table(caption, (header,), tuple(rows), suppress)


def two_way(
    caption: str,
    rows: Labelled,
    columns: Labelled,
    counts: Mapping[tuple[str, str], int],
    *,
    suppress: bool,
) -> Table:
    """Rows by columns, with a total column, a total row and the grand total."""
    row_keys = [key for key, _ in rows] + [TOTAL]
    col_keys = [key for key, _ in columns] + [TOTAL]
    values = {(r, c): counts.get((r, c), 0) for r in row_keys[:-1] for c in col_keys[:-1]}
    for r in row_keys[:-1]:
        values[r, TOTAL] = sum(values[r, c] for c in col_keys[:-1])
    for c in col_keys:
        values[TOTAL, c] = sum(values[r, c] for r in row_keys[:-1])
    relations = [Relation((r, TOTAL), tuple((r, c) for c in col_keys[:-1])) for r in row_keys]
    relations += [Relation((TOTAL, c), tuple((r, c) for r in row_keys[:-1])) for c in col_keys]
    shown = _shown(values, relations, suppress, (TOTAL, TOTAL))
    labels = [label for _, label in rows] + [_("Totalt")]
    table_rows = tuple(
        Row(label, tuple(shown[r, c] for c in col_keys), "total" if r == TOTAL else "")
        for r, label in zip(row_keys, labels, strict=True)
    )
    headers = (*(label for _, label in columns), _("Totalt"))
    return Table(caption, headers, table_rows, suppress)


def nested(
    caption: str,
    header: str,
    groups: Sequence[tuple[str, Labelled]],
    counts: Mapping[str, int],
    *,
    suppress: bool,
) -> Table:
    """Items within groups (municipalities within regions): each group's sum, the total."""
    values: dict = {}
    relations = []
    for group, items in groups:
        for key, _label in items:
            values[key] = counts.get(key, 0)
        values["group", group] = sum(values[key] for key, _ in items)
        relations.append(Relation(("group", group), tuple(key for key, _ in items)))
    values[TOTAL] = sum(values["group", group] for group, _ in groups)
    relations.append(Relation(TOTAL, tuple(("group", group) for group, _ in groups)))
    shown = _shown(values, relations, suppress, TOTAL)
    rows: list[Row] = []
    for group, items in groups:
        rows.append(Row(group, (shown["group", group],), "subtotal"))
        rows += [Row(label, (shown[key],)) for key, label in items]
    rows.append(Row(_("Totalt"), (shown[TOTAL],), "total"))
    return Table(caption, (header,), tuple(rows), suppress)


def shares(
    caption: str,
    items: Labelled,
    questions: Labelled,
    count_header: str,
    counts: Mapping[str, int],
    yes: Mapping[tuple[str, str], int],
    *,
    suppress: bool,
) -> Table:
    """Per item, the share in whole per cent of its `counts` answering yes to each question,
    and that count in the last column (as a median's count follows it). A share and its count
    give away how many answered yes and how many did not, so each share is the published sum
    count = yes + the rest, protected like any other sum: a share is hidden with either part
    hidden, a row's shares with its count. The items are not summed (one person is followed
    up at several points), so no sum ties one row to another."""
    rows = []
    for key, label in items:
        count = counts.get(key, 0)
        hidden_shares, count_hidden = set(), False
        for question, _label in questions:
            said_yes = yes.get((key, question), 0)
            values = {"count": count, "yes": said_yes, "rest": count - said_yes}
            relations = [Relation("count", ("yes", "rest"))]
            cut = (
                protect(values, relations, hide_last=frozenset({"count"}))
                if suppress
                else frozenset()
            )
            if cut & {"yes", "rest"}:
                hidden_shares.add(question)
            count_hidden = count_hidden or "count" in cut
        cells = tuple(
            None
            if count == 0 or count_hidden or question in hidden_shares
            else (200 * yes.get((key, question), 0) + count) // (2 * count)  # half rounds up
            for question, _label in questions
        )
        rows.append(Row(label, (*cells, None if count_hidden else count)))
    headers = (*(label for _key, label in questions), count_header)
    return Table(caption, headers, tuple(rows), suppress)

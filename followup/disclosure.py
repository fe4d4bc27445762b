"""Disclosure control for figures shown outside the owning municipality.

Primary suppression hides every count from 1 to 4 (a zero identifies no one and is shown).
Secondary suppression then hides further counts until no hidden count can be worked out from
what is shown, totals included.

Why the rule below is enough: write each published sum as a relation "parts - total = 0" and
see every cell as an edge between the (one or two) relations it takes part in, a cell in only
one relation ending in a free node. A hidden cell that lies on a cycle of hidden cells can be
raised by one and its neighbours on the cycle lowered and raised in turn, every sum kept; if
every hidden cell is at least 1, that change can go both ways, so no hidden cell has one
possible value. A hidden cell that is a bridge of that graph is fixed by the sums. So: hide
nonzero cells until the hidden cells have no bridge, each time closing a cycle through a
bridge with the smallest visible count that does. It ends: with every nonzero cell hidden
there is no bridge (a count, its row total, the grand total and its column total make a
cycle).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

THRESHOLD = 5

Key = Hashable


@dataclass(frozen=True)
class Relation:
    """A published sum: the parts add up to the total."""

    total: Key
    parts: tuple[Key, ...]


_FREE = object()  # the end of a cell that takes part in one relation only


def protect(
    values: Mapping[Key, int],
    relations: Sequence[Relation],
    *,
    threshold: int = THRESHOLD,
    hide_last: frozenset[Key] = frozenset(),
) -> frozenset[Key]:
    """The keys to hide: primary and secondary suppression of `values`, a table whose sums
    are `relations`. `hide_last` (the grand total) is hidden for secondary suppression only
    when no other count will do: a hidden national total says little to anyone."""
    ends = _ends(values, relations)
    hidden = {key for key, value in values.items() if 0 < value < threshold}
    while (bridge := _first_bridge(hidden, ends)) is not None:
        hidden.add(_closing_cell(bridge, hidden, values, ends, hide_last))
    return frozenset(hidden)


def _ends(values: Mapping[Key, int], relations: Sequence[Relation]) -> dict[Key, tuple]:
    member: dict[Key, list[int]] = {key: [] for key in values}
    for index, relation in enumerate(relations):
        for key in (relation.total, *relation.parts):
            member[key].append(index)
    ends = {}
    for key, lines in member.items():
        if not 1 <= len(lines) <= 2:
            raise ValueError(f"cell {key!r} takes part in {len(lines)} sums, not one or two")
        ends[key] = (lines[0], lines[1] if len(lines) == 2 else _FREE)
    return ends


def _component(start: object, edges: Iterable[Key], ends: Mapping[Key, tuple]) -> set:
    neighbours: dict[object, list[object]] = {}
    for key in edges:
        a, b = ends[key]
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen, todo = {start}, [start]
    while todo:
        for nxt in neighbours.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _first_bridge(hidden: set[Key], ends: Mapping[Key, tuple]) -> Key | None:
    # Tables are small (tens of cells): a search per hidden cell is cheap enough.
    for key in sorted(hidden, key=repr):
        others = hidden - {key}
        a, b = ends[key]
        if b not in _component(a, others, ends):
            return key
    return None


def _closing_cell(
    bridge: Key,
    hidden: set[Key],
    values: Mapping[Key, int],
    ends: Mapping[Key, tuple],
    hide_last: frozenset[Key],
) -> Key:
    others = hidden - {bridge}
    a, b = ends[bridge]
    side_a, side_b = _component(a, others, ends), _component(b, others, ends)
    visible = [key for key, value in values.items() if value > 0 and key not in hidden]

    def closes(key: Key) -> bool:
        x, y = ends[key]
        return (x in side_a and y in side_b) or (x in side_b and y in side_a)

    def touches(key: Key) -> bool:
        return bool(set(ends[key]) & (side_a | side_b))

    for pool in ([key for key in visible if key not in hide_last], visible):
        for fits in (closes, touches, lambda key: True):
            candidates = [key for key in pool if fits(key)]
            if candidates:
                return min(candidates, key=lambda key: values[key])
    raise AssertionError("a bridge with every nonzero cell hidden")  # see the module doc

"""Timing in rounds beside a machine gauge, and the percentiles.

On a shared machine whose speed swings (2 x here between seconds), pages timed one block after
another measure partly when they ran. In rounds, every page (and every side of a comparison)
meets the same slow and fast seconds, and a fixed loop of pure Python timed once per round, the
gauge, shows how fast the machine was meanwhile.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Side = TypeVar("Side")

# The machine gauge: the same pure-Python work every round, about 1 ms on this machine when
# it runs at full speed. Its spread is the machine's, since the work never changes.
GAUGE_LOOP = 20_000


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in ms of samples in seconds, and their number."""
    return {
        "p50": statistics.median(samples) * 1000,
        "p95": pct(samples, 0.95) * 1000,
        "n": len(samples),
    }


def gauge_sample() -> float:
    started = time.perf_counter()
    total = 0
    for number in range(GAUGE_LOOP):
        total += number * number
    return time.perf_counter() - started


def gauge_summary(samples: list[float]) -> dict[str, float]:
    return {**summary(samples), "min": min(samples) * 1000}


def in_turn(round_number: int, sides: Sequence[Side]) -> list[Side]:
    """The order of the sides in a round: as given in even rounds, reversed in odd ones, so
    none is always first (the first of two back-to-back requests tends to be the slower)."""
    return list(sides) if round_number % 2 == 0 else list(reversed(sides))


def time_in_rounds(
    sides: Sequence[Side],
    pages: int,
    requests: int,
    warmup: int,
    measure: Callable[[Side, int], float],
) -> tuple[list[list[list[float]]], dict[str, Any]]:
    """Each round measures every page once on every side, page by page (page i on one side,
    then on the other, in the order `in_turn` gives), then takes one gauge sample.

    `measure(side, i)` returns one request's seconds. Returns the samples after the warm-up
    rounds, as samples[side][page], and the gauge's summary."""
    samples: list[list[list[float]]] = [[[] for _ in range(pages)] for _ in sides]
    index_of = {id(side): number for number, side in enumerate(sides)}
    gauge: list[float] = []
    for round_number in range(warmup + requests):
        for page in range(pages):
            for side in in_turn(round_number, sides):
                elapsed = measure(side, page)
                if round_number >= warmup:
                    samples[index_of[id(side)]][page].append(elapsed)
        if round_number >= warmup:
            gauge.append(gauge_sample())
        if round_number % 20 == 19:
            print(f"  round {round_number + 1} of {warmup + requests}", flush=True)
    return samples, gauge_summary(gauge)

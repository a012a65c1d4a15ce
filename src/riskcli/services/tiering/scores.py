"""RFM scores by quantile, the segment table and value tiers by cumulative share of value."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from riskcli.services.tiering.transactions import FloatArray, IntArray

SCORE_LEVELS = 5

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Needs attention",
    "About to sleep",
    "At risk",
    "Cannot lose them",
    "Hibernating",
    "Lost",
)


# The rule table: SEGMENT_GRID[r - 1][fm - 1], with FM = ceil((F + M) / 2). Every (R, FM) cell
# names exactly one segment, so every customer gets exactly one.
SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    # FM:   1             2              3                  4              5
    ("Lost", "Lost", "At risk", "At risk", "Cannot lose them"),  # R = 1
    ("Hibernating", "Hibernating", "At risk", "At risk", "Cannot lose them"),  # R = 2
    ("About to sleep", "About to sleep", "Needs attention", "Loyal", "Loyal"),  # R = 3
    ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Champions"),  # R = 4
    ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),  # R = 5
)


def quantile_scores(values: npt.NDArray[Any], levels: int = SCORE_LEVELS) -> IntArray:
    """Scores 1..levels by quantiles, robust to ties: tied values never split, no empty class.

    The distinct values, sorted, are cut into `levels` contiguous classes. Class k ends at the
    distinct value whose cumulative count is nearest to k/levels of the population, subject to
    every class keeping at least one distinct value. So equal values always share a score, a
    larger value never scores lower, all five scores are used whenever there are at least five
    distinct values, and classes are as close to equal fifths as the ties allow (if 40% of
    customers have exactly one order, score 1 holds those 40%).

    With fewer distinct values than levels, the distinct values are spread evenly over the
    scale: one value -> 3 (a lone customer, or identical customers), two -> 1 and 5, three ->
    1, 3, 5, four -> 1, 2, 4, 5.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    inverse, counts = _group_ranks(values)
    u = len(counts)
    if u < levels:
        if u == 1:
            level = np.array([(levels + 1) // 2], dtype=np.int64)
        else:
            level = 1 + np.rint(np.arange(u) * (levels - 1) / (u - 1)).astype(np.int64)
    else:
        cum = np.cumsum(counts)
        ends = np.empty(levels - 1, dtype=np.int64)
        prev = -1
        for k in range(1, levels):
            target = k * n / levels
            j = int(np.searchsorted(cum, target))
            if j > 0 and (j >= u or abs(cum[j - 1] - target) <= abs(cum[j] - target)):
                j -= 1
            j = min(max(j, prev + 1), u - 1 - (levels - k))
            ends[k - 1] = j
            prev = j
        level = 1 + np.searchsorted(ends, np.arange(u), side="left").astype(np.int64)
    out: IntArray = level[inverse].astype(np.int64)
    return out


def _group_ranks(values: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """(rank of each value among the distinct values, ascending; count of each distinct value).

    Written with argsort rather than np.unique, which is much slower on large arrays in
    recent numpy releases.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.empty(len(values), dtype=np.bool_)
    new[:1] = True
    new[1:] = ordered[1:] != ordered[:-1]
    gid = np.cumsum(new) - 1
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = gid
    counts = np.diff(np.append(np.flatnonzero(new), len(values))).astype(np.int64)
    return inverse, counts


def segment_codes(r: IntArray, f: IntArray, m: IntArray) -> IntArray:
    """Index into SEGMENTS from the rule table SEGMENT_GRID (R by FM = ceil((F + M) / 2))."""
    fm = (f + m + 1) // 2
    lookup = np.array([[SEGMENTS.index(name) for name in row] for row in SEGMENT_GRID])
    out: IntArray = lookup[r - 1, fm - 1].astype(np.int64)
    return out


def segment_of(r: IntArray, f: IntArray, m: IntArray) -> npt.NDArray[np.object_]:
    """Segment names for R, F, M scores (see segment_codes)."""
    out: npt.NDArray[np.object_] = np.array(SEGMENTS, dtype=object)[segment_codes(r, f, m)]
    return out


def value_tiers(value: FloatArray, bounds: list[float], labels: tuple[str, ...]) -> IntArray:
    """Tier index (0 = A) by cumulative share of value, ties kept together.

    Customers are ranked by value, highest first. A customer's tier is decided by the share of
    total value held by customers with strictly more value: below bounds[0] -> A, below
    bounds[1] -> B, below bounds[2] -> C, else D. So A is the smallest set of top customers
    that makes up the first 50%, equal values share a tier, and value 0 is always the last tier.
    """
    n = len(value)
    last = len(labels) - 1
    out = np.full(n, last, dtype=np.int64)
    total = float(value[value > 0].sum())
    if n == 0 or total <= 0:
        return out
    inverse, counts = _group_ranks(-value)  # ascending -value = descending value
    sums = np.bincount(inverse, weights=value, minlength=len(counts))
    above = np.concatenate(([0.0], np.cumsum(sums)[:-1])) / total
    tier_u = np.searchsorted(np.asarray(bounds, dtype=np.float64), above, side="right")
    tier_u = np.minimum(tier_u, last)
    out = tier_u[inverse].astype(np.int64)
    out[value <= 0] = last
    return out

"""Per-customer order aggregates, purchase intervals and the lifecycle stage they imply."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskcli.services.tiering.config import TieringConfig
from riskcli.services.tiering.transactions import BoolArray, FloatArray, IntArray, Transactions

STAGES: tuple[str, ...] = (
    "prospect",
    "new",
    "active",
    "won-back",
    "at-risk",
    "dormant",
    "churned",
)


@dataclass
class Aggregates:
    has_order: BoolArray
    first_day: IntArray
    last_day: IntArray
    prev_day: IntArray  # the distinct order day before last_day (-1 when none)
    order_days: IntArray  # number of distinct order days
    frequency: IntArray  # orders in the window
    monetary: IntArray  # net cents in the window (refunds subtracted)


def aggregate(n: int, idx: IntArray, txns: Transactions, as_of: int, window: int) -> Aggregates:
    """Per-customer aggregates; `idx` maps each transaction to its customer position 0..n-1."""
    in_window = txns.day > as_of - window
    order = txns.is_order
    frequency = np.bincount(idx[in_window & order], minlength=n).astype(np.int64)
    monetary = np.rint(
        np.bincount(idx[in_window], weights=txns.amount[in_window].astype(np.float64), minlength=n)
    ).astype(np.int64)
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    prev = np.full(n, -1, dtype=np.int64)
    days = np.zeros(n, dtype=np.int64)
    o_idx = idx[order]
    if len(o_idx):
        o_day = txns.day[order]
        dmin = int(o_day.min())
        span = int(o_day.max()) - dmin + 1
        # one sorted pass over distinct (customer, day) pairs gives first/last/previous day
        key = _sorted_unique(o_idx * span + (o_day - dmin))
        k_idx = key // span
        k_day = key % span + dmin
        starts = np.flatnonzero(np.concatenate(([True], k_idx[1:] != k_idx[:-1])))
        ends = np.concatenate((starts[1:], [len(key)]))
        who = k_idx[starts]
        first[who] = k_day[starts]
        last[who] = k_day[ends - 1]
        days[who] = ends - starts
        two = (ends - starts) >= 2
        prev[who[two]] = k_day[ends[two] - 2]
    return Aggregates(
        has_order=days > 0,
        first_day=first,
        last_day=last,
        prev_day=prev,
        order_days=days,
        frequency=frequency,
        monetary=monetary,
    )


def _sorted_unique(key: IntArray) -> IntArray:
    """Sorted distinct values; cheap when `key` is already sorted (as the store reads it)."""
    if len(key) > 1 and not bool(np.all(key[1:] >= key[:-1])):
        key = np.sort(key)
    keep = np.empty(len(key), dtype=np.bool_)
    keep[:1] = True
    keep[1:] = key[1:] != key[:-1]
    out: IntArray = key[keep]
    return out


def purchase_interval(agg: Aggregates, cfg: TieringConfig) -> tuple[FloatArray, FloatArray, float]:
    """(own interval or NaN, expected interval used for thresholds, population median).

    Own interval: mean days between distinct order days, (last - first) / (order days - 1).
    Customers with one order day borrow the median of the others (or default_interval_days).
    The expected interval is clamped to [min_interval_days, max_interval_days].
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(
            agg.order_days >= 2,
            (agg.last_day - agg.first_day) / np.maximum(agg.order_days - 1, 1),
            np.nan,
        ).astype(np.float64)
    known = own[~np.isnan(own)]
    median = float(np.median(known)) if len(known) else cfg.default_interval_days
    expected = np.where(np.isnan(own), median, own)
    expected = np.clip(expected, cfg.min_interval_days, cfg.max_interval_days)
    return own, expected, median


def lifecycle(
    agg: Aggregates, expected: FloatArray, median: float, as_of: int, cfg: TieringConfig
) -> IntArray:
    """Lifecycle stage (index into STAGES) per customer; the first rule that matches wins."""
    n = len(agg.has_order)
    recency = (as_of - agg.last_day).astype(np.float64)
    dormant_at = np.maximum(cfg.dormant_days, cfg.dormant_factor * expected)
    churned_at = np.maximum(cfg.churned_days, cfg.churned_factor * expected)
    # won-back: the silence before the latest order day was a dormant one, measured against
    # the customer's interval before that silence
    with np.errstate(invalid="ignore", divide="ignore"):
        before = np.where(
            agg.order_days >= 3,
            (agg.prev_day - agg.first_day) / np.maximum(agg.order_days - 2, 1),
            median,
        )
    before = np.clip(before, cfg.min_interval_days, cfg.max_interval_days)
    gap = np.where(agg.order_days >= 2, agg.last_day - agg.prev_day, 0)
    won_back = (agg.order_days >= 2) & (
        gap > np.maximum(cfg.dormant_days, cfg.dormant_factor * before)
    )
    conditions = [
        ~agg.has_order,
        recency > churned_at,
        recency > dormant_at,
        agg.first_day > as_of - cfg.new_days,
        recency > cfg.at_risk_factor * expected,
        won_back,
    ]
    choices = [
        STAGES.index(name)
        for name in ("prospect", "churned", "dormant", "new", "at-risk", "won-back")
    ]
    out: IntArray = np.select(conditions, choices, default=STAGES.index("active")).astype(np.int64)
    assert len(out) == n
    return out

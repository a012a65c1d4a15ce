"""A tier run on arrays: which transactions count, the RFM scores, the value tier (by value
share or KMeans), the lifecycle stage, and one result row per customer with the run's
statistics. No store, no printing; the methods are documented in docs/tiers.md.

Inputs are the customer ids and the transactions (orders, refunds; payments are ignored) as
numpy arrays with dates as day numbers (days since 1970-01-01). Outputs are one row per
customer: recency, frequency, monetary value, tenure, purchase interval, R/F/M scores, RFM
segment, value tier and lifecycle stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.tiering.clusters import kmeans_tiers, label_clusters
from riskcli.services.tiering.config import TieringConfig
from riskcli.services.tiering.scores import SEGMENTS, quantile_scores, segment_codes, value_tiers
from riskcli.services.tiering.stages import (
    STAGES,
    Aggregates,
    aggregate,
    lifecycle,
    purchase_interval,
)
from riskcli.services.tiering.transactions import (
    FloatArray,
    IntArray,
    Progress,
    Transactions,
    day_number,
    day_to_date,
)


@dataclass
class TierResult:
    """The per-customer results and the run's statistics (counts, warnings, clusters)."""

    frame: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return list(self.stats.get("warnings", []))


def _positions(ids: IntArray, wanted: IntArray) -> IntArray:
    """Position of each wanted id in `ids`, -1 when absent.

    Store ids are small dense integers, so a lookup table beats a binary search by far;
    sparse or negative ids fall back to searchsorted.
    """
    out: IntArray
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    lo, hi = int(ids.min()), int(ids.max())
    if lo >= 0 and hi <= 4 * len(ids) + 1_000_000:
        table = np.full(hi + 2, -1, dtype=np.int64)
        table[ids] = np.arange(len(ids), dtype=np.int64)
        inside = (wanted >= 0) & (wanted <= hi)
        out = np.where(inside, table[np.where(inside, wanted, hi + 1)], -1)
        return out
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), len(ids) - 1)
    out = np.where(sorted_ids[pos] == wanted, order[pos], -1)
    return out


def compute_tiers(
    customer_ids: IntArray,
    txns: Transactions,
    as_of: date,
    cfg: TieringConfig,
    *,
    method: str | None = None,
    window_days: int | None = None,
    progress: Progress = None,
) -> TierResult:
    """Tier every customer in `customer_ids` from `txns` as of `as_of`.

    Raises InputError when there is no customer, or when `as_of` is before every transaction.
    Returns results plus stats with counts and warnings for the documented odd cases:
    future-dated transactions (excluded, counted), transactions of unknown customers (ignored,
    counted), customers whose refunds exceed their orders (value counted as 0).
    """
    method = method or cfg.method
    window = window_days if window_days is not None else cfg.window_days
    ids = _checked_ids(customer_ids, txns, as_of, method, window)
    n = len(ids)
    a = day_number(as_of)
    warnings: list[str] = []
    stats: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "method": method,
        "window_days": window,
        "customers": n,
        "transactions_read": len(txns),
    }
    used, idx = _usable(ids, txns, as_of, stats, warnings)
    if progress:
        progress(1)
    agg = aggregate(n, idx, used, a, window)
    if progress:
        progress(1)
    _count_customers(agg, len(used), stats, warnings)
    recency = np.where(agg.has_order, a - agg.last_day, -1).astype(np.int64)
    rfm = _rfm_scores(agg, recency)
    own, expected, median = purchase_interval(agg, cfg)
    stage = lifecycle(agg, expected, median, a, cfg)
    stats["median_interval_days"] = round(median, 1)
    value = np.maximum(agg.monetary, 0).astype(np.float64)
    labels = cfg.tier_labels(method)
    tier_idx, cluster = _tiers(method, agg, recency, value, labels, cfg, stats)
    if progress:
        progress(1)
    tier = pd.Categorical.from_codes(tier_idx, categories=pd.Index(labels))
    frame = _frame(ids, agg, a, recency, own, rfm, tier, stage, cluster)
    stats["value_total"] = int(value.sum())
    stats["tiers"] = {t: int((frame["tier"] == t).sum()) for t in labels}
    stats["warnings"] = warnings
    return TierResult(frame=frame, stats=stats)


def _checked_ids(
    customer_ids: IntArray, txns: Transactions, as_of: date, method: str, window: int
) -> IntArray:
    """The customer ids as int64, once the method, window, ids and as-of date are known good."""
    if method not in ("rfm", "kmeans"):
        raise InputError(f"unknown method {method!r}: use rfm or kmeans")
    if window <= 0:
        raise InputError("the window must be longer than zero days")
    ids = np.asarray(customer_ids, dtype=np.int64)
    n = len(ids)
    if n == 0:
        raise InputError("nothing to tier: the store has no customers")
    if n > 1 and bool(np.any(np.diff(np.sort(ids)) == 0)):
        raise InputError("customer ids are not unique")
    if len(txns) and int(txns.day.min()) > day_number(as_of):
        first = day_to_date(int(txns.day.min())).isoformat()
        raise InputError(
            f"as-of date {as_of.isoformat()} is before the first transaction ({first}); "
            "choose a later --as-of"
        )
    return ids


def _usable(
    ids: IntArray, txns: Transactions, as_of: date, stats: dict[str, Any], warnings: list[str]
) -> tuple[Transactions, IntArray]:
    """The transactions that count (none after the as-of date, none of unknown customers) and
    each one's customer position; the others are counted in stats and warned about."""
    future = txns.day > day_number(as_of)
    stats["future_excluded"] = int(future.sum())
    if stats["future_excluded"]:
        warnings.append(
            f"{stats['future_excluded']} transactions dated after {as_of.isoformat()} were excluded"
        )
    idx_all = _positions(ids, txns.customer_id)
    unknown = (idx_all < 0) & ~future
    stats["unknown_customer_transactions"] = int(unknown.sum())
    if stats["unknown_customer_transactions"]:
        warnings.append(
            f"{stats['unknown_customer_transactions']} transactions of unknown customers ignored"
        )
    if stats["future_excluded"] or stats["unknown_customer_transactions"]:
        sel = np.flatnonzero((idx_all >= 0) & ~future)
        used = Transactions(
            customer_id=txns.customer_id[sel],
            day=txns.day[sel],
            is_order=txns.is_order[sel],
            amount=txns.amount[sel],
        )
        idx = idx_all[sel]
    else:
        used, idx = txns, idx_all
    stats["transactions_used"] = len(used)
    return used, idx


def _count_customers(
    agg: Aggregates, used: int, stats: dict[str, Any], warnings: list[str]
) -> None:
    """Customers with orders, active in the window and worth less than nothing, in stats."""
    if not agg.has_order.any():
        warnings.append(
            "no orders up to the as-of date: every customer is a prospect in tier D"
            if used == 0
            else "no orders up to the as-of date (refunds only): every customer is a prospect"
        )
    stats["with_orders"] = int(agg.has_order.sum())
    stats["active"] = int((agg.frequency > 0).sum())
    stats["negative_value_customers"] = int((agg.monetary < 0).sum())
    if stats["negative_value_customers"]:
        many = stats["negative_value_customers"]
        who = "1 customer has" if many == 1 else f"{many:,} customers have"
        warnings.append(f"{who} more refunds than orders in the window; their value counts as 0")


def _rfm_scores(agg: Aggregates, recency: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """R, F and M scores among customers active in the window; the others score 1 on each."""
    n = len(recency)
    r_s = np.ones(n, dtype=np.int64)
    f_s = np.ones(n, dtype=np.int64)
    m_s = np.ones(n, dtype=np.int64)
    act = np.flatnonzero(agg.frequency > 0)
    if len(act):
        r_s[act] = quantile_scores(-recency[act])
        f_s[act] = quantile_scores(agg.frequency[act])
        m_s[act] = quantile_scores(agg.monetary[act])
    return r_s, f_s, m_s


def _tiers(
    method: str,
    agg: Aggregates,
    recency: IntArray,
    value: FloatArray,
    labels: tuple[str, ...],
    cfg: TieringConfig,
    stats: dict[str, Any],
) -> tuple[IntArray, IntArray]:
    """(tier index, cluster or -1) per customer; KMeans adds its clusters to stats."""
    cluster = np.full(len(value), -1, dtype=np.int64)
    if method == "kmeans":
        tier_idx, cluster, info = kmeans_tiers(
            recency.astype(np.float64), agg.frequency, agg.monetary, agg.has_order, cfg
        )
        label_clusters(info["clusters"])
        stats.update(info)
    else:
        tier_idx = value_tiers(value, cfg.cumulative_bounds(), labels)
    return tier_idx, cluster


def _frame(
    ids: IntArray,
    agg: Aggregates,
    as_of: int,
    recency: IntArray,
    own: FloatArray,
    rfm: tuple[IntArray, IntArray, IntArray],
    tier: pd.Categorical[str],
    stage: IntArray,
    cluster: IntArray,
) -> pd.DataFrame:
    """One row per customer; recency and tenure blank without an order, cluster blank
    outside KMeans."""
    r_s, f_s, m_s = rfm
    tenure = np.where(agg.has_order, as_of - agg.first_day, -1).astype(np.int64)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": pd.array(np.where(agg.has_order, recency, 0), dtype="Int64"),
            "frequency": agg.frequency,
            "monetary": agg.monetary,
            "tenure_days": pd.array(np.where(agg.has_order, tenure, 0), dtype="Int64"),
            "interval_days": np.round(own, 1),
            "r_score": r_s,
            "f_score": f_s,
            "m_score": m_s,
            "segment": pd.Categorical.from_codes(
                segment_codes(r_s, f_s, m_s), categories=pd.Index(SEGMENTS)
            ),
            "tier": tier,
            "stage": pd.Categorical.from_codes(stage, categories=pd.Index(STAGES)),
            "cluster": pd.array(np.where(cluster >= 0, cluster, 0), dtype="Int64"),
        }
    )
    no_order = ~agg.has_order
    frame.loc[no_order, "recency_days"] = pd.NA
    frame.loc[no_order, "tenure_days"] = pd.NA
    frame.loc[cluster < 0, "cluster"] = pd.NA
    return frame

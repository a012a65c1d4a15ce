"""Pure tiering maths on arrays and DataFrames: no store, no printing.

Inputs are the customer ids and the transactions (orders, refunds; payments are ignored) as
numpy arrays with dates as day numbers (days since 1970-01-01). Outputs are one row per
customer: recency, frequency, monetary value, tenure, purchase interval, R/F/M scores, RFM
segment, value tier and lifecycle stage. The methods are documented in docs/tiers.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.tiering.config import TieringConfig

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[int], None] | None

EPOCH = date(1970, 1, 1)
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
STAGES: tuple[str, ...] = (
    "prospect",
    "new",
    "active",
    "won-back",
    "at-risk",
    "dormant",
    "churned",
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


def day_number(value: date) -> int:
    return (value - EPOCH).days


def day_to_date(day: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(day))


def parse_dates(values: pd.Series) -> IntArray:
    """ISO date strings (or datetimes) -> day numbers; one-line InputError on a bad date."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values.astype(str), format="%Y-%m-%d", errors="coerce")
    if parsed.isna().any():
        bad = values[parsed.isna()].iloc[0]
        raise InputError(f"transaction date {bad!r} is not a YYYY-MM-DD date")
    days: IntArray = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days


@dataclass
class Transactions:
    """Orders and refunds as parallel arrays. `amount` is signed: refunds are negative."""

    customer_id: IntArray
    day: IntArray
    is_order: BoolArray
    amount: IntArray

    def __len__(self) -> int:
        return len(self.customer_id)

    @classmethod
    def empty(cls) -> Transactions:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), np.zeros(0, dtype=np.bool_), z.copy())

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Transactions:
        """From columns customer_id, kind (order|payment|refund), date, amount (cents)."""
        missing = {"customer_id", "kind", "date", "amount"} - set(frame.columns)
        if missing:
            raise InputError(f"transactions lack the columns {', '.join(sorted(missing))}")
        kind = frame["kind"].astype(str).str.lower()
        unknown = ~kind.isin(["order", "payment", "refund"])
        if unknown.any():
            raise InputError(f"unknown transaction kind {kind[unknown].iloc[0]!r}")
        keep = (kind != "payment").to_numpy()
        sub = frame.loc[keep]
        is_order = (kind[keep] == "order").to_numpy()
        amount = sub["amount"].to_numpy(dtype=np.int64)
        return cls(
            customer_id=sub["customer_id"].to_numpy(dtype=np.int64),
            day=parse_dates(sub["date"]),
            is_order=is_order,
            amount=np.where(is_order, amount, -amount),
        )


@dataclass
class TierResult:
    """The per-customer results and the run's statistics (counts, warnings, clusters)."""

    frame: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return list(self.stats.get("warnings", []))


# ---- scores ---------------------------------------------------------------------------------
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


# ---- per-customer aggregates ----------------------------------------------------------------
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


# ---- kmeans ---------------------------------------------------------------------------------
def kmeans_tiers(
    recency: FloatArray,
    frequency: IntArray,
    monetary: IntArray,
    mask: BoolArray,
    cfg: TieringConfig,
) -> tuple[IntArray, IntArray, dict[str, Any]]:
    """KMeans on standardised log R, F, M of the customers in `mask`.

    Returns (tier index per customer, cluster per customer (-1 outside mask), info). Clusters
    are ordered by mean monetary value, highest first, and that order is the tier: cluster 0
    is tier A. Customers outside the mask (no order yet) get the last tier.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    n = len(mask)
    labels = cfg.tier_labels("kmeans")
    last = len(labels) - 1
    tier = np.full(n, last, dtype=np.int64)
    cluster = np.full(n, -1, dtype=np.int64)
    info: dict[str, Any] = {"silhouette": None, "clusters": []}
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return tier, cluster, info
    x = np.column_stack(
        (
            np.log1p(recency[pos]),
            np.log1p(frequency[pos].astype(np.float64)),
            np.log1p(np.maximum(monetary[pos], 0).astype(np.float64) / 100.0),
        )
    )
    distinct = len(np.unique(x, axis=0)) if len(pos) <= 200_000 else cfg.kmeans_clusters
    k = min(cfg.kmeans_clusters, distinct)
    if k < 2:
        tier[pos] = 0
        cluster[pos] = 0
        info["clusters"] = [_profile(0, labels[0], pos, recency, frequency, monetary)]
        info["note"] = "fewer than two distinct customers: one cluster, no silhouette"
        return tier, cluster, info
    z = StandardScaler().fit_transform(x)
    model = KMeans(n_clusters=k, n_init=3, random_state=cfg.kmeans_seed, max_iter=100)
    raw = model.fit_predict(z)
    means = np.array([monetary[pos][raw == c].mean() for c in range(k)])
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-means, kind="stable")] = np.arange(k)
    ordered = rank[raw]
    cluster[pos] = ordered
    tier[pos] = ordered
    if 2 <= len(np.unique(raw)) < len(pos):
        sample = min(len(pos), cfg.silhouette_sample)
        info["silhouette"] = round(
            float(silhouette_score(z, raw, sample_size=sample, random_state=cfg.kmeans_seed)), 4
        )
    info["clusters"] = [
        _profile(c, labels[c], pos[ordered == c], recency, frequency, monetary) for c in range(k)
    ]
    return tier, cluster, info


def _profile(
    c: int, tier: str, members: IntArray, recency: FloatArray, freq: IntArray, mon: IntArray
) -> dict[str, Any]:
    r = float(np.mean(recency[members]))
    f = float(np.mean(freq[members]))
    m = float(np.mean(mon[members])) / 100.0
    return {
        "cluster": c,
        "tier": tier,
        "customers": len(members),
        "mean_recency_days": round(r, 1),
        "mean_frequency": round(f, 2),
        "mean_monetary": round(m, 2),
    }


def _label_clusters(clusters: list[dict[str, Any]]) -> None:
    """Name each cluster from its centre relative to the others (recent/frequent/high value)."""
    if not clusters:
        return
    rs = [c["mean_recency_days"] for c in clusters]
    fs = [c["mean_frequency"] for c in clusters]
    ms = [c["mean_monetary"] for c in clusters]
    r_mid, f_mid, m_mid = float(np.median(rs)), float(np.median(fs)), float(np.median(ms))
    for c in clusters:
        words = [
            "recent" if c["mean_recency_days"] <= r_mid else "lapsed",
            "frequent" if c["mean_frequency"] >= f_mid else "occasional",
            "high value" if c["mean_monetary"] >= m_mid else "low value",
        ]
        c["label"] = ", ".join(words)


# ---- the whole run --------------------------------------------------------------------------
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
    if method not in ("rfm", "kmeans"):
        raise InputError(f"unknown method {method!r}: use rfm or kmeans")
    window = window_days if window_days is not None else cfg.window_days
    if window <= 0:
        raise InputError("the window must be longer than zero days")
    ids = np.asarray(customer_ids, dtype=np.int64)
    n = len(ids)
    if n == 0:
        raise InputError("nothing to tier: the store has no customers")
    if n > 1 and bool(np.any(np.diff(np.sort(ids)) == 0)):
        raise InputError("customer ids are not unique")
    a = day_number(as_of)
    warnings: list[str] = []
    stats: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "method": method,
        "window_days": window,
        "customers": n,
        "transactions_read": len(txns),
    }
    if len(txns) and int(txns.day.min()) > a:
        first = day_to_date(int(txns.day.min())).isoformat()
        raise InputError(
            f"as-of date {as_of.isoformat()} is before the first transaction ({first}); "
            "choose a later --as-of"
        )
    future = txns.day > a
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
    if progress:
        progress(1)

    agg = aggregate(n, idx, used, a, window)
    if progress:
        progress(1)
    if not agg.has_order.any():
        warnings.append(
            "no orders up to the as-of date: every customer is a prospect in tier D"
            if len(used) == 0
            else "no orders up to the as-of date (refunds only): every customer is a prospect"
        )
    recency = np.where(agg.has_order, a - agg.last_day, -1).astype(np.int64)
    tenure = np.where(agg.has_order, a - agg.first_day, -1).astype(np.int64)
    active = agg.frequency > 0
    stats["with_orders"] = int(agg.has_order.sum())
    stats["active"] = int(active.sum())
    negative = agg.monetary < 0
    stats["negative_value_customers"] = int(negative.sum())
    if stats["negative_value_customers"]:
        many = stats["negative_value_customers"]
        who = "1 customer has" if many == 1 else f"{many:,} customers have"
        warnings.append(f"{who} more refunds than orders in the window; their value counts as 0")

    # RFM scores among active customers; the others score 1 on every axis
    r_s = np.ones(n, dtype=np.int64)
    f_s = np.ones(n, dtype=np.int64)
    m_s = np.ones(n, dtype=np.int64)
    act = np.flatnonzero(active)
    if len(act):
        r_s[act] = quantile_scores(-recency[act])
        f_s[act] = quantile_scores(agg.frequency[act])
        m_s[act] = quantile_scores(agg.monetary[act])
    segment = segment_codes(r_s, f_s, m_s)

    own, expected, median = purchase_interval(agg, cfg)
    stage = lifecycle(agg, expected, median, a, cfg)
    stats["median_interval_days"] = round(median, 1)

    value = np.maximum(agg.monetary, 0).astype(np.float64)
    labels = cfg.tier_labels(method)
    cluster = np.full(n, -1, dtype=np.int64)
    if method == "kmeans":
        tier_idx, cluster, info = kmeans_tiers(
            recency.astype(np.float64), agg.frequency, agg.monetary, agg.has_order, cfg
        )
        _label_clusters(info["clusters"])
        stats.update(info)
    else:
        tier_idx = value_tiers(value, cfg.cumulative_bounds(), labels)
    if progress:
        progress(1)

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
            "segment": pd.Categorical.from_codes(segment, categories=pd.Index(SEGMENTS)),
            "tier": pd.Categorical.from_codes(tier_idx, categories=pd.Index(labels)),
            "stage": pd.Categorical.from_codes(stage, categories=pd.Index(STAGES)),
            "cluster": pd.array(np.where(cluster >= 0, cluster, 0), dtype="Int64"),
        }
    )
    no_order = ~agg.has_order
    frame.loc[no_order, "recency_days"] = pd.NA
    frame.loc[no_order, "tenure_days"] = pd.NA
    frame.loc[cluster < 0, "cluster"] = pd.NA
    stats["value_total"] = int(value.sum())
    stats["tiers"] = {t: int((frame["tier"] == t).sum()) for t in labels}
    stats["warnings"] = warnings
    return TierResult(frame=frame, stats=stats)

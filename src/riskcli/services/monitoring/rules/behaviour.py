"""Behaviour rules: a transaction far outside the customer's own history; a top-tier customer's
orders falling sharply (churn risk).

Anomalies use a robust z-score on log amounts rather than IsolationForest: it is per customer
(each customer is judged against their own history, which a single global forest is not), it
is deterministic and explainable (the evidence is the median, the spread and z), and it is a
few vectorised groupbys over ten million rows, with no model to fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.monitoring.config import AnomalyConfig, ChurnConfig, _cents
from riskcli.services.monitoring.frames import (
    Frames,
    candidates,
    days_to_iso,
    empty_candidates,
    money,
    watched_tiers,
)

#: 1.4826 * MAD estimates a standard deviation for normal data
_MAD_SCALE = 1.4826
#: the smallest spread (in log units, ~10%) a history is given, so a customer whose history
#: is all one amount does not alert on a cent's difference
_MIN_SPREAD = 0.1


def behaviour_anomaly(frames: Frames, cfg: AnomalyConfig) -> pd.DataFrame:
    """A transaction in the last `window_days` whose |robust z| of log amount against the
    customer's earlier transactions of the same kind exceeds `threshold`.

    z = (ln amount - median) / max(1.4826 * MAD, 0.1). Large amounts: medium, high at twice the
    threshold; unusually small amounts: low. Needs `min_history` earlier transactions.
    """
    recent, hist = _recent_and_history(frames, cfg)
    if recent.empty:
        return empty_candidates()
    r = _outliers(recent, _history_stats(hist, cfg.min_history), cfg.threshold)
    return _anomaly_candidates(r, cfg.threshold)


def _recent_and_history(frames: Frames, cfg: AnomalyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The transactions of the watched kinds inside the window, and the earlier ones of the
    customers who have one inside it."""
    tx = frames.get("transactions")
    start = frames.as_of - cfg.window_days
    kind_ok = tx["kind"].isin(cfg.kinds).to_numpy() & (tx["amount"].to_numpy() > 0)
    date = tx["date"].to_numpy()
    recent_mask = kind_ok & (date > start) & (date <= frames.as_of)
    recent = tx[recent_mask]
    if recent.empty:
        return recent, recent
    # only the history of customers with a recent transaction matters
    hist_mask = kind_ok & (date <= start)
    hist_mask &= np.isin(tx["customer_id"].to_numpy(), recent["customer_id"].unique())
    return recent, tx[hist_mask]


def _history_stats(hist: pd.DataFrame, min_history: int) -> pd.DataFrame:
    """Per (customer `c`, kind `k`) with at least `min_history` transactions: their count `n`,
    median `med` and median absolute deviation `mad` of log amounts."""
    hist_log = np.log(hist["amount"].to_numpy(dtype="float64"))
    keys = [hist["customer_id"].to_numpy(), hist["kind"].astype(str).to_numpy()]
    h = pd.DataFrame({"c": keys[0], "k": keys[1], "x": hist_log})
    grouped = h.groupby(["c", "k"], sort=False)["x"]
    med = grouped.transform("median")
    h["d"] = np.abs(h["x"] - med)
    stats = h.groupby(["c", "k"], sort=False).agg(
        n=("x", "size"), med=("x", "median"), mad=("d", "median")
    )
    return stats[stats["n"] >= min_history]


def _outliers(recent: pd.DataFrame, stats: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The recent transactions with a history whose robust z is beyond `threshold`."""
    r = pd.DataFrame(
        {
            "c": recent["customer_id"].to_numpy(),
            "k": recent["kind"].astype(str).to_numpy(),
            "x": np.log(recent["amount"].to_numpy(dtype="float64")),
            "id": recent["id"].to_numpy(),
            "date": recent["date"].to_numpy(),
            "amount": recent["amount"].to_numpy(),
        }
    )
    r = r.join(stats, on=["c", "k"], how="inner")
    spread = np.maximum(_MAD_SCALE * r["mad"], _MIN_SPREAD)
    r["z"] = (r["x"] - r["med"]) / spread
    return r[r["z"].abs() > threshold].reset_index(drop=True)


def _anomaly_candidates(r: pd.DataFrame, threshold: float) -> pd.DataFrame:
    z = r["z"]
    severity = np.select([z >= 2 * threshold, z > 0], ["high", "medium"], default="low")
    typical = pd.Series(np.rint(np.exp(r["med"])).astype("int64"), index=r.index)
    amount = r["amount"].astype("int64")
    return candidates(
        "behaviour_anomaly",
        customer_id=r["c"],
        subject=r["id"].astype(str),
        severity=pd.Series(severity, index=r.index),
        title="Unusual "
        + r["k"]
        + " of "
        + money(amount)
        + " on "
        + days_to_iso(r["date"]).astype(str)
        + " (typical "
        + money(typical)
        + ", z="
        + z.round(1).astype(str)
        + ")",
        action=pd.Series(
            np.where(
                z > 0,
                "verify the transaction with the account owner before shipping",
                "check with the customer why the amount fell",
            ),
            index=r.index,
        ),
        evidence={
            "transaction_id": r["id"],
            "kind": r["k"],
            "date": days_to_iso(r["date"]),
            "amount": money(amount),
            "typical_amount": money(typical),
            "robust_z": z.round(2),
            "history_count": r["n"],
        },
    )


def _window_sums(
    customer: np.ndarray, day: np.ndarray, amount: np.ndarray, lo: int, hi: int
) -> pd.Series:
    mask = (day > lo) & (day <= hi)
    return pd.Series(amount[mask]).groupby(customer[mask]).sum()


def behaviour_churn(frames: Frames, cfg: ChurnConfig) -> pd.DataFrame:
    """A customer of a watched tier ordered at least `drop_pct`% less in the last window than
    in the window before (high at a 90%+ fall)."""
    watched = watched_tiers(frames, cfg.tiers)
    tx = frames.get("transactions")
    orders = (tx["kind"] == "order").to_numpy()
    cust = tx["customer_id"].to_numpy()[orders]
    day = tx["date"].to_numpy()[orders]
    amount = tx["amount"].to_numpy()[orders].astype("int64")
    keep = np.isin(cust, watched.index.to_numpy())
    cust, day, amount = cust[keep], day[keep], amount[keep]
    w = cfg.window_days
    recent = _window_sums(cust, day, amount, frames.as_of - w, frames.as_of)
    before = _window_sums(cust, day, amount, frames.as_of - 2 * w, frames.as_of - w)
    before = before[before >= _cents(cfg.min_amount)]
    recent = recent.reindex(before.index, fill_value=0)
    fall = (1 - recent / before) * 100
    hit = fall >= cfg.drop_pct
    before, recent, fall = before[hit], recent[hit], fall[hit]
    idx = before.index
    tier = watched.reindex(idx).astype(str)
    return candidates(
        "behaviour_churn",
        customer_id=pd.Series(idx, index=idx),
        subject="orders",
        severity=pd.Series(np.where(fall >= 90, "high", "medium"), index=idx),
        title="Tier "
        + tier
        + " customer's orders fell "
        + fall.round(0).astype("int64").astype(str)
        + "% ("
        + money(before)
        + " -> "
        + money(recent)
        + " per "
        + str(w)
        + " days)",
        action="schedule a visit by the account owner (churn risk)",
        evidence={
            "tier": tier,
            "orders_previous_window": money(before),
            "orders_last_window": money(recent),
            "fall_pct": fall.round(1),
            "window_days": w,
        },
    )

"""Factors from the store as of a date, and the outcome from receivables.

Every factor looks only at records dated on or before the as-of date (documented in the README,
section `score`):

| factor | definition |
|---|---|
| debt_ratio | total liabilities / total assets, latest financial period ended by the as-of date |
| current_ratio | current assets / current liabilities, same period |
| revenue_trend | revenue of that period / revenue of the period before - 1 |
| years_in_business | years from registered_date to the as-of date |
| worst_dpd_12m | worst days past due of invoices due in the 12 months to the as-of date |
|   | (a paid invoice counts until its paid date, an open one until the as-of date) |
| avg_dpd_12m | average days past due of the same invoices |
| late_invoices_12m | count of those invoices 30 or more days late |
| utilisation | receivables outstanding at the as-of date / current credit limit |
| tenure_months | months since the first transaction or invoice |
| order_trend | orders in the last 6 months / orders in the 6 months before - 1 (capped at 3) |
| industry, region | as recorded on the customer |
| bureau_score | latest third-party score reported by the as-of date |
| adverse_flags | lawsuit + tax violation + other flag on that latest report |
| bankruptcy, dishonest_debtor | 0/1 on that latest report (overrides to the worst grade) |

Outcome ("bad"): an invoice reaches 90 days past due (due_date + 90 days, not fully paid by
then) within the horizon after the as-of date. Customers already 90+ days past due at the
as-of date are in default already and are left out of training.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.storage.store import Store

FACTOR_DESCRIPTIONS: dict[str, str] = {
    "debt_ratio": "debt ratio (liabilities / assets)",
    "current_ratio": "current ratio (current assets / current liabilities)",
    "revenue_trend": "revenue change on the previous period",
    "years_in_business": "years in business",
    "worst_dpd_12m": "worst days past due in the last 12 months",
    "avg_dpd_12m": "average days past due in the last 12 months",
    "late_invoices_12m": "invoices 30+ days late in the last 12 months",
    "utilisation": "credit limit utilisation",
    "tenure_months": "months as a customer",
    "order_trend": "order volume change, last 6 months on the 6 before",
    "industry": "industry",
    "region": "region",
    "bureau_score": "third-party bureau score",
    "adverse_flags": "adverse third-party flags (lawsuit, tax, other)",
    "bankruptcy": "bankruptcy on a third-party report",
    "dishonest_debtor": "on the dishonest-debtor list",
}
STORE_FACTORS = list(FACTOR_DESCRIPTIONS)
#: recorded for every customer beside the factors: what the credit limit policy needs
CONTEXT_COLUMNS = ["customer_id", "external_id", "credit_limit", "orders_12m", "net_assets"]
DEFAULT_EXCLUDE = ("bankruptcy", "dishonest_debtor")  # override flags, not points

Progress = Callable[[str], None]


def parse_date(text: str | date | None, what: str = "--as-of") -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InputError(f"{what} must be a date YYYY-MM-DD, not {text!r}") from None


def parse_horizon(text: str) -> int:
    """'12m' -> 365 days, '6m' -> 183, '90d' -> 90, '1y' -> 365."""
    t = text.strip().lower()
    try:
        if t.endswith("m"):
            return round(int(t[:-1]) * 365 / 12)
        if t.endswith("y"):
            return int(t[:-1]) * 365
        if t.endswith("d"):
            return int(t[:-1])
        return int(t)
    except ValueError:
        raise InputError(f"--horizon must look like 12m, 1y or 90d, not {text!r}") from None


def latest_activity(store: Store) -> date | None:
    value = store.scalar(
        "SELECT MAX(d) FROM (SELECT MAX(date) AS d FROM transactions "
        "UNION ALL SELECT MAX(issue_date) FROM receivables "
        "UNION ALL SELECT MAX(paid_date) FROM receivables)"
    )
    return date.fromisoformat(value[:10]) if value else None


def _iso(d: date) -> str:
    return d.isoformat()


def _receivable_factors(store: Store, as_of: date) -> pd.DataFrame:
    a = _iso(as_of)
    w = _iso(as_of - timedelta(days=365))
    d90 = _iso(as_of - timedelta(days=90))
    sql = """
    SELECT customer_id,
      MAX(CASE WHEN due_date > :w THEN dpd END) AS worst_dpd_12m,
      AVG(CASE WHEN due_date > :w THEN dpd END) AS avg_dpd_12m,
      SUM(CASE WHEN due_date > :w AND dpd >= 30 THEN 1 ELSE 0 END) AS late_invoices_12m,
      SUM(CASE WHEN settled THEN 0 ELSE amount - paid_part END) AS outstanding,
      MAX(CASE WHEN NOT settled AND due_date <= :d90 THEN 1 ELSE 0 END) AS in_default,
      MIN(issue_date) AS first_invoice
    FROM (
      SELECT customer_id, due_date, issue_date, amount,
        (paid_date IS NOT NULL AND paid_date <= :a AND paid_amount >= amount) AS settled,
        CASE WHEN paid_date IS NOT NULL AND paid_date <= :a THEN paid_amount ELSE 0 END
          AS paid_part,
        CASE WHEN due_date > :a THEN NULL ELSE MAX(0, CAST(
          julianday(CASE WHEN paid_date IS NOT NULL AND paid_date <= :a AND paid_amount >= amount
                    THEN paid_date ELSE :a END) - julianday(due_date) AS INTEGER)) END AS dpd
      FROM receivables WHERE issue_date <= :a
    ) GROUP BY customer_id
    """
    return store.query_df(sql, {"a": a, "w": w, "d90": d90})


def _transaction_factors(store: Store, as_of: date) -> pd.DataFrame:
    a = _iso(as_of)
    m6 = _iso(as_of - timedelta(days=183))
    m12 = _iso(as_of - timedelta(days=365))
    sql = """
    SELECT customer_id, MIN(date) AS first_txn,
      SUM(CASE WHEN kind = 'order' AND date > :m6 THEN amount ELSE 0 END) AS orders_recent,
      SUM(CASE WHEN kind = 'order' AND date > :m12 AND date <= :m6 THEN amount ELSE 0 END)
        AS orders_prior
    FROM transactions WHERE date <= :a GROUP BY customer_id
    """
    return store.query_df(sql, {"a": a, "m6": m6, "m12": m12})


def _period_end(period: pd.Series) -> pd.Series:
    """YYYY -> Dec 31, YYYYQn -> quarter end, YYYY-MM -> month end (ISO text)."""
    p = period.astype(str).str.strip().str.upper()
    year = pd.to_numeric(p.str[:4], errors="coerce")
    out = pd.Series(pd.NaT, index=p.index, dtype="datetime64[ns]")
    is_year = p.str.fullmatch(r"\d{4}")
    is_q = p.str.fullmatch(r"\d{4}Q[1-4]")
    is_m = p.str.fullmatch(r"\d{4}-\d{2}")
    month = pd.Series(np.nan, index=p.index)
    month[is_year] = 12
    month[is_q] = pd.to_numeric(p[is_q].str[-1], errors="coerce") * 3
    month[is_m] = pd.to_numeric(p[is_m].str[5:7], errors="coerce")
    ok = year.notna() & month.notna()
    if ok.any():
        start = pd.to_datetime(
            {"year": year[ok].astype(int), "month": month[ok].astype(int), "day": 1}
        )
        out[ok] = start + pd.offsets.MonthEnd(0)
    return out


def _num(values: pd.Series) -> pd.Series:
    return pd.Series(pd.to_numeric(values, errors="coerce"), dtype="float64")


def _financial_factors(store: Store, as_of: date) -> pd.DataFrame:
    fin = store.query_df(
        "SELECT customer_id, period, revenue, total_assets, total_liabilities, current_assets, "
        "current_liabilities FROM financials"
    )
    cols = ["customer_id", "debt_ratio", "current_ratio", "revenue_trend", "net_assets"]
    if fin.empty:
        return pd.DataFrame(columns=cols)
    fin["end"] = _period_end(fin["period"])
    fin = fin[fin["end"].notna() & (fin["end"] <= pd.Timestamp(as_of))]
    fin = fin.sort_values(["customer_id", "end"])
    last = fin.groupby("customer_id").tail(1).set_index("customer_id")
    prev = fin.groupby("customer_id").nth(-2).set_index("customer_id")
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = _num(last["total_assets"])
        tl = _num(last["total_liabilities"])
        ca = _num(last["current_assets"])
        cl = _num(last["current_liabilities"])
        out = pd.DataFrame(index=last.index)
        out["debt_ratio"] = (tl / ta.where(ta > 0)).round(6)
        out["current_ratio"] = (ca / cl.where(cl > 0)).round(6)
        prev_rev = _num(prev["revenue"]).reindex(last.index)
        rev = _num(last["revenue"])
        out["revenue_trend"] = (rev / prev_rev.where(prev_rev > 0) - 1).clip(-1, 5).round(6)
        out["net_assets"] = ta - tl
    return out.reset_index()


def _bureau_factors(store: Store, as_of: date) -> pd.DataFrame:
    rep = store.query_df(
        "SELECT customer_id, report_date, score, lawsuit, bankruptcy, tax_violation, "
        "dishonest_debtor, other_flag FROM credit_reports WHERE report_date <= ? "
        "ORDER BY customer_id, report_date",
        (_iso(as_of),),
    )
    cols = ["customer_id", "bureau_score", "adverse_flags", "bankruptcy", "dishonest_debtor"]
    if rep.empty:
        return pd.DataFrame(columns=cols)
    last = rep.drop_duplicates("customer_id", keep="last")
    out = pd.DataFrame({"customer_id": last["customer_id"].to_numpy()})
    out["bureau_score"] = pd.to_numeric(last["score"], errors="coerce").to_numpy()
    out["adverse_flags"] = (
        last["lawsuit"].astype(int) + last["tax_violation"].astype(int) + last["other_flag"]
    ).to_numpy()
    out["bankruptcy"] = last["bankruptcy"].astype(int).to_numpy()
    out["dishonest_debtor"] = last["dishonest_debtor"].astype(int).to_numpy()
    return out


def build_factors(
    store: Store,
    as_of: date,
    *,
    customer: str | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One row per customer known at the as-of date: context columns + every store factor.

    Vectorised: a handful of grouped queries and pandas joins, no per-customer Python.
    """
    say = progress or (lambda _m: None)
    params: tuple[Any, ...] = (_iso(as_of),)
    where = "WHERE (registered_date IS NULL OR registered_date <= ?)"
    if customer is not None:
        where += " AND external_id = ?"
        params = (*params, customer)
    say("customers")
    cust = store.query_df(
        "SELECT id AS customer_id, external_id, industry, region, registered_date, credit_limit "
        f"FROM customers {where} ORDER BY id",
        params,
    )
    if customer is not None and cust.empty:
        raise InputError(f"no customer {customer!r} known at {as_of.isoformat()}")
    say("receivables")
    rec = _receivable_factors(store, as_of)
    say("transactions")
    txn = _transaction_factors(store, as_of)
    say("financials")
    fin = _financial_factors(store, as_of)
    say("credit reports")
    bur = _bureau_factors(store, as_of)
    df = cust
    for part in (rec, txn, fin, bur):
        if not part.empty:
            df = df.merge(part, on="customer_id", how="left")
        else:
            for c in part.columns:
                if c != "customer_id":
                    df[c] = np.nan
    asof_ts = pd.Timestamp(as_of)
    reg = pd.to_datetime(df["registered_date"], errors="coerce")
    df["years_in_business"] = ((asof_ts - reg).dt.days / 365.25).round(2)
    first = pd.concat(
        [
            pd.to_datetime(df["first_txn"], errors="coerce"),
            pd.to_datetime(df["first_invoice"], errors="coerce"),
        ],
        axis=1,
    ).min(axis=1)
    df["tenure_months"] = ((asof_ts - first).dt.days / 30.4375).round(1)
    limit = pd.to_numeric(df["credit_limit"], errors="coerce").astype(float)
    outstanding = pd.to_numeric(df["outstanding"], errors="coerce").astype(float)
    df["utilisation"] = (outstanding.fillna(0) / limit.where(limit > 0)).round(4)
    recent = pd.to_numeric(df["orders_recent"], errors="coerce").fillna(0).astype(float)
    prior = pd.to_numeric(df["orders_prior"], errors="coerce").fillna(0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        trend = np.where(prior > 0, recent / prior.where(prior > 0) - 1, np.nan)
    trend = np.where((prior <= 0) & (recent > 0), 3.0, trend)
    df["order_trend"] = np.round(np.clip(trend, -1, 3), 4)
    df["orders_12m"] = recent + prior
    for c in ("worst_dpd_12m", "avg_dpd_12m", "late_invoices_12m", "in_default"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["avg_dpd_12m"] = df["avg_dpd_12m"].round(2)
    # a customer with invoices but none due in the window has a clean 12 months
    has_invoices = df["first_invoice"].notna()
    df.loc[has_invoices & df["late_invoices_12m"].isna(), "late_invoices_12m"] = 0.0
    for c in ("industry", "region"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["in_default"] = df["in_default"].fillna(0).astype(int)
    return df[[*CONTEXT_COLUMNS, *STORE_FACTORS, "in_default"]].reset_index(drop=True)


def build_outcome(store: Store, as_of: date, horizon_days: int) -> pd.DataFrame:
    """customer_id, bad (1 when an invoice first reaches 90 days past due in the horizon)."""
    a = _iso(as_of)
    end = _iso(as_of + timedelta(days=horizon_days))
    sql = """
    SELECT customer_id, MAX(
      CASE WHEN date(due_date, '+90 days') > :a AND date(due_date, '+90 days') <= :end
        AND NOT (paid_date IS NOT NULL AND paid_amount >= amount
                 AND paid_date <= date(due_date, '+90 days'))
      THEN 1 ELSE 0 END) AS bad
    FROM receivables WHERE issue_date <= :end GROUP BY customer_id
    """
    return store.query_df(sql, {"a": a, "end": end})


def training_frame(
    store: Store,
    as_of: date,
    horizon_days: int,
    *,
    snapshots: int = 1,
    step_days: int = 91,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, np.ndarray, pd.Series, dict[str, Any]]:
    """Factors at one or more as-of dates (3 months apart) with the outcome after each.

    Returns (factors, outcome, snapshot date per row, notes). With two or more snapshots the
    latest is the out-of-time validation sample.
    """
    latest = latest_activity(store)
    if latest is None:
        raise InputError("the store holds no transactions or receivables to train on")
    notes: dict[str, Any] = {"as_of": as_of.isoformat(), "horizon_days": horizon_days}
    if as_of + timedelta(days=horizon_days) > latest:
        notes["warning"] = (
            f"the outcome window ends {as_of + timedelta(days=horizon_days)} but the data ends "
            f"{latest}: outcomes after that are not yet observed"
        )
    frames: list[pd.DataFrame] = []
    ys: list[np.ndarray] = []
    dates: list[pd.Series] = []
    excluded = 0
    for k in range(snapshots):
        at = as_of - timedelta(days=step_days * (snapshots - 1 - k))
        f = build_factors(store, at, progress=progress)
        out = build_outcome(store, at, horizon_days)
        f = f.merge(out, on="customer_id", how="left")
        f["bad"] = f["bad"].fillna(0).astype(np.int8)
        excluded += int(f["in_default"].sum())
        f = f[f["in_default"] == 0]
        frames.append(f)
        ys.append(f["bad"].to_numpy(dtype=np.int8))
        dates.append(pd.Series([pd.Timestamp(at)] * len(f)))
    frame = pd.concat(frames, ignore_index=True)
    notes["already_in_default_excluded"] = excluded
    notes["snapshots"] = snapshots
    y = np.concatenate(ys)
    return frame, y, pd.concat(dates, ignore_index=True), notes

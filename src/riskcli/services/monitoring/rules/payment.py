"""Payment rules: invoices past due, a growing overdue balance, repeated partial payments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.monitoring.config import (
    OverdueGrowthConfig,
    PartialPaymentsConfig,
    PaymentOverdueConfig,
    _cents,
)
from riskcli.services.monitoring.frames import Frames, candidates, days_to_iso, money

_BUCKET_SEVERITY = np.array(["low", "medium", "high", "critical"], dtype=object)


def outstanding(receivables: pd.DataFrame) -> pd.Series:
    """Unpaid cents per invoice row (never negative)."""
    paid = receivables["paid_amount"].fillna(0).astype("int64")
    return (receivables["amount"].astype("int64") - paid).clip(lower=0)


def payment_overdue(frames: Frames, cfg: PaymentOverdueConfig) -> pd.DataFrame:
    """One alert per unpaid invoice past its due date; each threshold crossed escalates it."""
    rec = frames.get("receivables")
    due = rec["due_date"]
    dpd = (frames.as_of - due).astype("float64")
    owed = outstanding(rec)
    hit = due.notna().to_numpy() & (dpd >= cfg.thresholds[0]).to_numpy()
    hit &= (owed >= _cents(cfg.min_outstanding)).to_numpy()
    sel = rec[hit]
    days = dpd[hit].astype("int64")
    stage = np.searchsorted(np.array(cfg.thresholds), days.to_numpy(), side="right")
    stage_s = pd.Series(stage, index=sel.index)
    owed_s = money(owed[hit])
    invoice = sel["invoice_number"].astype(str)
    return candidates(
        "payment_overdue",
        customer_id=sel["customer_id"],
        subject=invoice,
        severity=pd.Series(_BUCKET_SEVERITY[stage - 1], index=sel.index),
        title="Invoice "
        + invoice
        + " is "
        + days.astype(str)
        + " days past due ("
        + owed_s
        + " outstanding)",
        action="move to collection stage " + stage_s.astype(str),
        evidence={
            "invoice_number": invoice,
            "due_date": days_to_iso(sel["due_date"]),
            "days_past_due": days,
            "amount": money(sel["amount"]),
            "outstanding": owed_s,
            "collection_stage": stage_s,
        },
    )


def payment_overdue_growth(frames: Frames, cfg: OverdueGrowthConfig) -> pd.DataFrame:
    """The customer's overdue balance grew by at least min_growth_pct and min_increase.

    The balance `window_days` ago is rebuilt from the invoices: what was already past due then,
    less what had been paid by then (a payment without a date counts as paid then).
    """
    rec = frames.get("receivables")
    then = frames.as_of - cfg.window_days
    due = rec["due_date"].astype("float64")
    amount = rec["amount"].astype("int64")
    paid = rec["paid_amount"].fillna(0).astype("int64")
    paid_date = rec["paid_date"].astype("float64")
    now_owed = (amount - paid).clip(lower=0).where(due < frames.as_of, 0)
    paid_then = paid.where(paid_date.isna() | (paid_date <= then), 0)
    then_owed = (amount - paid_then).clip(lower=0).where(due < then, 0)
    per = (
        pd.DataFrame({"customer_id": rec["customer_id"], "now": now_owed, "then": then_owed})
        .groupby("customer_id", sort=True)[["now", "then"]]
        .sum()
    )
    increase = per["now"] - per["then"]
    growth_pct = np.where(
        per["then"] > 0, increase / per["then"].where(per["then"] > 0, 1) * 100, np.inf
    )
    growth = pd.Series(growth_pct, index=per.index)
    hit = (increase >= _cents(cfg.min_increase)) & (growth >= cfg.min_growth_pct)
    sel = per[hit]
    g = growth[hit]
    cid = pd.Series(sel.index, index=sel.index)
    severity = pd.Series(
        np.where((g >= 100) & (sel["then"] > 0), "high", "medium"), index=sel.index
    )
    pct_text = g.where(np.isfinite(g), np.nan).round(1)
    return candidates(
        "payment_overdue_growth",
        customer_id=cid,
        subject="overdue",
        severity=severity,
        title="Overdue balance rose from "
        + money(sel["then"])
        + " to "
        + money(sel["now"])
        + " in "
        + str(cfg.window_days)
        + " days",
        action="move to collection stage 2 and call the customer",
        evidence={
            "overdue_now": money(sel["now"]),
            "overdue_before": money(sel["then"]),
            "window_days": cfg.window_days,
            "growth_pct": pct_text,
        },
    )


def payment_partial(frames: Frames, cfg: PartialPaymentsConfig) -> pd.DataFrame:
    """At least `min_count` recent invoices paid in part only."""
    rec = frames.get("receivables")
    paid = rec["paid_amount"].fillna(0).astype("int64")
    issued = rec["issue_date"].astype("float64")
    partial = (paid > 0) & (paid < rec["amount"].astype("int64"))
    partial &= issued >= frames.as_of - cfg.lookback_days
    sub = pd.DataFrame(
        {
            "customer_id": rec["customer_id"][partial],
            "short": (rec["amount"].astype("int64") - paid)[partial],
        }
    )
    per = sub.groupby("customer_id", sort=True).agg(count=("short", "size"), short=("short", "sum"))
    sel = per[per["count"] >= cfg.min_count]
    cid = pd.Series(sel.index, index=sel.index)
    severity = pd.Series(
        np.where(sel["count"] >= 2 * cfg.min_count, "medium", "low"), index=sel.index
    )
    return candidates(
        "payment_partial",
        customer_id=cid,
        subject="partial",
        severity=severity,
        title=sel["count"].astype(str)
        + " invoices paid in part in the last "
        + str(cfg.lookback_days)
        + " days ("
        + money(sel["short"])
        + " short)",
        action="call the customer about partial payments and review payment terms",
        evidence={
            "partial_invoices": sel["count"],
            "unpaid_remainder": money(sel["short"]),
            "lookback_days": cfg.lookback_days,
        },
    )

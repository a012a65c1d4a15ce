"""Payment rules: invoices past due, a growing overdue balance, repeated partial payments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskcli.services import book
from riskcli.services.monitoring.config import (
    OverdueGrowthConfig,
    PartialPaymentsConfig,
    PaymentOverdueConfig,
    _cents,
)
from riskcli.services.monitoring.frames import Frames, candidates, days_to_iso, money

_BUCKET_SEVERITY = np.array(["low", "medium", "high", "critical"], dtype=object)


def outstanding(receivables: pd.DataFrame) -> pd.Series:
    """Unpaid cents per invoice row on the as-of date (never negative); the loader gives what
    was paid by then (`book.paid_by`)."""
    paid = receivables["paid_amount"].fillna(0).astype("int64")
    return (receivables["amount"].astype("int64") - paid).clip(lower=0)


def overdue_invoices(frames: Frames) -> pd.DataFrame:
    """Open invoices past due on the as-of date: customer_id, invoice_number, due_date,
    outstanding, days_past_due (cached in the frames)."""
    cached = frames.facts.get("_overdue")
    if isinstance(cached, pd.DataFrame):
        return cached
    rec = frames.get("receivables")
    owed = outstanding(rec)
    due = rec["due_date"].astype("float64")
    dpd = frames.as_of - due
    hit = (owed > 0).to_numpy() & (dpd >= 1).fillna(False).to_numpy()
    out = pd.DataFrame(
        {
            "customer_id": rec["customer_id"].to_numpy()[hit],
            "invoice_number": rec["invoice_number"].astype(str).to_numpy()[hit],
            "due_date": due.to_numpy()[hit],
            "outstanding": owed.to_numpy()[hit],
            "days_past_due": dpd.to_numpy()[hit].astype(np.int64),
        }
    ).sort_values(["customer_id", "due_date", "invoice_number"], kind="stable")
    frames.facts["_overdue"] = out
    return out


def overdue_by_customer(frames: Frames) -> pd.DataFrame:
    """Per customer with an overdue invoice: overdue (cents), invoices, oldest_dpd,
    oldest_due (day number), cached."""
    cached = frames.facts.get("_overdue_by")
    if isinstance(cached, pd.DataFrame):
        return cached
    inv = overdue_invoices(frames)
    per = inv.groupby("customer_id", sort=True).agg(
        overdue=("outstanding", "sum"),
        invoices=("outstanding", "size"),
        oldest_dpd=("days_past_due", "max"),
        oldest_due=("due_date", "min"),
    )
    frames.facts["_overdue_by"] = per
    return per


#: invoices listed in a case's evidence (the oldest first); the count says how many in all
LISTED_INVOICES = 20


def invoice_lists(inv: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """The oldest `LISTED_INVOICES` overdue invoices of each customer in `ids` as lists of
    {invoice, due_date, days_past_due, outstanding}."""
    sub = inv[inv["customer_id"].isin(ids)]
    sub = sub[sub.groupby("customer_id", sort=False).cumcount() < LISTED_INVOICES]
    rows = pd.DataFrame(
        {
            "invoice": sub["invoice_number"].to_numpy(),
            "due_date": days_to_iso(pd.Series(sub["due_date"].to_numpy())).to_numpy(),
            "days_past_due": sub["days_past_due"].to_numpy(),
            "outstanding": money(pd.Series(sub["outstanding"].to_numpy())).to_numpy(),
        }
    )
    records = rows.to_dict("records")
    grouped: dict[int, list[dict[Any, Any]]] = {}
    for cid, record in zip(sub["customer_id"].tolist(), records, strict=True):
        grouped.setdefault(int(cid), []).append(record)
    return pd.Series([grouped.get(int(c), []) for c in ids], index=ids, dtype=object)


def stage_of(days: np.ndarray, thresholds: list[int]) -> np.ndarray:
    """Collection stage 1-4 of a number of days past due (0: not past the first threshold)."""
    out: np.ndarray = np.searchsorted(np.array(thresholds), days, side="right")
    return out


def payment_overdue(frames: Frames, cfg: PaymentOverdueConfig) -> pd.DataFrame:
    """One case per customer with overdue invoices totalling at least `min_amount`: the
    invoices, the total and the oldest days past due; the stage of the oldest one (1-4 at the
    thresholds) sets the severity and escalates the case."""
    per = overdue_by_customer(frames)
    per = per[(per["oldest_dpd"] >= cfg.thresholds[0]) & (per["overdue"] >= _cents(cfg.min_amount))]
    idx = per.index
    stage = pd.Series(stage_of(per["oldest_dpd"].to_numpy(), cfg.thresholds), index=idx)
    total = money(per["overdue"])
    days = per["oldest_dpd"].astype("int64")
    return candidates(
        "payment_overdue",
        customer_id=pd.Series(idx, index=idx),
        subject="overdue",
        severity=pd.Series(_BUCKET_SEVERITY[stage.to_numpy() - 1], index=idx),
        title=total
        + " overdue on "
        + per["invoices"].astype(str)
        + " invoice(s), oldest "
        + days.astype(str)
        + " days past due",
        action="move to collection stage " + stage.astype(str),
        evidence={
            "overdue": total,
            "invoices": per["invoices"],
            "oldest_days_past_due": days,
            "oldest_due_date": days_to_iso(per["oldest_due"]),
            "collection_stage": stage,
            "overdue_invoices": invoice_lists(overdue_invoices(frames), idx),
        },
    )


def payment_overdue_growth(frames: Frames, cfg: OverdueGrowthConfig) -> pd.DataFrame:
    """The customer's overdue balance grew by at least min_growth_pct and `min_amount`.

    The balance `window_days` ago is rebuilt from the invoices: what was already past due then,
    less what had been paid by then (a payment without a date counts as paid then).
    """
    rec = frames.get("receivables")
    then = frames.as_of - cfg.window_days
    due = rec["due_date"].astype("float64")
    amount = rec["amount"].astype("int64")
    paid = rec["paid_amount"].fillna(0).astype("int64")
    now_owed = (amount - paid).clip(lower=0).where(due < frames.as_of, 0)
    paid_then = book.paid_by_frame(rec["paid_amount"], rec["paid_date"].astype("float64"), then)
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
    hit = (increase >= _cents(cfg.min_amount)) & (growth >= cfg.min_growth_pct)
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
    """At least `min_count` recent invoices paid in part only, `min_amount` or more short."""
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
    sel = per[(per["count"] >= cfg.min_count) & (per["short"] >= _cents(cfg.min_amount))]
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

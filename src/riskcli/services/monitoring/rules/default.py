"""The default case: a customer in default (`book.default_state`, `[credit.default]`) goes to
recovery, one critical case, and the ordinary alert stream stops for it (see `engine`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from riskcli.services import book
from riskcli.services.money_columns import text_column
from riskcli.services.monitoring.config import DefaultCaseConfig
from riskcli.services.monitoring.frames import (
    EPOCH,
    Frames,
    candidates,
    days_to_iso,
    empty_candidates,
    labels,
)
from riskcli.services.monitoring.rules.exposure import exposure_by_customer
from riskcli.services.monitoring.rules.payment import (
    invoice_lists,
    overdue_by_customer,
    overdue_invoices,
)

#: the limitation period for a receivable (PRC Civil Code art. 188), from its due date
LIMITATION_YEARS = 3


def _shift(days: pd.Series, months: int) -> pd.Series:
    """Day numbers `months` later, clipped to the month's end (as `book.add_months`)."""
    out = [
        float((book.add_months(EPOCH + dt.timedelta(days=int(d)), months) - EPOCH).days)
        if pd.notna(d)
        else np.nan
        for d in days
    ]
    return pd.Series(out, index=days.index, dtype="float64")


def default(frames: Frames, cfg: DefaultCaseConfig) -> pd.DataFrame:
    """A customer in default: one critical case, action recovery / legal, listing the overdue
    invoices; from `limitation_warning_months` after the oldest open due date it warns that
    the 3-year limitation period (诉讼时效) is near."""
    state = frames.get("defaults").set_index("customer_id")
    idx = state.index
    if not len(idx):
        return empty_candidates()
    per = overdue_by_customer(frames).reindex(idx)
    exposure = exposure_by_customer(frames).reindex(idx).fillna(0)
    oldest_due = per["oldest_due"]
    warn_on = _shift(oldest_due, cfg.limitation_warning_months)
    ends_on = _shift(oldest_due, 12 * LIMITATION_YEARS)
    warn = (warn_on <= frames.as_of).fillna(False).to_numpy()
    policy = frames.facts.get("default_policy") or book.DefaultPolicy()
    late = text_column(state["default_amount"].round().astype("int64"))
    title = (
        "In default: "
        + late
        + f" more than {policy.days_past_due} days past due, exposure "
        + text_column(exposure.round().astype("int64"))
    )
    ends_text = days_to_iso(ends_on).astype(str)
    title = title + labels(
        np.where(warn, "; limitation period ends " + ends_text.to_numpy(dtype=object), ""), idx
    )
    action = labels(
        np.where(
            warn,
            "recovery / legal: the 3-year limitation period ends "
            + ends_text.to_numpy(dtype=object)
            + " - send a written demand or file suit before then",
            "recovery / legal: stop credit, demand payment in writing, prepare the claim",
        ),
        idx,
    )
    return candidates(
        "default",
        customer_id=pd.Series(idx, index=idx),
        subject="default",
        severity="critical",
        title=title,
        action=action,
        evidence={
            "amount_past_due": late,
            "days_past_due_threshold": policy.days_past_due,
            "exposure": text_column(exposure.round().astype("int64")),
            "overdue": text_column(per["overdue"].fillna(0).astype("int64")),
            "oldest_days_past_due": per["oldest_dpd"].astype("Int64"),
            "oldest_due_date": days_to_iso(oldest_due),
            "limitation_ends": days_to_iso(ends_on),
            "limitation_warning": pd.Series(warn, index=idx),
            "overdue_invoices": invoice_lists(overdue_invoices(frames), idx),
        },
    )

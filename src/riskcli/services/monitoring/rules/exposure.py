"""Exposure rules: outstanding receivables against the credit limit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.monitoring.config import ExposureLimitConfig, _cents
from riskcli.services.monitoring.frames import Frames, candidates, money
from riskcli.services.monitoring.rules.payment import outstanding


def exposure_by_customer(frames: Frames) -> pd.Series:
    """Outstanding cents per customer id (customers without receivables are absent)."""
    cached = frames.facts.get("_exposure")
    if isinstance(cached, pd.Series):
        return cached
    rec = frames.get("receivables")
    owed = outstanding(rec)
    per = owed.groupby(rec["customer_id"], sort=True).sum()
    per = per[per > 0]
    frames.facts["_exposure"] = per
    return per


def exposure_limit(frames: Frames, cfg: ExposureLimitConfig) -> pd.DataFrame:
    """Utilisation at or above `utilisation_pct` (medium), over the limit by `min_amount` or
    more (high: a breach), at or above `critical_pct` (critical); exposure below `min_amount`
    raises nothing."""
    customers = frames.get("customers").set_index("id")
    exposure = exposure_by_customer(frames)
    limit = customers["credit_limit"].reindex(exposure.index)
    ok = limit.notna() & (limit > 0)
    exposure, limit = exposure[ok], limit[ok].astype("int64")
    util = exposure / limit * 100
    floor = _cents(cfg.min_amount)
    breach = exposure - limit >= floor
    hit = (util >= cfg.utilisation_pct) & (exposure >= floor) & (breach | (util <= 100))
    exposure, limit, util, breach = exposure[hit], limit[hit], util[hit], breach[hit]
    severity = np.select(
        [breach & (util >= cfg.critical_pct), breach], ["critical", "high"], default="medium"
    )
    over = (exposure - limit).clip(lower=0)
    action = pd.Series(
        np.where(
            breach,
            "hold new orders until " + money(over) + " is collected, or raise the limit",
            "review the limit before accepting new orders",
        ),
        index=exposure.index,
    )
    util_text = util.round(1)
    return candidates(
        "exposure_limit",
        customer_id=pd.Series(exposure.index, index=exposure.index),
        subject="limit",
        severity=pd.Series(severity, index=exposure.index),
        title=pd.Series(
            np.where(breach, "Credit limit breached: ", "Credit limit nearly used: "),
            index=exposure.index,
        )
        + money(exposure)
        + " outstanding against a limit of "
        + money(limit)
        + " ("
        + util_text.astype(str)
        + "%)",
        action=action,
        evidence={
            "outstanding": money(exposure),
            "credit_limit": money(limit),
            "utilisation_pct": util_text,
            "over_limit": money(over),
        },
    )

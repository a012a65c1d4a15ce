"""Exposure rules: outstanding receivables against the credit limit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.domain.money import to_cents
from riskcli.services.money_columns import text_column
from riskcli.services.monitoring.config import ExposureLimitConfig
from riskcli.services.monitoring.frames import Frames, candidates
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


def group_exposure(frames: Frames) -> pd.Series:
    """Outstanding cents per customer group (the sum of its members'), empty without groups."""
    if not frames.has("groups") or frames.get("groups").empty:
        return pd.Series(dtype="int64")
    members = frames.get("groups").set_index("customer_id")["group"]
    exposure = exposure_by_customer(frames)
    owned = exposure.reindex(members.index).fillna(0)
    return owned.groupby(members).sum().astype("int64")


def names_exposure(frames: Frames) -> pd.Series:
    """Outstanding cents per name: a group counts as one name, a customer outside any group as
    one (single-name concentration looks at related companies together)."""
    exposure = exposure_by_customer(frames)
    if not frames.has("groups") or frames.get("groups").empty:
        return exposure
    members = frames.get("groups").set_index("customer_id")["group"]
    name = pd.Series(exposure.index.astype(str), index=exposure.index)
    grouped = members.reindex(exposure.index)
    name = ("group " + grouped.astype(str)).where(grouped.notna(), "customer " + name)
    return exposure.groupby(name).sum()


def _group_breaches(frames: Frames, cfg: ExposureLimitConfig) -> pd.DataFrame:
    """A group whose members together owe more than the group's own limit, by `min_amount` or
    more (high; critical at `critical_pct`)."""
    if not frames.has("group_limits") or frames.get("group_limits").empty:
        return pd.DataFrame()
    limits = frames.get("group_limits").set_index("group")["credit_limit"].astype("int64")
    owed = group_exposure(frames).reindex(limits.index).fillna(0).astype("int64")
    floor = to_cents(cfg.min_amount)
    hit = owed - limits >= floor
    owed, limits = owed[hit], limits[hit]
    if owed.empty:
        return pd.DataFrame()
    idx = pd.RangeIndex(len(owed))
    owed_s = pd.Series(owed.to_numpy(), index=idx)
    limit_s = pd.Series(limits.to_numpy(), index=idx)
    util = (owed_s / limit_s * 100).round(1)
    name = pd.Series(owed.index.astype(str), index=idx)
    return candidates(
        "exposure_limit",
        customer_id=None,
        subject="group=" + name,
        severity=pd.Series(np.where(util >= cfg.critical_pct, "critical", "high"), index=idx),
        title="Group limit breached: group " + name + " owes " + text_column(owed_s)
        + " against a group limit of " + text_column(limit_s) + " (" + util.astype(str) + "%)",
        action="hold new orders to the group's members until the excess is collected, or "
        "raise the group limit",
        evidence={
            "group": name,
            "outstanding": text_column(owed_s),
            "group_limit": text_column(limit_s),
            "utilisation_pct": util,
            "over_limit": text_column(owed_s - limit_s),
        },
        index=idx,
    )  # fmt: skip


def exposure_limit(frames: Frames, cfg: ExposureLimitConfig) -> pd.DataFrame:
    """Utilisation at or above `utilisation_pct` (medium), over the limit by `min_amount` or
    more (high: a breach), at or above `critical_pct` (critical); exposure below `min_amount`
    raises nothing. A customer group with its own limit is checked the same way on the sum of
    its members' exposure."""
    single = _customer_breaches(frames, cfg)
    groups = _group_breaches(frames, cfg)
    if groups.empty:
        return single
    return pd.concat([p for p in (single, groups) if not p.empty], ignore_index=True)


def _customer_breaches(frames: Frames, cfg: ExposureLimitConfig) -> pd.DataFrame:
    customers = frames.get("customers").set_index("id")
    exposure = exposure_by_customer(frames)
    limit = customers["credit_limit"].reindex(exposure.index)
    ok = limit.notna() & (limit > 0)
    exposure, limit = exposure[ok], limit[ok].astype("int64")
    util = exposure / limit * 100
    floor = to_cents(cfg.min_amount)
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
            "hold new orders until " + text_column(over) + " is collected, or raise the limit",
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
        + text_column(exposure)
        + " outstanding against a limit of "
        + text_column(limit)
        + " ("
        + util_text.astype(str)
        + "%)",
        action=action,
        evidence={
            "outstanding": text_column(exposure),
            "credit_limit": text_column(limit),
            "utilisation_pct": util_text,
            "over_limit": text_column(over),
        },
    )

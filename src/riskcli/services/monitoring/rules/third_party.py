"""Third-party rules: adverse flags in credit reports and bureau score drops."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.monitoring.config import AdverseFlagConfig, BureauDropConfig
from riskcli.services.monitoring.frames import (
    Frames,
    candidates,
    days_to_iso,
    empty_candidates,
)

_FLAG_WORDS = {
    "bankruptcy": "bankruptcy",
    "dishonest_debtor": "dishonest-debtor list",
    "lawsuit": "lawsuit",
    "tax_violation": "tax violation",
}
_FLAG_ACTIONS = {
    "bankruptcy": "stop credit and file the claim with the administrator",
    "dishonest_debtor": "stop credit; cash in advance only",
    "lawsuit": "review the case and reduce the limit",
    "tax_violation": "review the customer's finances and the limit",
}


def thirdparty_adverse_flag(frames: Frames, cfg: AdverseFlagConfig) -> pd.DataFrame:
    """The latest report of any provider carries an adverse flag.

    Keyed per customer and flag, so the alert fires once when the flag appears and
    auto-resolves when a later report no longer carries it.
    """
    reports = frames.get("credit_reports")
    reports = reports.assign(_prov=reports["provider"].fillna("").astype(str))
    ordered = reports.sort_values(["customer_id", "_prov", "report_date"], kind="stable")
    rank = ordered.groupby(["customer_id", "_prov"], sort=False).cumcount(ascending=False)
    latest = ordered[rank == 0]
    previous = ordered[rank == 1].set_index(["customer_id", "_prov"])
    parts = []
    for flag, severity in cfg.severities.items():
        if flag not in latest.columns:
            continue
        flagged = latest[latest[flag].fillna(0).astype("int64") == 1]
        flagged = flagged.drop_duplicates("customer_id", keep="last")
        if flagged.empty:
            continue
        before = previous[flag].reindex(
            pd.MultiIndex.from_arrays([flagged["customer_id"], flagged["_prov"]])
        )
        is_new = pd.Series((before.fillna(0).astype("int64") != 1).to_numpy(), index=flagged.index)
        word = _FLAG_WORDS.get(flag, flag)
        parts.append(
            candidates(
                "thirdparty_adverse_flag",
                customer_id=flagged["customer_id"],
                subject=flag,
                severity=severity,
                title="Credit report from "
                + flagged["_prov"]
                + " shows "
                + word
                + " ("
                + days_to_iso(flagged["report_date"]).astype(str)
                + ")",
                action=_FLAG_ACTIONS.get(flag, "review the customer"),
                evidence={
                    "flag": flag,
                    "provider": flagged["_prov"],
                    "report_date": days_to_iso(flagged["report_date"]),
                    "new_since_previous_report": is_new,
                },
            )
        )
    if not parts:
        return empty_candidates()
    return pd.concat(parts, ignore_index=True)


def thirdparty_bureau_drop(frames: Frames, cfg: BureauDropConfig) -> pd.DataFrame:
    """The bureau score of one provider fell by at least `drop_points` between its last two
    reports (high at twice that)."""
    reports = frames.get("credit_reports")
    reports = reports[reports["score"].notna()]
    reports = reports.assign(_prov=reports["provider"].fillna("").astype(str))
    ordered = reports.sort_values(["customer_id", "_prov", "report_date"], kind="stable")
    rank = ordered.groupby(["customer_id", "_prov"], sort=False).cumcount(ascending=False)
    latest = ordered[rank == 0].set_index(["customer_id", "_prov"])
    previous = ordered[rank == 1].set_index(["customer_id", "_prov"])
    latest = latest.loc[latest.index.intersection(previous.index)]
    previous = previous.loc[latest.index]
    drop = previous["score"].astype("float64") - latest["score"].astype("float64")
    hit = drop >= cfg.drop_points
    latest, previous, drop = latest[hit], previous[hit], drop[hit]
    flat = latest.reset_index()
    idx = flat.index
    drop_s = pd.Series(drop.to_numpy(), index=idx)
    severity = pd.Series(np.where(drop_s >= 2 * cfg.drop_points, "high", "medium"), index=idx)
    before = pd.Series(previous["score"].to_numpy(), index=idx)
    return candidates(
        "thirdparty_bureau_drop",
        customer_id=flat["customer_id"],
        subject=flat["_prov"],
        severity=severity,
        title="Bureau score from "
        + flat["_prov"]
        + " fell "
        + drop_s.round(1).astype(str)
        + " points to "
        + flat["score"].astype(str),
        action="re-score the customer and review the limit",
        evidence={
            "provider": flat["_prov"],
            "score_before": before,
            "score_now": flat["score"],
            "report_date_before": days_to_iso(
                pd.Series(previous["report_date"].to_numpy(), index=idx)
            ),
            "report_date_now": days_to_iso(flat["report_date"]),
            "drop": drop_s,
        },
    )

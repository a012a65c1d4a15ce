"""Third-party rules: adverse flags in credit reports and bureau score drops."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.domain.money import to_cents
from riskcli.services.monitoring.config import AdverseFlagConfig, BureauDropConfig
from riskcli.services.monitoring.frames import (
    Frames,
    candidates,
    days_to_iso,
    empty_candidates,
)
from riskcli.services.monitoring.rules.exposure import exposure_by_customer

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


def _last_two(reports: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest and the previous report per (customer, provider), indexed by
    (customer_id, _pcode); `_prov` holds the provider's name."""
    provider = reports["provider"]
    if isinstance(provider.dtype, pd.CategoricalDtype):
        codes = provider.cat.codes.to_numpy()
        names = np.array([str(c) for c in provider.cat.categories] + [""], dtype=object)
    else:
        codes, uniques = pd.factorize(provider.astype(object).fillna(""))
        names = np.array([str(u) for u in uniques] + [""], dtype=object)
    order = np.lexsort(
        (reports["report_date"].to_numpy(), codes, reports["customer_id"].to_numpy())
    )
    ordered = reports.iloc[order].assign(_pcode=codes[order])
    ordered["_prov"] = names[ordered["_pcode"].to_numpy()]
    rank = ordered.groupby(["customer_id", "_pcode"], sort=False).cumcount(ascending=False)
    latest = ordered[(rank == 0).to_numpy()].set_index(["customer_id", "_pcode"], drop=False)
    previous = ordered[(rank == 1).to_numpy()].set_index(["customer_id", "_pcode"], drop=False)
    return latest, previous


def thirdparty_adverse_flag(frames: Frames, cfg: AdverseFlagConfig) -> pd.DataFrame:
    """The latest report of any provider carries an adverse flag; a flag in `appear_only`
    (lawsuit, tax violation) only when it appeared since that provider's previous report, in
    a report of the last `appear_days`, with an exposure of `min_amount` or more.

    Keyed per customer and flag, so the alert fires once when the flag appears and
    auto-resolves when a later report no longer carries it.
    """
    latest, previous = _last_two(frames.get("credit_reports"))
    latest = latest.reset_index(drop=True)
    exposure = exposure_by_customer(frames) if frames.has("receivables") else pd.Series()
    parts = []
    for flag, severity in cfg.severities.items():
        if flag not in latest.columns:
            continue
        flagged = latest[latest[flag].fillna(0).astype("int64") == 1]
        flagged = flagged.drop_duplicates("customer_id", keep="last")
        if flagged.empty:
            continue
        before = previous[flag].reindex(
            pd.MultiIndex.from_arrays([flagged["customer_id"], flagged["_pcode"]])
        )
        is_new = pd.Series((before.fillna(0).astype("int64") != 1).to_numpy(), index=flagged.index)
        appeared = pd.Series((before.notna() & (before.fillna(0) != 1)).to_numpy(),
                             index=flagged.index)  # fmt: skip
        if flag in cfg.appear_only:
            owed = exposure.reindex(flagged["customer_id"]).fillna(0).to_numpy()
            keep = appeared.to_numpy() & (owed >= to_cents(cfg.min_amount))
            keep &= (flagged["report_date"] > frames.as_of - cfg.appear_days).to_numpy()
            flagged, is_new, appeared = flagged[keep], is_new[keep], appeared[keep]
            if flagged.empty:
                continue
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
                    "appeared_since_previous_report": appeared,
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
    latest, previous = _last_two(reports[reports["score"].notna()])
    latest = latest.loc[latest.index.intersection(previous.index)]
    previous = previous.loc[latest.index]
    drop = previous["score"].astype("float64") - latest["score"].astype("float64")
    hit = drop >= cfg.drop_points
    latest, previous, drop = latest[hit], previous[hit], drop[hit]
    flat = latest.reset_index(drop=True)
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

"""Portfolio rules: score drift against the champion model, exposure concentration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.domain.money import cents_text
from riskcli.services.money_columns import text_column
from riskcli.services.monitoring.config import ConcentrationConfig, ScorePsiConfig
from riskcli.services.monitoring.frames import (
    Frames,
    candidates,
    empty_candidates,
)
from riskcli.services.monitoring.rules.exposure import exposure_by_customer, names_exposure

#: proportions are floored at this before the log, so an empty bin does not make PSI infinite
_PSI_FLOOR = 1e-4


def psi(expected_share: np.ndarray, actual_count: np.ndarray) -> float:
    """Population stability index: sum((a - e) * ln(a / e)) over bins."""
    e = np.maximum(np.asarray(expected_share, dtype="float64"), _PSI_FLOOR)
    e = e / e.sum()
    total = float(np.sum(actual_count))
    if total == 0:
        return 0.0
    a = np.maximum(np.asarray(actual_count, dtype="float64") / total, _PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_counts(scores: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Counts of `scores` per bin [lower, upper); the first and last bins are open-ended."""
    edges = np.asarray(lower, dtype="float64")[1:]
    idx = np.searchsorted(edges, np.asarray(scores, dtype="float64"), side="right")
    return np.bincount(idx, minlength=len(lower))[: len(lower)]


def portfolio_score_psi(frames: Frames, cfg: ScorePsiConfig) -> pd.DataFrame:
    """PSI of the champion model's latest scores against its development population: medium
    at `warn`, high at `alert`; skipped until the model has scored the portfolio twice. The
    evidence carries the stability index of each factor (CSI)."""
    bins = frames.get("score_bins").sort_values("lower", kind="stable")
    current = frames.get("score_dist")["score"].dropna().to_numpy()
    if len(current) == 0 or bins.empty:
        return empty_candidates()
    counts = bin_counts(current, bins["lower"].to_numpy(), bins["upper"].to_numpy())
    value = psi(bins["expected_share"].to_numpy(), counts)
    if value < cfg.warn:
        return empty_candidates()
    severity = "high" if value >= cfg.alert else "medium"
    model = str(frames.facts.get("champion_model", "champion"))
    index = pd.RangeIndex(1)
    return candidates(
        "portfolio_score_psi",
        customer_id=None,
        subject="model=" + model,
        severity=severity,
        title=f"Score distribution drifted from model {model}: PSI {value:.3f}",
        action="review the model (PSI >= 0.25 means retrain)"
        if severity == "high"
        else "review the model",
        evidence={
            "model": model,
            "psi": round(value, 4),
            "scored_customers": len(current),
            "warn": cfg.warn,
            "alert": cfg.alert,
            "csi": pd.Series([dict(frames.facts.get("csi") or {})], index=index, dtype=object),
        },
        index=index,
    )


def portfolio_concentration(frames: Frames, cfg: ConcentrationConfig) -> pd.DataFrame:
    """One industry or region holds more than `max_share_pct`% of total outstanding exposure
    (high above halfway between that and 100%)."""
    exposure = exposure_by_customer(frames)
    if len(exposure) < cfg.min_customers or exposure.sum() <= 0:
        return empty_candidates()
    customers = frames.get("customers").set_index("id")
    total = int(exposure.sum())
    parts = []
    high_at = (cfg.max_share_pct + 100) / 2
    for dim in cfg.dimensions:
        if dim not in customers.columns:
            continue
        group = customers[dim].reindex(exposure.index).fillna("(none)").astype(str)
        per = exposure.groupby(group).sum()
        share = per / total * 100
        hit = share > cfg.max_share_pct
        per, share = per[hit], share[hit]
        if per.empty:
            continue
        idx = pd.RangeIndex(len(per))
        name = pd.Series(per.index.astype(str), index=idx)
        amount = pd.Series(per.to_numpy(), index=idx)
        pct = pd.Series(share.to_numpy(), index=idx).round(1)
        parts.append(
            candidates(
                "portfolio_concentration",
                customer_id=None,
                subject=dim + "=" + name,
                severity=pd.Series(np.where(pct >= high_at, "high", "medium"), index=idx),
                title=pct.astype(str) + "% of exposure is in " + dim + " " + name,
                action="limit new credit in this " + dim + " and review the largest exposures",
                evidence={
                    "dimension": dim,
                    "value": name,
                    "exposure": text_column(amount),
                    "total_exposure": text_column(pd.Series([total] * len(idx), index=idx)),
                    "share_pct": pct,
                    "max_share_pct": cfg.max_share_pct,
                },
                index=idx,
            )
        )
    parts.append(_single_names(names_exposure(frames), total, cfg))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_candidates()
    return pd.concat(parts, ignore_index=True)


def _single_names(exposure: pd.Series, total: int, cfg: ConcentrationConfig) -> pd.DataFrame:
    """The largest name over `single_name_pct` of exposure, the ten largest over `top10_pct`
    (medium; high at twice the threshold); a customer group counts as one name."""
    top = exposure.sort_values(ascending=False, kind="stable").head(10)
    largest = float(top.iloc[0]) / total * 100
    top10 = float(top.sum()) / total * 100
    rows = []
    if largest > cfg.single_name_pct:
        rows.append(("largest", largest, cfg.single_name_pct, top.head(1)))
    if top10 > cfg.top10_pct:
        rows.append(("top10", top10, cfg.top10_pct, top))
    if not rows:
        return empty_candidates()
    idx = pd.RangeIndex(len(rows))
    pct = pd.Series([round(r[1], 1) for r in rows], index=idx)
    limit = pd.Series([r[2] for r in rows], index=idx)
    words = pd.Series(
        ["the largest name" if r[0] == "largest" else "the ten largest names" for r in rows],
        index=idx,
    )
    return candidates(
        "portfolio_concentration",
        customer_id=None,
        subject=pd.Series(["single_name=" + r[0] for r in rows], index=idx),
        severity=pd.Series(np.where(pct >= 2 * limit, "high", "medium"), index=idx),
        title=pct.astype(str) + "% of exposure is with " + words,
        action="cap new credit to the largest names and review their limits",
        evidence={
            "measure": pd.Series([r[0] for r in rows], index=idx),
            "share_pct": pct,
            "max_share_pct": limit,
            "total_exposure": text_column(pd.Series([total] * len(idx), index=idx)),
            "largest_exposures": pd.Series(
                [[cents_text(int(v)) for v in r[3]] for r in rows], index=idx, dtype=object
            ),
        },
        index=idx,
    )

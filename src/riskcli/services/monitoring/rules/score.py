"""Score rules: grade downgrade or score drop between the last two score runs, and a
recommended limit below the current one. Fed by the scoring capability's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.monitoring.config import ScoreChangeConfig, ScoreLimitConfig
from riskcli.services.monitoring.frames import Frames, candidates, labels, money


def _last_two_runs(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    ordered = scores.sort_values(["customer_id", "run_seq"], kind="stable")
    rank = ordered.groupby("customer_id", sort=False).cumcount(ascending=False)
    return (
        ordered[rank == 0].set_index("customer_id"),
        ordered[rank == 1].set_index("customer_id"),
    )


def score_change(frames: Frames, cfg: ScoreChangeConfig) -> pd.DataFrame:
    """Grade downgrade (medium; high for two grades or more) or a score drop of at least
    `score_drop` points (low) since the customer's previous score run."""
    latest, previous = _last_two_runs(frames.get("scores"))
    both = latest.index.intersection(previous.index)
    latest, previous = latest.loc[both], previous.loc[both]
    order = {grade: rank for rank, grade in enumerate(cfg.grade_order)}
    g_now = latest["grade"].map(order).astype("float64")
    g_before = previous["grade"].map(order).astype("float64")
    steps = (g_now - g_before).fillna(0)
    drop = previous["score"].astype("float64") - latest["score"].astype("float64")
    hit = (steps > 0) | (drop >= cfg.score_drop)
    latest, previous, steps, drop = latest[hit], previous[hit], steps[hit], drop[hit]
    idx = latest.index
    severity = np.select([steps >= 2, steps >= 1], ["high", "medium"], default="low")
    grade_text = previous["grade"].astype(str) + " -> " + latest["grade"].astype(str)
    return candidates(
        "score_change",
        customer_id=pd.Series(idx, index=idx),
        subject="score",
        severity=pd.Series(severity, index=idx),
        title=labels(np.where(steps > 0, "Grade downgraded ", "Score fell "), idx)
        + grade_text
        + ", score "
        + previous["score"].round(1).astype(str)
        + " -> "
        + latest["score"].round(1).astype(str),
        action=pd.Series(
            np.where(
                steps > 0,
                "review the limit and the collection plan",
                "watch the customer; re-check at the next score run",
            ),
            index=idx,
        ),
        evidence={
            "grade_before": previous["grade"],
            "grade_now": latest["grade"],
            "score_before": previous["score"].astype("float64").round(2),
            "score_now": latest["score"].astype("float64").round(2),
            "score_drop": drop.round(2),
        },
    )


def score_limit(frames: Frames, cfg: ScoreLimitConfig) -> pd.DataFrame:
    """The latest recommended limit is below the current limit (by more than `min_gap_pct`);
    high when it is half the current limit or less."""
    latest, _ = _last_two_runs(frames.get("scores"))
    rec_limit = latest["recommended_limit"]
    customers = frames.get("customers").set_index("id")
    current = customers["credit_limit"].reindex(rec_limit.index)
    ok = rec_limit.notna() & current.notna() & (current > 0)
    rec_limit, current = rec_limit[ok].astype("int64"), current[ok].astype("int64")
    hit = rec_limit < current * (1 - cfg.min_gap_pct / 100)
    rec_limit, current = rec_limit[hit], current[hit]
    idx = rec_limit.index
    severity = pd.Series(np.where(rec_limit <= current / 2, "high", "medium"), index=idx)
    return candidates(
        "score_limit",
        customer_id=pd.Series(idx, index=idx),
        subject="limit",
        severity=severity,
        title="Recommended limit "
        + money(rec_limit)
        + " is below the current limit "
        + money(current),
        action="reduce the limit to " + money(rec_limit),
        evidence={
            "credit_limit": money(current),
            "recommended_limit": money(rec_limit),
            "reduction_pct": ((1 - rec_limit / current) * 100).round(1),
        },
    )

"""Score rules: a material change between two runs of the same model, and exposure beyond the
recommended limit. Fed by the scoring capability's tables (see `sources.load_scores`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.domain.money import to_cents
from riskcli.services.money_columns import text_column
from riskcli.services.monitoring.config import ScoreChangeConfig, ScoreLimitConfig
from riskcli.services.monitoring.frames import Frames, candidates, labels
from riskcli.services.monitoring.rules.exposure import exposure_by_customer


def _last_two_runs(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    ordered = scores.sort_values(["customer_id", "run_seq"], kind="stable")
    rank = ordered.groupby("customer_id", sort=False).cumcount(ascending=False)
    return (
        ordered[rank == 0].set_index("customer_id"),
        ordered[rank == 1].set_index("customer_id"),
    )


def score_change(frames: Frames, cfg: ScoreChangeConfig) -> pd.DataFrame:
    """Since the previous run of the same model: a move into `watch_grade` or worse (medium),
    a drop of `grade_steps` grades or more (high), or a score drop of at least `pdo_multiple`
    x the model's points-to-double-odds (low). Smaller moves wait for the credit review."""
    latest, previous = _last_two_runs(frames.get("scores"))
    both = latest.index.intersection(previous.index)
    latest, previous = latest.loc[both], previous.loc[both]
    order = {grade: rank for rank, grade in enumerate(cfg.grade_order)}
    g_now = latest["grade"].map(order).astype("float64")
    g_before = previous["grade"].map(order).astype("float64")
    steps = (g_now - g_before).fillna(0)
    watch = order[cfg.watch_grade]
    into = ((g_now >= watch) & (g_before < watch)).to_numpy()
    drop = previous["score"].astype("float64") - latest["score"].astype("float64")
    min_drop = cfg.pdo_multiple * float(frames.facts.get("pdo", 20.0))
    hit = into | (steps >= cfg.grade_steps).to_numpy() | (drop >= min_drop).to_numpy()
    latest, previous, steps, drop = latest[hit], previous[hit], steps[hit], drop[hit]
    into = into[hit]
    idx = latest.index
    severity = np.select([steps >= cfg.grade_steps, into | (steps >= 1)], ["high", "medium"], "low")
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
                "review the customer before the next order",
            ),
            index=idx,
        ),
        evidence={
            "grade_before": previous["grade"],
            "grade_now": latest["grade"],
            "score_before": previous["score"].astype("float64").round(2),
            "score_now": latest["score"].astype("float64").round(2),
            "score_drop": drop.round(2),
            "min_score_drop": round(min_drop, 2),
        },
    )


def score_limit(frames: Frames, cfg: ScoreLimitConfig) -> pd.DataFrame:
    """Exposure above the latest recommended limit by `min_amount` and `min_share_pct` or
    more (high when the
    recommended limit is 0), or a grade in `grades` (D, E: medium) with an exposure of
    `min_amount` or more."""
    latest, _ = _last_two_runs(frames.get("scores"))
    exposure = exposure_by_customer(frames).reindex(latest.index).fillna(0).astype("int64")
    recommended = latest["recommended_limit"].astype("int64")
    excess = exposure - recommended
    over = (excess >= to_cents(cfg.min_amount)).to_numpy().copy()
    over &= (excess >= recommended * cfg.min_share_pct / 100).to_numpy()
    weak = latest["grade"].isin(cfg.grades).to_numpy().copy()
    weak &= (exposure >= to_cents(cfg.min_amount)).to_numpy()
    hit = over | weak
    latest, exposure, recommended = latest[hit], exposure[hit], recommended[hit]
    excess, over = excess[hit], over[hit]
    idx = latest.index
    severity = np.where(over & (recommended <= 0).to_numpy(), "high", "medium")
    action = np.where(
        over,
        "hold new orders above the recommended limit; reduce the limit to "
        + text_column(recommended).to_numpy(dtype=object),
        "review the limit and ask for security or cash in advance",
    )
    return candidates(
        "score_limit",
        customer_id=pd.Series(idx, index=idx),
        subject="limit",
        severity=pd.Series(severity, index=idx),
        title=labels(
            np.where(
                over,
                "Exposure " + text_column(exposure).to_numpy(dtype=object) + " is above the "
                "recommended limit " + text_column(recommended).to_numpy(dtype=object),
                "Grade "
                + latest["grade"].astype(str).to_numpy(dtype=object)
                + " with exposure "
                + text_column(exposure).to_numpy(dtype=object),
            ),
            idx,
        ),
        action=labels(action, idx),
        evidence={
            "grade": latest["grade"],
            "exposure": text_column(exposure),
            "recommended_limit": text_column(recommended),
            "above_recommended": text_column(excess.clip(lower=0)),
        },
    )

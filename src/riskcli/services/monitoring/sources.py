"""Optional sources owned by other capabilities: tiers (m010_tiering) and scores (m020_scoring).

They are read only when their tables exist and hold a run; otherwise the frame stays absent and
`frames.missing` says why, so the rules that need it are skipped with that reason.

- `tiers`: the latest tier run's tier per customer (only the tiers a rule watches);
- `scores`: the last two score runs, for the customers where a score rule can fire (a score or
  grade change, or a recommended limit below the current one) — SQLite does that pre-filter;
- `score_dist` / `score_bins`: the champion model's latest run and the development score bands
  kept in its validation report (`score_bands.edges` / `development_shares`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from riskcli.services.monitoring.frames import Frames


def _frame(store: Any, sql: str, params: tuple[Any, ...], columns: list[str]) -> pd.DataFrame:
    rows = store.conn.execute(sql, params).fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def _absent(frames: Frames, names: tuple[str, ...], why: str) -> None:
    for name in names:
        frames.frames[name] = None
        frames.missing[name] = why


def load_optional(
    store: Any,
    frames: Frames,
    wanted: set[str],
    *,
    tiers: tuple[str, ...] = ("A", "B"),
    score_drop: float = 30.0,
) -> None:
    tables = set(store.tables())
    if "tiers" in wanted:
        load_tiers(store, frames, tables, tiers)
    if "scores" in wanted:
        load_scores(store, frames, tables, score_drop)
    if wanted & {"score_dist", "score_bins"}:
        load_score_distribution(store, frames, tables)


def load_tiers(store: Any, frames: Frames, tables: set[str], tiers: tuple[str, ...]) -> None:
    if not {"tier_runs", "tier_results"} <= tables:
        _absent(frames, ("tiers",), "no tiering tables in the store (m010_tiering)")
        return
    run_id = store.scalar("SELECT max(id) FROM tier_runs")
    if run_id is None:
        _absent(frames, ("tiers",), "no tier run yet (riskcli tier run)")
        return
    marks = ",".join("?" * len(tiers)) or "NULL"
    frames.frames["tiers"] = _frame(
        store,
        f"SELECT customer_id, tier FROM tier_results WHERE run_id = ? AND tier IN ({marks})",
        (run_id, *tiers),
        ["customer_id", "tier"],
    )
    frames.facts["tier_run_id"] = int(run_id)


def load_scores(store: Any, frames: Frames, tables: set[str], score_drop: float) -> None:
    if not {"score_runs", "scores"} <= tables:
        _absent(frames, ("scores",), "no scoring tables in the store (m020_scoring)")
        return
    runs = [int(r[0]) for r in store.execute("SELECT id FROM score_runs ORDER BY id DESC LIMIT 2")]
    if not runs:
        _absent(frames, ("scores",), "no score run yet (riskcli score run)")
        return
    latest, previous = runs[0], (runs[1] if len(runs) > 1 else -1)
    sql = """
    SELECT s.customer_id, s.run_id, s.score, s.grade, s.recommended_limit FROM scores s
    WHERE s.run_id IN (?, ?) AND s.customer_id IN (
        SELECT l.customer_id FROM scores l
        LEFT JOIN scores p ON p.run_id = ? AND p.customer_id = l.customer_id
        LEFT JOIN customers c ON c.id = l.customer_id
        WHERE l.run_id = ? AND (
            (p.customer_id IS NOT NULL AND (p.score - l.score >= ? OR p.grade != l.grade))
            OR l.recommended_limit < c.credit_limit))
    """
    frames.frames["scores"] = _frame(
        store,
        sql,
        (latest, previous, previous, latest, score_drop),
        ["customer_id", "run_seq", "score", "grade", "recommended_limit"],
    )
    frames.facts["score_runs"] = runs


def load_score_distribution(store: Any, frames: Frames, tables: set[str]) -> None:
    names = ("score_dist", "score_bins")
    if not {"score_models", "score_runs", "scores"} <= tables:
        _absent(frames, names, "no scoring tables in the store (m020_scoring)")
        return
    champion = store.query(
        "SELECT id, name, version, report FROM score_models WHERE status = 'champion'"
    )
    if not champion:
        _absent(frames, names, "no champion model (riskcli score promote)")
        return
    model = champion[0]
    try:
        bands = json.loads(model["report"]).get("score_bands") or {}
        edges = [float(e) for e in bands["edges"]]
        shares = [float(v) for v in bands["development_shares"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        _absent(frames, names, "the champion model keeps no development score bands")
        return
    if len(shares) != len(edges) + 1:
        _absent(frames, names, "the champion model's score bands are inconsistent")
        return
    run_id = store.scalar("SELECT max(id) FROM score_runs WHERE model_id = ?", (model["id"],))
    if run_id is None:
        _absent(frames, names, "the champion model has no score run yet")
        return
    rows = store.conn.execute("SELECT score FROM scores WHERE run_id = ?", (run_id,)).fetchall()
    frames.frames["score_dist"] = pd.DataFrame(
        {"score": np.array(rows, dtype=np.float64).reshape(-1)}
    )
    frames.frames["score_bins"] = pd.DataFrame(
        {
            "lower": [-np.inf, *edges],
            "upper": [*edges, np.inf],
            "expected_share": shares,
        }
    )
    frames.facts["champion_model"] = f"{model['name']} v{model['version']}"

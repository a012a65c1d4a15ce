"""A registered model on data of one's own: a file scored with it, its metrics on a labelled
file or on the store's outcomes, and two models compared on the same data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as store_factors
from riskcli.services.scoring.card import Scorecard
from riskcli.services.scoring.columns import parse_target
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.data import read_table
from riskcli.services.scoring.points import score_frame
from riskcli.services.scoring.registry import ModelRecord, get_model
from riskcli.services.scoring.validation import clean, evaluate
from riskcli.storage.store import Store


def scored_columns(card: Scorecard, frame: pd.DataFrame) -> pd.DataFrame:
    s = score_frame(card, frame)
    out = pd.DataFrame(
        {
            "score": s.score,
            "pd": np.round(np.asarray(s.pd, dtype=np.float64), 6),
            "grade": s.grade,
        },
        index=frame.index,
    )
    for j in range(s.reasons.shape[1]):
        out[f"reason{j + 1}"] = s.reasons[:, j]
    return out


def apply_to_file(store: Store, ref: str | None, path: Path) -> tuple[ModelRecord, pd.DataFrame]:
    model = get_model(store, ref)
    frame, _ = read_table(path)
    return model, pd.concat([frame, scored_columns(model.card, frame)], axis=1)


def validate_on_file(
    store: Store, ref: str | None, path: Path, target: str, bad: str | None = None
) -> tuple[ModelRecord, dict[str, Any]]:
    model = get_model(store, ref)
    frame, sha = read_table(path)
    if target not in frame.columns:
        raise InputError(f"--target column {target!r} is not in the file")
    keep = frame[target].astype(str).str.strip() != ""
    frame = frame[keep.to_numpy()].reset_index(drop=True)
    y = parse_target(frame[target], bad)
    return model, _evaluate_model(model, frame, y) | {"data": path.name, "fingerprint": sha}


def _evaluate_model(model: ModelRecord, frame: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    bands = model.report.get("score_bands") or {}
    if int(np.sum(y)) == 0 or int(np.sum(y)) == len(y):
        raise InputError("the outcome has only one class on this data; nothing to validate")
    out = evaluate(
        model.card,
        frame,
        y,
        dev_edges=bands.get("edges"),
        dev_shares=bands.get("development_shares"),
    )
    return dict(clean(out))


def validate_on_store(
    store: Store, ref: str | None, cfg: ScoringConfig, as_of: date, horizon: str | None
) -> tuple[ModelRecord, dict[str, Any]]:
    model = get_model(store, ref)
    days = store_factors.parse_horizon(horizon or cfg.horizon)
    frame, y, _, notes = store_factors.training_frame(
        store, as_of, days, target=cfg.target, policy=cfg.default_policy
    )
    return model, _evaluate_model(model, frame, y) | {"data": notes}


def compare(
    store: Store,
    a: str,
    b: str,
    cfg: ScoringConfig,
    *,
    path: Path | None = None,
    target: str | None = None,
    bad: str | None = None,
    as_of: date | None = None,
    horizon: str | None = None,
) -> list[dict[str, Any]]:
    """Both models' metrics on the same data, side by side (one row per metric)."""
    results = []
    for ref in (a, b):
        if path is not None:
            if target is None:
                raise InputError("--target is needed with --data")
            model, rep = validate_on_file(store, ref, path, target, bad)
        else:
            if as_of is None:
                raise InputError("give --data FILE --target COLUMN, or --as-of DATE")
            model, rep = validate_on_store(store, ref, cfg, as_of, horizon)
        results.append((model, rep))
    (ma, ra), (mb, rb) = results
    rows: list[dict[str, Any]] = [
        {"metric": "model", "a": ma.label, "b": mb.label},
        {"metric": "kind", "a": ma.kind, "b": mb.kind},
        {"metric": "factors", "a": len(ma.card.factors), "b": len(mb.card.factors)},
    ]
    for key in ("auc", "gini", "ks", "brier", "count", "bads", "bad_rate"):
        rows.append({"metric": key, "a": ra["metrics"][key], "b": rb["metrics"][key]})
    rows.append({"metric": "psi", "a": ra.get("psi"), "b": rb.get("psi")})
    for ga, gb in zip(ra["by_grade"], rb["by_grade"], strict=False):
        rows.append(
            {
                "metric": f"bad rate grade {ga['grade']}/{gb['grade']}",
                "a": f"{ga['bad_rate']} ({ga['count']})",
                "b": f"{gb['bad_rate']} ({gb['count']})",
            }
        )
    return rows

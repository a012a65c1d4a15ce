"""Developing and registering scorecards: trained on a file or on the store as of a date, or
an expert's scorecard from TOML or the configuration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as store_factors
from riskcli.services.scoring.card import points_table
from riskcli.services.scoring.columns import parse_target
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.data import pick_factors, read_table
from riskcli.services.scoring.expert import default_expert, expert_scorecard, load_expert_file
from riskcli.services.scoring.factor_columns import (
    DEFAULT_EXCLUDE,
    FACTOR_DESCRIPTIONS,
    STORE_FACTORS,
)
from riskcli.services.scoring.registry import ModelRecord, save_model
from riskcli.services.scoring.validation import clean, develop
from riskcli.storage.activity import latest_activity
from riskcli.storage.store import Store

Progress = Callable[[str], None]


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    val = report.get("validation", {})
    return {
        "auc": val.get("auc"),
        "gini": val.get("gini"),
        "ks": val.get("ks"),
        "brier": val.get("brier"),
        "psi": report.get("psi"),
        "method": report.get("method"),
    }


def _frame_fingerprint(frame: pd.DataFrame, y: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(",".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    h.update(np.asarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()


def train_from_file(
    store: Store,
    path: Path,
    target: str,
    cfg: ScoringConfig,
    *,
    bad: str | None = None,
    factors: list[str] | None = None,
    exclude: list[str] | None = None,
    date_column: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> ModelRecord:
    frame, sha = read_table(path)
    cols = pick_factors(frame, target, factors=factors, exclude=exclude, date_column=date_column)
    tgt = frame[target].astype(object)
    blank = tgt.isna() | (tgt.astype(str).str.strip() == "")
    kept = frame[~blank.to_numpy()].reset_index(drop=True)
    if kept.empty:
        raise InputError(f"the target column {target!r} is empty")
    y = parse_target(kept[target], bad)
    dates = kept[date_column] if date_column else None
    dev = develop(
        kept[cols],
        y,
        cfg.scorecard_params(),
        target=target,
        dates=dates,
        holdout=cfg.holdout,
        folds=cfg.folds,
        with_challenger=cfg.challenger,
        seed=cfg.seed,
        progress=progress,
    )
    report = {
        **dev.report,
        "data": {"file": path.name, "rows": len(kept), "rows_without_target": int(blank.sum())},
    }
    params = {
        "config": cfg.model_dump(mode="json", exclude={"expert"}),
        "target": target,
        "bad": bad,
        "factors": cols,
        "date_column": date_column,
    }
    return save_model(
        store,
        dev.scorecard,
        name=name or path.stem,
        source=f"file:{path.name}",
        params=params,
        fingerprint=sha,
        metrics=_headline(report),
        report=report,
    )


def train_from_store(
    store: Store,
    cfg: ScoringConfig,
    *,
    as_of: date | None = None,
    horizon: str | None = None,
    name: str = "store",
    progress: Progress | None = None,
) -> ModelRecord:
    horizon_days = store_factors.parse_horizon(horizon or cfg.horizon)
    if as_of is None:
        latest = latest_activity(store)
        if latest is None:
            raise InputError("the store holds no transactions or receivables to train on")
        as_of = date.fromordinal(latest.toordinal() - horizon_days)
    frame, y, dates, notes = store_factors.training_frame(
        store,
        as_of,
        horizon_days,
        snapshots=cfg.snapshots,
        progress=progress,
        target=cfg.target,
        policy=cfg.default_policy,
    )
    candidates = [c for c in STORE_FACTORS if c not in DEFAULT_EXCLUDE]
    dev = develop(
        frame[candidates],
        y,
        cfg.scorecard_params(),
        target=(
            f"entered default within {horizon_days} days"
            if cfg.target == "default"
            else f"90+ days past due within {horizon_days} days"
        ),
        dates=dates if cfg.snapshots > 1 else None,
        holdout=cfg.holdout,
        folds=cfg.folds,
        with_challenger=cfg.challenger,
        seed=cfg.seed,
        descriptions=FACTOR_DESCRIPTIONS,
        progress=progress,
    )
    card = dev.scorecard.model_copy(update={"overrides": _default_overrides()})
    report = {**dev.report, "data": {"store": True, **notes, "rows": len(frame)}}
    params = {
        "config": cfg.model_dump(mode="json", exclude={"expert"}),
        "as_of": as_of.isoformat(),
        "horizon_days": horizon_days,
        "factors": candidates,
    }
    return save_model(
        store,
        card,
        name=name,
        source=f"store as of {as_of.isoformat()}",
        params=params,
        fingerprint=_frame_fingerprint(frame[candidates], y),
        metrics=_headline(report),
        report=clean(report),
    )


def _default_overrides() -> list[Any]:
    card, _ = expert_scorecard(default_expert())
    return list(card.overrides)


def setup_expert(
    store: Store, cfg: ScoringConfig, *, path: Path | None = None, name: str | None = None
) -> ModelRecord:
    """Register the expert scorecard: a TOML file, else [scoring.expert], else the default."""
    if path is not None:
        data, source = load_expert_file(path), f"file:{path.name}"
    elif cfg.expert:
        data, source = cfg.expert, "config [scoring.expert]"
    else:
        data, source = default_expert(), "default expert scorecard"
    card, spec = expert_scorecard(data)
    unknown = [f.name for f in card.factors if f.name not in STORE_FACTORS]
    unknown += [o.factor for o in card.overrides if o.factor not in STORE_FACTORS]
    if unknown:
        raise InputError(
            f"the expert scorecard names unknown factor(s): {', '.join(unknown)} "
            f"(known: {', '.join(STORE_FACTORS)})"
        )
    text = json.dumps(card.to_json_dict(), sort_keys=True)
    return save_model(
        store,
        card,
        name=name or spec.name,
        source=source,
        params={"expert": data},
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        metrics={},
        report={"points": points_table(card), "description": spec.description},
    )

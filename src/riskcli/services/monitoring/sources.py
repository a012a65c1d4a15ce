"""Optional sources owned by other capabilities: tiers (m010_tiering) and scores (m020_scoring).

They are read only when their tables exist and hold a run; otherwise the frame stays absent and
`frames.missing` says why, so the rules that need it are skipped with that reason.

Everything is as of the run's date: the latest tier run and score run dated on or before it.

- `tiers`: the latest tier run's tier per customer (only the tiers a rule watches);
- `scores`: the latest score run (grade, PD, recommended limit of every customer) and the
  previous run of the same model;
- `score_dist` / `score_bins`: the champion model's latest run and the development score bands
  kept in its validation report (`score_bands.edges` / `development_shares`);
- `defaults`: the customers in default on the date (`book.default_state`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd

from riskcli.services import book
from riskcli.services.monitoring import fetch
from riskcli.services.monitoring.frames import Frames, iso_date
from riskcli.storage.store import Store


def _frame(store: Store, sql: str, params: tuple[Any, ...], columns: list[str]) -> pd.DataFrame:
    rows = store.conn.execute(sql, params).fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def _absent(frames: Frames, names: tuple[str, ...], why: str) -> None:
    for name in names:
        frames.frames[name] = None
        frames.missing[name] = why


def load_optional(
    store: Store,
    frames: Frames,
    wanted: set[str],
    *,
    tiers: tuple[str, ...] = ("A", "B"),
    credit: book.CreditConfig | None = None,
) -> None:
    tables = set(store.tables())
    if "tiers" in wanted:
        load_tiers(store, frames, tables, tiers)
    if "scores" in wanted:
        load_scores(store, frames, tables)
    if wanted & {"score_dist", "score_bins"}:
        load_score_distribution(store, frames, tables)
    if "defaults" in wanted:
        load_defaults(store, frames, credit or book.CreditConfig())
    if "groups" in wanted:
        load_groups(store, frames)


def load_groups(store: Store, frames: Frames) -> None:
    """Customer groups (group_id / parent_id, riskcli.services.limits.groups) and the groups'
    own limits: `groups` holds customer pk -> group, `group_limits` group -> limit (cents)."""
    from riskcli.services.limits.groups import memberships

    members = memberships(store)
    frames.frames["groups"] = pd.DataFrame(
        {"customer_id": members["id"].astype("int64"), "group": members["group"].astype(str)}
    )
    frames.frames["group_limits"] = store.query_df(
        'SELECT group_id AS "group", credit_limit FROM group_limits WHERE credit_limit > 0'
    )


def _as_of(frames: Frames) -> str:
    return iso_date(frames.as_of)


def load_defaults(store: Store, frames: Frames, credit: book.CreditConfig) -> None:
    """Customers in default on the as-of date (`book.default_state`), with the amount more
    than N days past due; `facts["lgd"]` keeps the loss policy for the priority."""
    state = book.default_state(store, dt.date.fromisoformat(_as_of(frames)), credit.default)
    keep = state.in_default
    frames.frames["defaults"] = pd.DataFrame(
        {"customer_id": state.ids[keep], "default_amount": state.amount[keep]}
    )
    frames.facts["loss"] = credit.loss
    frames.facts["default_policy"] = credit.default


def load_tiers(store: Store, frames: Frames, tables: set[str], tiers: tuple[str, ...]) -> None:
    if not {"tier_runs", "tier_results"} <= tables:
        _absent(frames, ("tiers",), "no tiering tables in the store (m010_tiering)")
        return
    run_id = store.scalar("SELECT max(id) FROM tier_runs WHERE as_of <= ?", (_as_of(frames),))
    if run_id is None:
        _absent(frames, ("tiers",), "no tier run as of the date yet (riskcli tier run)")
        return
    marks = ",".join("?" * len(tiers)) or "NULL"
    frames.frames["tiers"] = _frame(
        store,
        f"SELECT customer_id, tier FROM tier_results WHERE run_id = ? AND tier IN ({marks})",
        (run_id, *tiers),
        ["customer_id", "tier"],
    )
    frames.facts["tier_run_id"] = int(run_id)


#: grades kept as codes while loading (any other grade reads as blank)
GRADES = ("A", "B", "C", "D", "E", "DF")
_SCALE = 1_000_000


def _run_scores(store: Store, run_id: int, seq: int) -> pd.DataFrame:
    """One score run's rows as numbers (score and PD scaled to integers in SQL)."""
    whens = " ".join(f"WHEN '{g}' THEN {i}" for i, g in enumerate(GRADES))
    lo, hi = fetch.id_range(store, "customers")
    m = fetch.packed_ints(
        store,
        ["customer_id", f"CAST(round(score * {_SCALE}) AS INTEGER)",
         f"CAST(round(pd * {_SCALE}) AS INTEGER)", f"CASE grade {whens} ELSE -1 END",
         "recommended_limit"],
        "scores", "run_id = ?", (run_id,), key="customer_id", lo=lo, hi=hi,
    )  # fmt: skip
    grades = np.array([*GRADES, ""], dtype=object)
    return pd.DataFrame(
        {
            "customer_id": m[:, 0],
            "run_seq": seq,
            "score": m[:, 1] / _SCALE,
            "grade": grades[np.where(m[:, 3] < 0, len(GRADES), m[:, 3])],
            "recommended_limit": m[:, 4],
            "pd": m[:, 2] / _SCALE,
        }
    )


def load_scores(store: Store, frames: Frames, tables: set[str]) -> None:
    """The latest score run as of the date (every customer it scored: grade, PD, recommended
    limit) and the previous run *of the same model*: a model change is not a customer change,
    so a new champion's first run has nothing to compare with."""
    if not {"score_runs", "scores", "score_models"} <= tables:
        _absent(frames, ("scores",), "no scoring tables in the store (m020_scoring)")
        return
    latest = store.conn.execute(
        "SELECT r.id, r.model_id, m.model FROM score_runs r JOIN score_models m "
        "ON m.id = r.model_id WHERE r.as_of <= ? ORDER BY r.id DESC LIMIT 1",
        (_as_of(frames),),
    ).fetchone()
    if latest is None:
        _absent(frames, ("scores",), "no score run as of the date yet (riskcli score run)")
        return
    run_id, model_id, model_json = int(latest[0]), int(latest[1]), latest[2]
    previous = store.scalar(
        "SELECT max(id) FROM score_runs WHERE model_id = ? AND id < ? AND as_of <= ?",
        (model_id, run_id, _as_of(frames)),
    )
    parts = [_run_scores(store, run_id, 2)]
    if previous is not None:
        parts.append(_run_scores(store, int(previous), 1))
    frames.frames["scores"] = pd.concat(parts, ignore_index=True)
    frames.facts["score_runs"] = [run_id] + ([int(previous)] if previous is not None else [])
    try:
        frames.facts["pdo"] = float(json.loads(model_json)["scaling"]["pdo"])
    except (ValueError, KeyError, TypeError):
        frames.facts["pdo"] = 20.0


def load_score_distribution(store: Store, frames: Frames, tables: set[str]) -> None:
    """The champion's latest run as of the date against its development population, once the
    champion has scored the portfolio twice (its first run is its development look-alike);
    per factor, the share of customers in each bin now (`csi`) against the development
    counts where the model keeps them."""
    names = ("score_dist", "score_bins")
    if not {"score_models", "score_runs", "scores"} <= tables:
        _absent(frames, names, "no scoring tables in the store (m020_scoring)")
        return
    champion = store.query(
        "SELECT id, name, version, report, model FROM score_models WHERE status = 'champion'"
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
    runs = [
        int(r[0])
        for r in store.execute(
            "SELECT id FROM score_runs WHERE model_id = ? AND as_of <= ? ORDER BY id DESC",
            (model["id"], _as_of(frames)),
        )
    ]
    if len(runs) < 2:
        _absent(frames, names, "the champion model has not scored the portfolio twice yet")
        return
    rows = store.conn.execute("SELECT score, bins FROM scores WHERE run_id = ?", (runs[0],))
    scores: list[float] = []
    blobs: list[bytes] = []
    for score, blob in rows:
        scores.append(score)
        blobs.append(bytes(blob))
    frames.frames["score_dist"] = pd.DataFrame({"score": np.array(scores, dtype=np.float64)})
    frames.frames["score_bins"] = pd.DataFrame(
        {
            "lower": [-np.inf, *edges],
            "upper": [*edges, np.inf],
            "expected_share": shares,
        }
    )
    frames.facts["champion_model"] = f"{model['name']} v{model['version']}"
    frames.facts["csi"] = factor_csi(json.loads(model["model"]), blobs)


def factor_csi(card: dict[str, Any], blobs: list[bytes]) -> dict[str, float]:
    """Characteristic stability index per factor: PSI of the share of customers in each of
    its bins now against the development counts kept in the model (factors without counts,
    e.g. of an expert card, are left out)."""
    from riskcli.services.monitoring.rules.portfolio import psi

    factors = card.get("factors") or []
    if not blobs or not factors:
        return {}
    width = len(blobs[0])
    if any(len(b) != width for b in blobs):
        return {}
    matrix = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(-1, width)
    out: dict[str, float] = {}
    for k, factor in enumerate(factors[:width]):
        counts = np.array([float(b.get("count", 0)) for b in factor.get("bins", [])])
        if not len(counts) or counts.sum() <= 0:
            continue
        now = np.bincount(matrix[:, k], minlength=len(counts))[: len(counts)]
        out[str(factor.get("name"))] = round(psi(counts / counts.sum(), now), 4)
    return out

"""What each `riskcli score` command does, one function per command. Never prints.

Every writing function works inside one transaction: an error leaves nothing stored.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as store_factors
from riskcli.services.scoring.binning import bin_matrix
from riskcli.services.scoring.card import Scorecard, points_table
from riskcli.services.scoring.columns import parse_target
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.data import pick_factors, read_table
from riskcli.services.scoring.expert import default_expert, expert_scorecard, load_expert_file
from riskcli.services.scoring.export_sql import Quote, export_sql
from riskcli.services.scoring.limits import explain_limit as explain_limit_lines
from riskcli.services.scoring.limits import over_limit, recommend_limits
from riskcli.services.scoring.lookup import BY_CUSTOMER as _BY_CUSTOMER
from riskcli.services.scoring.lookup import explain as explain  # re-exported: one service API
from riskcli.services.scoring.lookup import show as show
from riskcli.services.scoring.points import score_bins, score_frame
from riskcli.services.scoring.reason_codes import (
    DEFAULT_CODE,
    DEFAULT_GRADE,
    check_reason_codes,
    reason_blobs,
)
from riskcli.services.scoring.reasons import StoredReasons
from riskcli.services.scoring.registry import ModelRecord, get_model, now, save_model
from riskcli.services.scoring.validation import clean, develop, evaluate
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


# ---- train ------------------------------------------------------------------------------------


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
    candidates = [c for c in store_factors.STORE_FACTORS if c not in store_factors.DEFAULT_EXCLUDE]
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
        descriptions=store_factors.FACTOR_DESCRIPTIONS,
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
    unknown = [f.name for f in card.factors if f.name not in store_factors.STORE_FACTORS]
    unknown += [o.factor for o in card.overrides if o.factor not in store_factors.STORE_FACTORS]
    if unknown:
        raise InputError(
            f"the expert scorecard names unknown factor(s): {', '.join(unknown)} "
            f"(known: {', '.join(store_factors.STORE_FACTORS)})"
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


# ---- apply / validate / compare on files ------------------------------------------------------


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


# ---- score runs on the store ------------------------------------------------------------------


def run(
    store: Store,
    cfg: ScoringConfig,
    *,
    ref: str | None = None,
    as_of: date | None = None,
    customer: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score customers from the store and keep the run (one transaction).

    The customers arrive in parts in customer order (on a large store most are read and scored
    by a second process meanwhile); each part is written as it arrives, inside the one
    transaction, and the run's totals are filled in at the end.
    """
    model = get_model(store, ref)
    check_reason_codes(model.card)
    if as_of is None:
        as_of = latest_activity(store) or date.today()
    say = progress or (lambda _m: None)
    missing = [f.name for f in model.card.factors if f.name not in store_factors.FRAME_COLUMNS]
    # unseen categories as an error count all customers at once: score them in one go
    whole = missing or any(
        f.type == "categorical" and f.unseen_category == "error" for f in model.card.factors
    )
    score = partial(_score_part, model, cfg)
    needed = needed_columns(model.card)
    # any commit by another connection from here on changes this number (see the write below)
    version = int(store.scalar("PRAGMA data_version"))
    with ExitStack() as stack:
        if customer is not None:
            frame = store_factors.build_factors(
                store,
                as_of,
                customer=customer,
                progress=say,
                needed=needed,
                policy=cfg.default_policy,
            )
            parts: Iterator[Any] = iter([frame if whole else score(frame)])
        else:
            parts = stack.enter_context(
                store_factors.factor_parts(
                    store,
                    as_of,
                    progress=say,
                    needed=needed,
                    then=None if whole else score,
                    policy=cfg.default_policy,
                )
            )
        first = next(parts)
        if whole:
            frame = pd.concat([first, *parts], ignore_index=True)
            if frame.empty:
                raise InputError("no customers to score")
            if missing:
                raise InputError(
                    f"{model.label} uses factors the store does not provide "
                    f"({', '.join(missing)}); it was trained on a file: use `riskcli score apply`"
                )
            first = score(frame)
        elif first.customers == 0:  # only when every part is empty, as before
            rest = list(parts)
            if not any(p.customers for p in rest):
                raise InputError("no customers to score")
            parts = iter(rest)
        params = json.dumps({"customer": customer, "limits": cfg.limits.model_dump(mode="json")})
        # Every customer id written was read from `customers` by this run and riskcli never
        # deletes a customer; when another connection committed anything since the reading
        # began, the rows are checked below. The per-row probe cost 1-3 s of the single
        # writer's CPU at 1,000,000 customers.
        with store.references_checked(), store.transaction():
            cur = store.execute(
                "INSERT INTO score_runs (model_id, created_at, created_by, as_of, customers, "
                "params, stats) VALUES (?, ?, ?, ?, 0, ?, '{}')",
                (model.id, now(), store.user, as_of.isoformat(), params),
            )
            run_id = int(cur.lastrowid)
            totals = _Totals()
            say("writing")
            for part in chain([first], parts):
                part.write(store, run_id)
                totals.add(part)
            counts = totals.grades
            grades = [*(g.grade for g in model.card.grades), DEFAULT_GRADE]
            stats = {
                "grades": {g: int(counts.get(g, 0)) for g in grades},
                "exposure": totals.exposure,
                "expected_loss": totals.expected_loss,
                "over_limit": totals.over_limit,
                "mean_score": round(float(np.mean(np.concatenate(totals.scores))), 2),
                "overrides": totals.overrides,
            }
            store.execute(
                "UPDATE score_runs SET customers = ?, stats = ? WHERE id = ?",
                (totals.customers, json.dumps(stats), run_id),
            )
            if int(store.scalar("PRAGMA data_version")) != version:
                _check_customers_still_there(store, run_id)
    return {
        "run": run_id,
        "model": model.label,
        "as_of": as_of.isoformat(),
        "customers": totals.customers,
        **{f"grade_{g}": int(counts.get(g, 0)) for g in grades},
        "expected_loss": f"{totals.expected_loss / 100:.2f}",
        "over_limit": stats["over_limit"],
        "overrides": stats["overrides"],
    }


#: a categorical factor whose "another value" bin holds more than this share of the customers
#: does not fit the book (e.g. English industry groups on a book kept in Chinese)
OTHER_SHARE_WARNING = 0.5


def category_warnings(store: Store, card: Scorecard) -> list[str]:
    """One line per categorical factor of the card whose "another value" bin holds more than
    half of the customers with a value: its groups do not name the book's values."""
    out: list[str] = []
    for f in card.factors:
        if f.type != "categorical" or f.name not in ("industry", "region"):
            continue
        named = {v for b in f.bins if b.kind == "categories" for v in b.values}
        counts = store.query(
            f"SELECT {f.name} AS v, count(*) AS n FROM customers "
            f"WHERE {f.name} IS NOT NULL AND {f.name} != '' GROUP BY {f.name}"
        )
        total = sum(int(r["n"]) for r in counts)
        other = {str(r["v"]): int(r["n"]) for r in counts if str(r["v"]).strip() not in named}
        if total and sum(other.values()) / total > OTHER_SHARE_WARNING:
            common = sorted(other, key=lambda v: -other[v])[:5]
            out.append(
                f"{sum(other.values()) / total:.0%} of customers fall in {f.name}'s "
                f'"another value" bin: its groups name none of {", ".join(common)}; '
                "adapt the scorecard's groups to the book"
            )
    return out


def needed_columns(card: Scorecard) -> frozenset[str]:
    """The factor-frame columns a `score run` with this model reads: its factors, its overrides'
    flags and the context the limit policy uses."""
    overrides = [o.factor for o in card.overrides]
    return frozenset(
        [*card.factor_names, *overrides, *store_factors.CONTEXT_COLUMNS, *_POLICY_COLUMNS]
    )


#: what the default state, the limit policy and expected loss read beside the context
_POLICY_COLUMNS = ("in_default", "industry", "bureau_score")


def _check_customers_still_there(store: Store, run_id: int) -> None:
    gone = store.scalar(
        "SELECT count(*) FROM scores WHERE run_id = ? "
        "AND customer_id NOT IN (SELECT id FROM customers)",
        (run_id,),
    )
    if gone:
        raise InputError(
            f"{gone} customer(s) were removed while the score run read the store; nothing was "
            "stored: run it again"
        )


class _ScoredPart:
    """The score rows of some customers, ready to write (small enough to cross a pipe)."""

    def __init__(self, **columns: Any) -> None:
        self.customer_id: np.ndarray = columns["customer_id"]
        self.score: np.ndarray = columns["score"]
        self.pd: np.ndarray = columns["pd"]
        self.grade: np.ndarray = columns["grade"]
        self.reasons: list[bytearray] = columns["reasons"]  # codes, see m060
        self.blobs: list[bytearray] = columns["blobs"]
        self.recommended: np.ndarray = columns["recommended"]
        self.current: np.ndarray = columns["current"]
        self.over: np.ndarray = columns["over"]
        self.overrides: int = columns["overrides"]
        self.exposure: np.ndarray = columns["exposure"]  # cents, EAD as of the run's date
        self.expected_loss: np.ndarray = columns["expected_loss"]  # cents, PD x LGD x EAD

    @property
    def customers(self) -> int:
        return len(self.customer_id)

    def write(self, store: Store, run_id: int) -> None:
        rows = zip(
            [run_id] * self.customers,
            self.customer_id.tolist(),
            self.score.tolist(),
            self.pd.tolist(),
            self.grade.tolist(),
            self.blobs,
            self.reasons,
            self.recommended.tolist(),
            self.current.tolist(),
            self.over.tolist(),
            self.exposure.tolist(),
            self.expected_loss.tolist(),
            strict=True,
        )
        # the sqlite3 module binds int, float, str and bytearray directly but sends None and
        # bytes through its adapter lookup (about 1 us each): the bins and the reason codes go
        # as bytearrays (BLOBs); reason1..reason4 (texts, before m060) stay NULL
        store.executemany(
            "INSERT INTO scores (run_id, customer_id, score, pd, grade, bins, reasons, "
            "recommended_limit, current_limit, over_limit, exposure, expected_loss) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


class _Totals:
    """What a score run records about all its parts."""

    def __init__(self) -> None:
        self.customers = 0
        self.grades: Counter[str] = Counter()
        self.over_limit = 0
        self.overrides = 0
        self.scores: list[np.ndarray] = []
        self.exposure = 0
        self.expected_loss = 0

    def add(self, part: _ScoredPart) -> None:
        self.exposure += int(part.exposure.sum())
        self.expected_loss += int(part.expected_loss.sum())
        self.customers += part.customers
        self.grades.update(part.grade.tolist())
        self.over_limit += int(part.over.sum())
        self.overrides += part.overrides
        self.scores.append(part.score)


def _score_part(model: ModelRecord, cfg: ScoringConfig, frame: pd.DataFrame) -> _ScoredPart:
    """Score, PD, grade, reason codes and limits of some customers (row by row independent).

    A customer in default (book.default_state) keeps the points of its factors but gets grade
    DF, PD 1, the default as its first reason and a limit of 0.
    """
    bins = bin_matrix(model.card, frame)
    if bins.size and bins.max() > 255:
        raise InputError("a factor has more than 255 bins")
    s = score_bins(model.card, bins, frame, texts=False)
    grade = np.asarray(s.grade, dtype=object)
    pd_ = np.round(np.asarray(s.pd, dtype=np.float64), 6)
    codes = s.codes
    defaulted = frame["in_default"].to_numpy() > 0
    if defaulted.any():
        grade[defaulted] = DEFAULT_GRADE
        pd_[defaulted] = 1.0
        codes = codes.copy()
        codes[defaulted, 1:] = codes[defaulted, :-1]
        codes[defaulted, 0] = DEFAULT_CODE
    current = pd.to_numeric(frame["credit_limit"], errors="coerce").fillna(0).to_numpy(np.int64)
    recommended = recommend_limits(frame, grade, cfg.limits)
    exposure = np.nan_to_num(frame["exposure"].to_numpy(dtype=np.float64))
    industry = frame["industry"].to_numpy(dtype=object)
    lgd = cfg.loss.lgd_of(industry)
    return _ScoredPart(
        customer_id=frame["customer_id"].to_numpy(dtype=np.int64),
        score=np.asarray(s.score, dtype=np.float64),
        pd=pd_,
        grade=grade,
        reasons=reason_blobs(codes),  # the store keeps the top four
        blobs=[bytearray(row) for row in bins.astype(np.uint8)],
        recommended=recommended,
        current=current,
        over=over_limit(grade, current, recommended, exposure, cfg.limits).astype(np.int64),
        overrides=int(np.sum(np.asarray(s.override, dtype=object) != None)),  # noqa: E711
        exposure=exposure.astype(np.int64),
        expected_loss=np.round(exposure * pd_ * lgd).astype(np.int64),
    )


def latest_run(store: Store, run_id: int | None = None) -> dict[str, Any]:
    if run_id is not None:
        rows = store.query("SELECT * FROM score_runs WHERE id = ?", (run_id,))
        if not rows:
            raise InputError(f"no score run {run_id}")
        return rows[0]
    rows = store.query("SELECT * FROM score_runs ORDER BY id DESC LIMIT 1")
    if not rows:
        raise InputError("no score runs yet: run `riskcli score run`")
    return rows[0]


def explain_limit(store: Store, customer: str, cfg: ScoringConfig) -> list[dict[str, Any]]:
    """How the latest run's recommended limit of a customer was derived (need, its driver, the
    grade factor, the cap, the result), from the book as of that run's date."""
    rows = store.query(
        f"SELECT s.grade, r.as_of {_BY_CUSTOMER} ORDER BY r.id DESC LIMIT 1", (customer,)
    )
    if not rows:
        show(store, customer)  # raises the right error
    as_of = date.fromisoformat(rows[0]["as_of"])
    frame = store_factors.build_factors(store, as_of, customer=customer, policy=cfg.default_policy)
    record = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
    lines = explain_limit_lines(record, str(rows[0]["grade"]), cfg.limits)
    if record.get("in_default"):
        lines.insert(0, {"step": "default", "value": "in default: no credit (limit 0)"})
    return lines


def list_scores(
    store: Store, *, grade: str | None = None, over_limit: bool = False, limit: int | None = None
) -> list[dict[str, Any]]:
    run = latest_run(store)
    sql = (
        "SELECT c.external_id AS customer, s.score, s.pd, s.grade, s.reason1, "
        "s.recommended_limit, s.current_limit, s.over_limit, s.exposure, s.expected_loss, "
        "s.bins, "
        "substr(s.reasons, 1, 1) AS first_code FROM scores s "
        "JOIN customers c ON c.id = s.customer_id WHERE s.run_id = ?"
    )
    params: list[Any] = [run["id"]]
    if grade:
        sql += " AND s.grade = ?"
        params.append(grade.upper())
    if over_limit:
        sql += " AND s.over_limit = 1"
    sql += " ORDER BY s.score, c.external_id"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    frame = store.query_df(sql, params)
    texts = StoredReasons(store).of_model(int(run["model_id"]))
    frame["reason1"] = texts.first_stored(
        frame.pop("bins").tolist(), frame.pop("first_code").tolist(), frame["reason1"].tolist()
    )
    for col in ("recommended_limit", "current_limit"):
        frame[col] = (frame[col].astype("int64") / 100).round(2)
    for col in ("exposure", "expected_loss"):  # NULL on rows from before m070
        frame[col] = (pd.to_numeric(frame[col], errors="coerce") / 100).round(2)
    frame["over_limit"] = frame["over_limit"].astype(bool)
    return frame.to_dict("records")  # type: ignore[return-value]


def distribution(store: Store, *, width: int = 30, step: int = 20) -> dict[str, Any]:
    run = latest_run(store)
    model = get_model(store, run["model_id"])
    grades = store.query(
        "SELECT grade, COUNT(*) AS customers, AVG(pd) AS mean_pd, SUM(over_limit) AS over_limit "
        "FROM scores WHERE run_id = ? GROUP BY grade",
        (run["id"],),
    )
    by = {g["grade"]: g for g in grades}
    total = max(sum(g["customers"] for g in grades), 1)
    biggest = max((g["customers"] for g in grades), default=1)
    rows = []
    pd_bands = [(g.grade, g.description or f"PD < {g.max_pd:.0%}") for g in model.card.grades]
    for grade, band in [*pd_bands, (DEFAULT_GRADE, "in default (PD 1)")]:
        n = int(by.get(grade, {}).get("customers", 0))
        g = by.get(grade, {})
        rows.append(
            {
                "grade": grade,
                "pd_band": band,
                "customers": n,
                "share": f"{n / total:.1%}",
                "mean_pd": round(float(g.get("mean_pd") or 0), 4),
                "over_limit": int(g.get("over_limit") or 0),
                "histogram": "#" * round(width * n / biggest) if biggest else "",
            }
        )
    bands = store.query(
        "SELECT CAST(score / ? AS INTEGER) * ? AS band, COUNT(*) AS customers FROM scores "
        "WHERE run_id = ? GROUP BY band ORDER BY band",
        (step, step, run["id"]),
    )
    top = max((b["customers"] for b in bands), default=1)
    score_rows = [
        {
            "score": f"{int(b['band'])}-{int(b['band']) + step - 1}",
            "customers": b["customers"],
            "histogram": "#" * max(1, round(width * b["customers"] / top)),
        }
        for b in bands
    ]
    return {
        "run": {
            "run": run["id"],
            "model": model.label,
            "as_of": run["as_of"],
            "customers": run["customers"],
        },
        "grades": rows,
        "scores": score_rows,
    }


def export(store: Store, ref: str | None, fmt: str, quote: Quote = "none") -> str:
    model = get_model(store, ref)
    if fmt == "json":
        payload = {
            "model": model.summary(),
            "scorecard": model.card.to_json_dict(),
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if fmt == "sql":
        return export_sql(model.card, quote=quote, header=f"riskcli scorecard {model.label}")
    raise InputError("--format must be sql or json")


def export_full(
    store: Store,
    ref: str | None,
    cfg: ScoringConfig,
    *,
    dialect: str = "duckdb",
    as_of: date | None = None,
    as_of_param: bool = False,
) -> str:
    """The whole scoring job as one SQL query over the canonical tables (see export_full)."""
    from riskcli.services.scoring.export_full import full_query
    from riskcli.services.sql_dialect import dialect as make_dialect

    model = get_model(store, ref)
    d = make_dialect(dialect)
    if as_of_param and as_of is not None:
        raise InputError("give --as-of DATE or --as-of-param, not both")
    if not as_of_param and as_of is None:
        as_of = latest_activity(store) or date.today()
    missing = [f.name for f in model.card.factors if f.name not in store_factors.STORE_FACTORS]
    missing += [
        o.factor for o in model.card.overrides if o.factor not in store_factors.STORE_FACTORS
    ]
    if missing:
        raise InputError(
            f"{model.label} uses factors the store does not provide ({', '.join(missing)}): "
            "a full query needs a model of store factors"
        )
    return full_query(
        model.card,
        d,
        limits=cfg.limits,
        loss=cfg.loss,
        policy=cfg.default_policy,
        as_of=None if as_of_param else as_of,
        header=f"riskcli scorecard {model.label}",
    )

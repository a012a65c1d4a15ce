"""Validation a credit committee would accept: discrimination, calibration, stability.

`develop` splits the data (out-of-time when a date column is given and both periods hold
enough outcomes, otherwise a stratified holdout), fits the scorecard on the development sample,
measures it on the validation sample, runs stratified k-fold for the mean and spread, and can
fit a gradient-boosted challenger on the same split for comparison only.

Metrics: AUC, Gini (2 AUC - 1), KS (largest gap between the cumulative bad and good
distributions), Brier score, calibration by score band (ten bands cut at the development
deciles), bad rate by grade, PSI of the score between development and validation (same ten
bands; < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted) and a monotonicity check per factor.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from riskcli.domain.errors import InputError
from riskcli.services.scoring.binning import bin_matrix
from riskcli.services.scoring.card import Factor, Scorecard, points_table
from riskcli.services.scoring.columns import FloatArray
from riskcli.services.scoring.fit import FitResult, check_target, fit_scorecard
from riskcli.services.scoring.params import ScorecardParams
from riskcli.services.scoring.points import score_frame

Progress = Callable[[str], None]
Y = npt.NDArray[np.int8]


def auc(y: Y, risk: FloatArray) -> float:
    """Area under the ROC curve of a risk measure (higher = more likely bad); ties count half."""
    y = np.asarray(y)
    risk = np.asarray(risk, dtype=np.float64)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(risk).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def ks(y: Y, risk: FloatArray) -> float:
    """Kolmogorov-Smirnov: the largest gap between cumulative bad and good shares."""
    y = np.asarray(y)
    order = np.argsort(-np.asarray(risk, dtype=np.float64), kind="stable")
    r = np.asarray(risk)[order]
    ys = y[order]
    n1 = ys.sum()
    n0 = len(ys) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    cb = np.cumsum(ys) / n1
    cg = np.cumsum(1 - ys) / n0
    # only compare at the end of runs of tied values
    last = np.r_[r[1:] != r[:-1], True]
    return float(np.max(np.abs(cb[last] - cg[last])))


def brier(y: Y, pd_: FloatArray) -> float:
    return float(np.mean((np.asarray(pd_) - np.asarray(y)) ** 2))


def score_bands(score: FloatArray, n: int = 10) -> list[float]:
    """Inner cut points at the quantiles of a score (development deciles by default)."""
    qs = np.quantile(np.asarray(score, dtype=np.float64), np.linspace(0, 1, n + 1)[1:-1])
    return sorted({float(q) for q in qs})


def band_shares(score: FloatArray, edges: list[float]) -> FloatArray:
    idx = np.searchsorted(np.asarray(edges), np.asarray(score), side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    out: FloatArray = counts / max(len(score), 1)
    return out


def psi(expected: FloatArray, actual: FloatArray, eps: float = 1e-4) -> float:
    """Population stability index of two share vectors over the same bands."""
    e = np.clip(np.asarray(expected, dtype=np.float64), eps, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _band_label(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"< {hi:g}"
    if hi is None:
        return f">= {lo:g}"
    return f"{lo:g} to < {hi:g}"


def calibration(
    y: Y, score: FloatArray, pd_: FloatArray, edges: list[float]
) -> list[dict[str, Any]]:
    idx = np.searchsorted(np.asarray(edges), score, side="right")
    rows: list[dict[str, Any]] = []
    for i in range(len(edges) + 1):
        m = idx == i
        lo = edges[i - 1] if i > 0 else None
        hi = edges[i] if i < len(edges) else None
        n = int(m.sum())
        rows.append(
            {
                "band": _band_label(lo, hi),
                "count": n,
                "predicted_pd": round(float(pd_[m].mean()), 5) if n else None,
                "observed_bad_rate": round(float(y[m].mean()), 5) if n else None,
            }
        )
    return rows


def by_grade(y: Y, grade: npt.NDArray[np.object_], card: Scorecard) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    lo = 0.0
    for g in card.grades:
        m = grade == g.grade
        n = int(m.sum())
        rows.append(
            {
                "grade": g.grade,
                "pd_band": f"{lo:.2%} to < {g.max_pd:.2%}" if g.max_pd < 1 else f">= {lo:.2%}",
                "count": n,
                "bads": int(y[m].sum()),
                "bad_rate": round(float(y[m].mean()), 5) if n else None,
            }
        )
        lo = g.max_pd
    return rows


def monotonicity(card: Scorecard, data: pd.DataFrame, y: Y) -> list[dict[str, Any]]:
    """Per factor: do the bad rates of the range bins follow the declared direction here?"""
    bins = bin_matrix(card, data)
    out: list[dict[str, Any]] = []
    for j, f in enumerate(card.factors):
        if f.type != "numeric" or f.monotonic == "none":
            out.append({"factor": f.name, "direction": f.monotonic, "training": None,
                        "this_sample": None})  # fmt: skip
            continue
        out.append(
            {
                "factor": f.name,
                "direction": f.monotonic,
                "training": factor_is_monotonic(f),
                "this_sample": _monotonic_rates(f, bins[:, j], y),
            }
        )
    return out


def factor_is_monotonic(f: Factor) -> bool:
    rates = [b.bads / b.count for b in f.bins if b.kind == "range" and b.count]
    return _ordered(rates, f.monotonic, strict=True)


def _monotonic_rates(f: Factor, idx: npt.NDArray[np.int64], y: Y) -> bool:
    rates = []
    for i, b in enumerate(f.bins):
        if b.kind != "range":
            continue
        m = idx == i
        if m.sum():
            rates.append(float(y[m].mean()))
    return _ordered(rates, f.monotonic, strict=False)


def _ordered(rates: list[float], direction: str, *, strict: bool) -> bool:
    pairs = list(itertools.pairwise(rates))
    if direction == "asc":
        return all((b > a) if strict else (b >= a) for a, b in pairs)
    if direction == "desc":
        return all((b < a) if strict else (b <= a) for a, b in pairs)
    return True


def metrics(y: Y, score: FloatArray, pd_: FloatArray) -> dict[str, float]:
    a = auc(y, pd_)
    return {
        "auc": round(a, 5),
        "gini": round(2 * a - 1, 5),
        "ks": round(ks(y, pd_), 5),
        "brier": round(brier(y, pd_), 5),
        "count": len(y),
        "bads": int(np.sum(y)),
        "bad_rate": round(float(np.mean(y)), 5),
    }


def evaluate(
    card: Scorecard,
    data: pd.DataFrame,
    y: Y,
    *,
    dev_edges: list[float] | None = None,
    dev_shares: list[float] | None = None,
) -> dict[str, Any]:
    """Metrics of a scorecard on a labelled sample (the body of `score validate`)."""
    s = score_frame(card, data)
    score = np.asarray(s.score, dtype=np.float64)
    pd_ = np.asarray(s.pd, dtype=np.float64)
    edges = dev_edges if dev_edges is not None else score_bands(score)
    out: dict[str, Any] = {
        "metrics": metrics(y, score, pd_),
        "calibration": calibration(y, score, pd_, edges),
        "by_grade": by_grade(y, s.grade, card),
        "monotonicity": monotonicity(card, data, y),
    }
    if dev_shares is not None:
        out["psi"] = round(psi(np.asarray(dev_shares), band_shares(score, edges)), 5)
    return out


class Developed(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    scorecard: Scorecard
    report: dict[str, Any]


def _split(
    y: Y, dates: pd.Series | None, holdout: float, seed: int, min_bads: int
) -> tuple[npt.NDArray[np.bool_], str, str | None]:
    """Boolean mask of the validation rows, the method used and the out-of-time cutoff."""
    n = len(y)
    if dates is not None:
        d = pd.to_datetime(pd.Series(dates), errors="coerce")
        if bool(d.notna().all()) and d.nunique() > 1:
            ns = d.to_numpy(dtype="datetime64[ns]").astype(np.int64)
            cut = int(np.quantile(ns, 1 - holdout))
            cutoff = pd.Timestamp(cut)
            val = ns > cut
            if 0 < val.sum() < n:
                vb, db = int(y[val].sum()), int(y[~val].sum())
                if vb >= 5 and db >= min_bads and (len(y[val]) - vb) >= 5:
                    return val, "out-of-time", str(cutoff.date())
    val = stratified_holdout(y, holdout, seed)
    return val, "stratified holdout", None


def stratified_holdout(y: Y, share: float, seed: int) -> npt.NDArray[np.bool_]:
    """A random validation mask holding `share` of the goods and of the bads."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), dtype=bool)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        take = round(len(idx) * share)
        val[rng.permutation(idx)[:take]] = True
    return val


def stratified_folds(y: Y, k: int, seed: int) -> list[npt.NDArray[np.int64]]:
    """k disjoint test-index sets, each with about 1/k of the goods and of the bads."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == cls))
        fold[idx] = np.arange(len(idx)) % k
    return [np.flatnonzero(fold == i) for i in range(k)]


def kfold(
    data: pd.DataFrame,
    y: Y,
    params: ScorecardParams,
    k: int,
    seed: int,
    descriptions: dict[str, str] | None = None,
) -> dict[str, Any]:
    aucs: list[float] = []
    kss: list[float] = []
    everything = np.arange(len(y))
    for te in stratified_folds(y, k, seed):
        tr = np.setdiff1d(everything, te, assume_unique=True)
        fit = fit_scorecard(data.iloc[tr], y[tr], params, descriptions=descriptions)
        s = score_frame(fit.scorecard, data.iloc[te])
        aucs.append(auc(y[te], s.pd))
        kss.append(ks(y[te], s.pd))
    return {
        "folds": k,
        "auc_mean": round(float(np.mean(aucs)), 5),
        "auc_std": round(float(np.std(aucs, ddof=1)), 5) if k > 1 else 0.0,
        "ks_mean": round(float(np.mean(kss)), 5),
        "ks_std": round(float(np.std(kss, ddof=1)), 5) if k > 1 else 0.0,
        "auc": [round(a, 5) for a in aucs],
    }


def challenger(
    dev: pd.DataFrame, y_dev: Y, val: pd.DataFrame, y_val: Y, seed: int
) -> dict[str, Any]:
    """A HistGradientBoostingClassifier on the raw factors, for comparison only."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def prep(frame: pd.DataFrame, cats: dict[str, list[str]]) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        for c in frame.columns:
            if c in cats:
                text = (
                    frame[c].astype("object").map(lambda v: None if v is None or v != v else str(v))
                )
                out[c] = pd.Categorical(text, categories=cats[c])
            else:
                out[c] = pd.to_numeric(frame[c], errors="coerce").replace([np.inf, -np.inf], np.nan)
        return out

    cats: dict[str, list[str]] = {}
    for c in dev.columns:
        col = dev[c]
        if not pd.api.types.is_numeric_dtype(col.dtype) and col.dtype != bool:
            as_num = pd.to_numeric(col, errors="coerce")
            if as_num.notna().sum() < col.notna().sum():
                cats[str(c)] = sorted({str(v) for v in col.dropna()})[:250]
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, categorical_features="from_dtype", random_state=seed
    )
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # one OpenMP thread: on small shared machines more threads spin and run many times slower
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        model.fit(prep(dev, cats), y_dev)
        p = model.predict_proba(prep(val, cats))[:, 1]
    return {
        "model": "HistGradientBoostingClassifier (comparison only; not used for scoring)",
        "auc": round(auc(y_val, p), 5),
        "ks": round(ks(y_val, p), 5),
        "brier": round(brier(y_val, p), 5),
    }


def develop(
    data: pd.DataFrame,
    y: Y,
    params: ScorecardParams | None = None,
    *,
    target: str = "bad",
    dates: pd.Series | None = None,
    holdout: float = 0.3,
    folds: int = 5,
    with_challenger: bool = False,
    seed: int = 0,
    descriptions: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> Developed:
    """Split, fit on development, validate, k-fold, optional challenger: model + report."""
    params = params or ScorecardParams()
    y = np.asarray(y, dtype=np.int8)
    check_target(y, params)
    if not 0 < holdout < 1:
        raise InputError("holdout must be between 0 and 1")
    say = progress or (lambda _m: None)
    sample = _samples(data, y, dates, holdout, seed, params.min_bads)
    say("fitting the scorecard")
    fit = fit_scorecard(
        sample.dev_x, sample.dev_y, params, target=target, descriptions=descriptions
    )
    report = _report(fit, sample, say)
    if folds >= 2:
        say(f"{folds}-fold cross-validation")
        try:
            report["kfold"] = kfold(data, y, params, folds, seed, descriptions)
        except InputError as exc:
            report["kfold"] = {"skipped": str(exc)}
    if with_challenger:
        say("gradient-boosted challenger")
        report["challenger"] = challenger(
            sample.dev_x, sample.dev_y, sample.val_x, sample.val_y, seed
        )
    return Developed(scorecard=fit.scorecard, report=_clean(report))


class _Samples(NamedTuple):
    """The development and validation samples, how they were split and the out-of-time cutoff."""

    dev_x: pd.DataFrame
    dev_y: Y
    val_x: pd.DataFrame
    val_y: Y
    method: str
    cutoff: str | None


def _samples(
    data: pd.DataFrame, y: Y, dates: pd.Series | None, holdout: float, seed: int, min_bads: int
) -> _Samples:
    val_mask, method, cutoff = _split(y, dates, holdout, seed, min_bads)
    dev_y = y[~val_mask]
    if int(dev_y.sum()) < min_bads:
        # a holdout would starve the fit; develop and validate on everything, and say so
        return _Samples(data, y, data, y, "in-sample (too few bads for a holdout)", cutoff)
    return _Samples(data[~val_mask], dev_y, data[val_mask], y[val_mask], method, cutoff)


def _report(fit: FitResult, sample: _Samples, say: Progress) -> dict[str, Any]:
    """The development report: both samples' metrics, calibration, stability, the factors."""
    card = fit.scorecard
    dev_scored = score_frame(card, sample.dev_x)
    dev_score = np.asarray(dev_scored.score, dtype=np.float64)
    edges = score_bands(dev_score)
    shares = band_shares(dev_score, edges)
    say("validating")
    val_report = evaluate(
        card, sample.val_x, sample.val_y, dev_edges=edges, dev_shares=list(shares)
    )
    dev_pd = np.asarray(dev_scored.pd, dtype=np.float64)
    return {
        "method": sample.method,
        "out_of_time_cutoff": sample.cutoff,
        "development": metrics(sample.dev_y, dev_score, dev_pd),
        "validation": val_report["metrics"],
        "psi": val_report["psi"],
        "calibration": val_report["calibration"],
        "by_grade": val_report["by_grade"],
        "monotonicity": val_report["monotonicity"],
        "all_bins_monotonic": all(m["training"] is not False for m in val_report["monotonicity"]),
        "score_bands": {"edges": edges, "development_shares": [round(float(v), 6) for v in shares]},
        "factors": _factor_rows(fit),
        "points": points_table(card),
        "high_iv_warnings": [
            f"{f.name}: IV {f.iv:.2f} > 0.5 is very strong; make sure it is known before the "
            "outcome (no leakage)"
            for f in card.factors
            if f.iv > 0.5
        ],
    }


def _factor_rows(fit: FitResult) -> list[dict[str, Any]]:
    """Every candidate factor: its type, IV, monotonicity and why it was kept or dropped."""
    binned = [
        {
            "factor": f.name,
            "type": f.type,
            "iv": round(f.iv, 5),
            "monotonic": f.monotonic,
            "status": fit.selection.get(f.name, ""),
        }
        for f in fit.all_factors
    ]
    names = {f.name for f in fit.all_factors}
    unbinned = [
        {"factor": k, "type": None, "iv": None, "monotonic": None, "status": v}
        for k, v in fit.selection.items()
        if k not in names
    ]
    return binned + unbinned


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def clean(value: Any) -> Any:
    return _clean(value)

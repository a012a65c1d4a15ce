"""The logistic fit: target checks, factor selection by information value and correlation, and
an L2-penalised logistic regression on the factors' weights of evidence."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from riskcli.domain.errors import InputError
from riskcli.services.scoring.binning import bin_all, bin_matrix
from riskcli.services.scoring.card import Factor, Scorecard
from riskcli.services.scoring.columns import FloatArray
from riskcli.services.scoring.params import ScorecardParams
from riskcli.services.scoring.points import assign_points
from riskcli.services.scoring.woe import woe_matrix


class FitResult(BaseModel):
    scorecard: Scorecard
    all_factors: list[Factor]  # every binned factor with IV (the points table of candidates)
    selection: dict[str, str]  # factor -> "selected" or why it was dropped


def check_target(y: npt.NDArray[np.int8], params: ScorecardParams) -> None:
    bads = int(y.sum())
    goods = int(len(y) - bads)
    if bads == 0 or goods == 0:
        raise InputError(
            "the target has only one class ("
            + ("no bad outcomes" if bads == 0 else "no good outcomes")
            + "); a scorecard needs both — for a book without default history use "
            "`riskcli score expert`"
        )
    if bads < params.min_bads:
        raise InputError(
            f"only {bads} bad outcome(s); at least {params.min_bads} are needed to train a "
            "scorecard (scoring.min_bads) — use `riskcli score expert` instead"
        )
    if goods < params.min_goods:
        raise InputError(
            f"only {goods} good outcome(s); at least {params.min_goods} are needed "
            "(scoring.min_goods)"
        )


def fit_scorecard(
    data: pd.DataFrame,
    y: npt.NDArray[np.int8],
    params: ScorecardParams | None = None,
    *,
    target: str = "bad",
    descriptions: dict[str, str] | None = None,
) -> FitResult:
    """Bin, select, regress and scale. ``data`` holds only candidate factor columns."""
    params = params or ScorecardParams()
    y = np.asarray(y, dtype=np.int8)
    if len(y) != len(data):
        raise InputError("the target and the data differ in length")
    check_target(y, params)
    factors, dropped = bin_all(data, y, params, descriptions)
    selection: dict[str, str] = dict(dropped)
    by_iv = sorted(factors, key=lambda f: f.iv, reverse=True)
    candidates: list[Factor] = []
    for f in by_iv:
        if f.iv < params.min_iv:
            selection[f.name] = f"information value {f.iv:.4f} below min_iv {params.min_iv}"
        else:
            candidates.append(f)
    if not candidates:
        raise InputError(
            f"no factor reaches the minimum information value {params.min_iv}; "
            "nothing to build a scorecard on"
        )
    woe = woe_matrix(candidates, bin_matrix(candidates, data))
    kept = _uncorrelated(candidates, woe, params, selection)
    intercept, coefs = _regress(candidates, woe, y, kept, params, selection)
    chosen = [candidates[j].model_copy(deep=True) for j in kept]
    for f, c in zip(chosen, coefs, strict=True):
        f.coef = float(c)
        selection[f.name] = "selected"
    card = Scorecard(
        target=target,
        intercept=intercept,
        scaling=params.scaling,
        grades=params.grades,
        factors=chosen,
        reasons=params.reasons,
        dropped={k: v for k, v in selection.items() if v != "selected"},
    )
    assign_points(card)
    return FitResult(scorecard=card, all_factors=by_iv, selection=selection)


def _uncorrelated(
    candidates: list[Factor], woe: FloatArray, params: ScorecardParams, selection: dict[str, str]
) -> list[int]:
    """The candidates (highest IV first) kept when each one too correlated with a kept one, or
    beyond max_factors, is dropped (with its reason in `selection`)."""
    kept: list[int] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(woe, rowvar=False) if woe.shape[1] > 1 else np.ones((1, 1))
    corr = np.nan_to_num(np.atleast_2d(corr))
    for j, f in enumerate(candidates):
        clash = [k for k in kept if abs(corr[j, k]) > params.max_corr]
        if clash:
            other = candidates[clash[0]].name
            selection[f.name] = (
                f"correlated with {other} (|r| = {abs(corr[j, clash[0]]):.2f} > "
                f"{params.max_corr}), which has the higher IV"
            )
            continue
        if params.max_factors is not None and len(kept) >= params.max_factors:
            selection[f.name] = f"beyond max_factors {params.max_factors}"
            continue
        kept.append(j)
    return kept


def _regress(
    candidates: list[Factor],
    woe: FloatArray,
    y: npt.NDArray[np.int8],
    kept: list[int],
    params: ScorecardParams,
    selection: dict[str, str],
) -> tuple[float, FloatArray]:
    """Logistic regression on the kept factors; a factor whose coefficient has the wrong sign
    (WOE up => risk up) is unstable (collinearity) and is dropped from `kept` before refitting."""
    while True:
        intercept, coefs = logistic_regression(woe[:, kept], y, params.regularization_c)
        worst = int(np.argmax(coefs))
        if coefs[worst] <= 0 or len(kept) == 1:
            return intercept, coefs
        selection[candidates[kept[worst]].name] = (
            "coefficient with the wrong sign in the regression (collinear with other factors)"
        )
        kept.pop(worst)


def logistic_regression(
    x: FloatArray, y: npt.NDArray[np.int8], c: float = 1.0, *, max_iter: int = 50
) -> tuple[float, FloatArray]:
    """L2-penalised logistic regression by Newton's method (IRLS); no intercept penalty.

    Minimises ``c * sum(log loss) + 0.5 * |w|^2``, the objective of scikit-learn's
    LogisticRegression(C=c), without importing scikit-learn (its import alone takes seconds).
    """
    n, k = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    target = np.asarray(y, dtype=np.float64)
    rate = min(max(float(target.mean()), 1e-6), 1 - 1e-6)
    w = np.zeros(k + 1)
    w[0] = math.log(rate / (1 - rate))
    ridge = np.ones(k + 1)
    ridge[0] = 0.0

    def objective(v: FloatArray) -> float:
        z = design @ v
        loss = float(np.sum(np.logaddexp(0.0, z) - target * z))
        return c * loss + 0.5 * float(np.sum(ridge * v * v))

    current = objective(w)
    for _ in range(max_iter):
        z = design @ w
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function without overflow
        grad = c * (design.T @ (p - target)) + ridge * w
        hess = c * (design.T * (p * (1 - p))) @ design + np.diag(ridge) + 1e-9 * np.eye(k + 1)
        step = np.linalg.solve(hess, grad)
        # backtracking keeps every step downhill (the penalised objective is convex)
        t = 1.0
        while t > 1e-10:
            trial = w - t * step
            value = objective(trial)
            if value <= current:
                break
            t *= 0.5
        w, improvement, current = trial, current - value, value
        if float(np.max(np.abs(t * step))) < 1e-9 or improvement < 1e-12 * max(1.0, current):
            break
    coefs: FloatArray = w[1:].copy()
    return float(w[0]), coefs

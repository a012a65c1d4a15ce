"""Scaling to points and scoring rows: each bin's points from the fit, and each row's points,
score, PD, grade, overrides and reason codes.

Points: ``score = offset + factor * ln(odds good:bad)`` with ``factor = pdo / ln 2`` and
``offset = base_points - factor * ln(base_odds)``. The intercept is spread evenly over the
factors, so the score is exactly the sum of the points of the rows' bins, and
``PD = 1 / (1 + exp((score - offset) / factor))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from riskcli.services.scoring.binning import bin_matrix
from riskcli.services.scoring.card import Scorecard
from riskcli.services.scoring.columns import CodeArray, FloatArray, IntArray, numeric_values
from riskcli.services.scoring.params import GradeBand
from riskcli.services.scoring.reason_codes import NO_REASON, ReasonTexts, override_code


def assign_points(card: Scorecard) -> None:
    """Points per bin from coefficients and WOE; the intercept is spread over the factors."""
    s = card.scaling
    n = len(card.factors)
    for f in card.factors:
        for b in f.bins:
            raw = -(f.coef * b.woe + card.intercept / n) * s.factor + s.offset / n
            b.points = round(raw, s.points_decimals) if s.points_decimals else float(round(raw))


class Scored(BaseModel):
    """Per-row results as arrays (kept as numpy for speed; not serialised)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    bins: Any  # IntArray n x k
    points: Any  # FloatArray n x k
    score: Any  # FloatArray n
    pd: Any  # FloatArray n
    grade: Any  # object array n
    codes: Any  # CodeArray n x r: the reasons as codes (see ReasonTexts), NO_REASON after the last
    reasons: Any  # object array n x r (None where fewer reasons); None unless texts were asked
    override: Any  # object array n (override reason or None)


def grade_of(pd_: FloatArray, grades: Sequence[GradeBand]) -> npt.NDArray[np.object_]:
    bounds = np.array([g.max_pd for g in grades[:-1]], dtype=np.float64)
    names = np.array([g.grade for g in grades], dtype=object)
    out: npt.NDArray[np.object_] = names[np.searchsorted(bounds, pd_, side="right")]
    return out


def score_frame(card: Scorecard, data: pd.DataFrame) -> Scored:
    """Score every row: points per factor, total, PD, grade and reason texts."""
    bins = bin_matrix(card, data)
    return score_bins(card, bins, data)


def score_bins(
    card: Scorecard, bins: IntArray, data: pd.DataFrame | None = None, *, texts: bool = True
) -> Scored:
    """Points, score, PD, grade and reasons of binned rows; overrides read their factor in `data`.

    The reasons are codes (`Scored.codes`); their texts (`Scored.reasons`) are looked up from
    the codes unless `texts` is false.
    """
    n, k = bins.shape
    tables = [np.array([b.points for b in f.bins], dtype=np.float64) for f in card.factors]
    points = np.empty((n, k), dtype=np.float64)
    for j in range(k):
        points[:, j] = tables[j][bins[:, j]]
    score = points.sum(axis=1)
    if card.scaling.points_decimals:
        score = np.round(score, card.scaling.points_decimals)
    pd_ = card.scaling.pd_from_score(score)
    grade = grade_of(pd_, card.grades)
    best = np.array([t.max() for t in tables], dtype=np.float64)
    loss = best[None, :] - points
    r = min(card.reasons, k)
    order = np.argsort(-loss, axis=1, kind="stable")[:, :r]
    lost = np.take_along_axis(loss, order, axis=1) > 1e-9
    # the factors that lose no points come last in `order`: NO_REASON only ever trails
    codes: CodeArray = np.where(lost, order, NO_REASON).astype(np.int16)
    override = np.full(n, None, dtype=object)
    if card.overrides and data is not None:
        first = np.full(n, NO_REASON, dtype=np.int16)
        for i, o in enumerate(card.overrides):
            if o.factor not in data.columns:
                continue
            x = numeric_values(data[o.factor], o.factor, strict=False)
            hit = (x == o.equals) & (override == None)  # noqa: E711
            override[hit] = o.reason
            grade[hit] = o.grade
            first[hit] = override_code(i)
        hit_any = override != None  # noqa: E711
        if hit_any.any():
            # the override is the first reason
            codes[hit_any, 1:] = codes[hit_any, :-1]
            codes[hit_any, 0] = first[hit_any]
    reasons = ReasonTexts(card).matrix(bins, codes) if texts else None
    return Scored(
        bins=bins, points=points, score=score, pd=pd_, grade=grade, codes=codes, reasons=reasons,
        override=override,
    )  # fmt: skip

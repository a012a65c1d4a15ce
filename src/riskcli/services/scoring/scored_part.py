"""The scores of one part of the book: bins, points, PD, grade, the default state, reason codes,
limits and expected loss, computed row by row independently (so either process of a run can)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring.binning import bin_matrix
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.limits import over_limit, recommend_limits
from riskcli.services.scoring.points import score_bins
from riskcli.services.scoring.reason_codes import DEFAULT_CODE, DEFAULT_GRADE, reason_blobs
from riskcli.services.scoring.registry import ModelRecord


class ScoredPart:
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


def score_part(model: ModelRecord, cfg: ScoringConfig, frame: pd.DataFrame) -> ScoredPart:
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
    return ScoredPart(
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

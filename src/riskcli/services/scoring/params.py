"""Training parameters of a scorecard (the [scoring] section of the TOML config): grade bands,
points scaling, binning and factor selection."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from riskcli.services.scoring.columns import FloatArray

Monotonic = Literal["auto", "asc", "desc", "none"]


class GradeBand(BaseModel):
    """A grade and the upper PD bound of its band (exclusive); the last band has max_pd 1."""

    model_config = ConfigDict(extra="forbid")
    grade: str
    max_pd: float = Field(gt=0, le=1)
    description: str = ""


DEFAULT_GRADES: list[GradeBand] = [
    GradeBand(grade="A", max_pd=0.01, description="PD below 1%"),
    GradeBand(grade="B", max_pd=0.03, description="PD 1% to 3%"),
    GradeBand(grade="C", max_pd=0.08, description="PD 3% to 8%"),
    GradeBand(grade="D", max_pd=0.20, description="PD 8% to 20%"),
    GradeBand(grade="E", max_pd=1.0, description="PD 20% and above"),
]


class Scaling(BaseModel):
    """Points scaling: `base_points` at odds `base_odds`:1 (good:bad), `pdo` points double them."""

    model_config = ConfigDict(extra="forbid")
    base_points: float = 600.0
    base_odds: float = Field(default=50.0, gt=0)
    pdo: float = Field(default=20.0, gt=0)
    points_decimals: int = Field(default=0, ge=0, le=6)

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def pd_from_score(self, score: FloatArray) -> FloatArray:
        import numpy as np  # on use: a stored card is read without numpy

        z = np.clip((np.asarray(score, dtype=np.float64) - self.offset) / self.factor, -700, 700)
        out: FloatArray = 1.0 / (1.0 + np.exp(z))
        return out

    def score_from_pd(self, pd_: float) -> float:
        return self.offset + self.factor * math.log((1.0 - pd_) / pd_)


class BinningParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_prebins: int = Field(default=20, ge=2, le=100)
    max_bins: int = Field(default=6, ge=2, le=50)
    min_bin_frac: float = Field(default=0.02, gt=0, lt=0.5)
    monotonic: Monotonic = "auto"
    monotonic_by_factor: dict[str, Monotonic] = Field(default_factory=dict)
    categorical: list[str] = Field(default_factory=list)
    special_codes: list[float] = Field(default_factory=list)
    special_codes_by_factor: dict[str, list[float]] = Field(default_factory=dict)
    rare_category_frac: float = Field(default=0.01, ge=0, lt=0.5)
    unseen_category: Literal["worst", "neutral", "error"] = "worst"
    smoothing: float = Field(default=0.5, ge=0)


class ScorecardParams(BaseModel):
    """Training parameters; every one is documented in docs/configuration.md."""

    model_config = ConfigDict(extra="forbid")
    binning: BinningParams = Field(default_factory=BinningParams)
    min_iv: float = Field(default=0.02, ge=0)
    max_corr: float = Field(default=0.8, gt=0, le=1)
    max_factors: int | None = Field(default=None, ge=1)
    min_bads: int = Field(default=50, ge=1)
    min_goods: int = Field(default=50, ge=1)
    regularization_c: float = Field(default=0.05, gt=0)
    scaling: Scaling = Field(default_factory=Scaling)
    grades: list[GradeBand] = Field(default_factory=lambda: list(DEFAULT_GRADES))
    reasons: int = Field(default=4, ge=1, le=10)

    @field_validator("grades")
    @classmethod
    def _grades_ordered(cls, value: list[GradeBand]) -> list[GradeBand]:
        bounds = [g.max_pd for g in value]
        if not value or bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError("grade bands must have strictly increasing max_pd")
        if bounds[-1] != 1.0:
            raise ValueError("the last grade band must have max_pd = 1")
        return value

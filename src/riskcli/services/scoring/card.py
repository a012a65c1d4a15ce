"""The fitted scorecard as plain data: bins, factors, overrides, its JSON form (no pickle), the
labels of its bins and the points table a credit committee reads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from riskcli.services.scoring.params import DEFAULT_GRADES, GradeBand, Scaling

FORMAT = "riskcli.scorecard/1"


class Bin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["range", "categories", "other", "missing", "special"]
    lo: float | None = None  # range: lo <= x < hi ; None is unbounded
    hi: float | None = None
    values: list[str] = Field(default_factory=list)
    code: float | None = None
    label: str
    count: int = 0
    bads: int = 0
    woe: float = 0.0
    points: float = 0.0


class Factor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    type: Literal["numeric", "categorical"]
    monotonic: Literal["asc", "desc", "none"] = "none"
    iv: float = 0.0
    coef: float = 0.0
    bins: list[Bin]
    unseen_category: Literal["worst", "neutral", "error"] = "worst"

    def best_points(self) -> float:
        return max(b.points for b in self.bins)

    def edges(self) -> list[float]:
        return [b.hi for b in self.bins if b.kind == "range" and b.hi is not None]


class Override(BaseModel):
    """A rule that forces a grade, e.g. a bankruptcy flag forces the worst grade."""

    model_config = ConfigDict(extra="forbid")
    factor: str
    equals: float
    grade: str
    reason: str


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = FORMAT
    kind: Literal["trained", "expert"] = "trained"
    target: str = "bad"
    intercept: float = 0.0
    scaling: Scaling = Field(default_factory=Scaling)
    grades: list[GradeBand] = Field(default_factory=lambda: list(DEFAULT_GRADES))
    factors: list[Factor]
    overrides: list[Override] = Field(default_factory=list)
    reasons: int = 4
    dropped: dict[str, str] = Field(default_factory=dict)

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Scorecard:
        return cls.model_validate(data)


def fmt_number(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e15 else f"{x:.6g}"


def range_label(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return "any value"
    if lo is None:
        assert hi is not None
        return f"< {fmt_number(hi)}"
    if hi is None:
        return f">= {fmt_number(lo)}"
    return f"{fmt_number(lo)} to < {fmt_number(hi)}"


def points_table(card: Scorecard) -> list[dict[str, Any]]:
    """One row per factor and bin: what a credit committee reads."""
    rows: list[dict[str, Any]] = []
    for f in card.factors:
        for b in f.bins:
            rows.append(
                {
                    "factor": f.name,
                    "bin": b.label,
                    "count": b.count,
                    "bads": b.bads,
                    "bad_rate": round(b.bads / b.count, 4) if b.count else None,
                    "woe": round(b.woe, 4),
                    "points": b.points,
                    "iv": round(f.iv, 4),
                }
            )
    return rows

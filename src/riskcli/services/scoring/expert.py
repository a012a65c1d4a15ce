"""An expert scorecard for a book with no default history, configured in TOML.

The shipped default is `examples/expert_scorecard.toml` (kept identical to `DEFAULT_EXPERT`
below; a test checks it). Numeric factors give points per bin between `cuts`, categorical ones
per group of values; every factor has documented `missing` points. Overrides force a grade,
e.g. bankruptcy or the dishonest-debtor list force the worst grade. The PD is the nominal PD of
the points scaling, not a calibrated one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskcli.domain.errors import InputError, invalid
from riskcli.services.scoring.card import Bin, Factor, Override, Scorecard, fmt_number, range_label
from riskcli.services.scoring.params import DEFAULT_GRADES, GradeBand, Scaling


class ExpertGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: list[str]
    points: float


class ExpertFactor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    cuts: list[float] = Field(default_factory=list)
    points: list[float] = Field(default_factory=list)
    groups: list[ExpertGroup] = Field(default_factory=list)
    other: float | None = None
    missing: float

    @model_validator(mode="after")
    def _shape(self) -> ExpertFactor:
        if self.groups:
            if self.cuts or self.points:
                raise ValueError(f"{self.name}: give either cuts/points or groups, not both")
            if self.other is None:
                raise ValueError(f"{self.name}: a categorical factor needs `other` points")
        else:
            if len(self.points) != len(self.cuts) + 1:
                raise ValueError(f"{self.name}: points must have one more entry than cuts")
            if self.cuts != sorted(set(self.cuts)):
                raise ValueError(f"{self.name}: cuts must be strictly increasing")
        return self


class ExpertSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "expert"
    description: str = ""
    scaling: Scaling = Field(default_factory=Scaling)
    grades: list[GradeBand] = Field(default_factory=lambda: list(DEFAULT_GRADES))
    factors: list[ExpertFactor]
    overrides: list[Override] = Field(default_factory=list)
    reasons: int = Field(default=4, ge=1, le=10)


def _factor(spec: ExpertFactor) -> Factor:
    bins: list[Bin] = []
    if spec.groups:
        for g in spec.groups:
            members = sorted(str(v) for v in g.values)
            bins.append(
                Bin(kind="categories", values=members, label=", ".join(members), points=g.points)
            )
        assert spec.other is not None
        bins.append(Bin(kind="other", label="another value", points=spec.other))
        bins.append(Bin(kind="missing", label="missing", points=spec.missing))
        return Factor(
            name=spec.name,
            description=spec.description or spec.name,
            type="categorical",
            bins=bins,
            unseen_category="neutral",
        )
    edges: list[float | None] = [None, *spec.cuts, None]
    for i, pts in enumerate(spec.points):
        lo, hi = edges[i], edges[i + 1]
        bins.append(Bin(kind="range", lo=lo, hi=hi, label=range_label(lo, hi), points=pts))
    bins.append(Bin(kind="missing", label="missing", points=spec.missing))
    rising = spec.points == sorted(spec.points)
    falling = spec.points == sorted(spec.points, reverse=True)
    return Factor(
        name=spec.name,
        description=spec.description or spec.name,
        type="numeric",
        # points rise => risk falls with the value ("desc" names the bad-rate direction)
        monotonic="desc" if rising and not falling else "asc" if falling else "none",
        bins=bins,
    )


def expert_scorecard(data: dict[str, Any]) -> tuple[Scorecard, ExpertSpec]:
    try:
        spec = ExpertSpec.model_validate(data)
    except ValidationError as exc:
        raise invalid("expert scorecard", exc) from None
    card = Scorecard(
        kind="expert",
        target="expert",
        scaling=spec.scaling,
        grades=spec.grades,
        factors=[_factor(f) for f in spec.factors],
        overrides=spec.overrides,
        reasons=spec.reasons,
    )
    return card, spec


def load_expert_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from None


_DEFAULT = """\
# riskcli expert scorecard, for a book without default history (`riskcli score expert`).
# Points add up to a score; the scaling maps the score to a nominal PD the same way a trained
# model does, but flatter (base 520 at odds 50:1, 40 points double the odds) so a customer
# with middling or unknown factors (about 440 points) lands near grade C, not E. The PD is
# nominal, not calibrated on outcomes. Each numeric factor: `cuts` split the values into bins
# (x < cuts[0], cuts[0] <= x < cuts[1], ..., x >= cuts[-1]); `points` has one more entry than
# `cuts`; `missing` is the points for a missing value. Categorical factors: `groups` of values
# with their points, `other` for a value not listed, `missing` for none.
# Overrides: a flag that forces a grade whatever the points.

name = "expert"
description = "Expert scorecard shipped with riskcli"

[scaling]
base_points = 520
base_odds = 50
pdo = 40

[[factors]]
name = "worst_dpd_12m"
description = "worst days past due in the last 12 months"
cuts = [1, 15, 30, 60, 90]
points = [80, 70, 58, 40, 22, 0]
missing = 58

[[factors]]
name = "late_invoices_12m"
description = "invoices 30+ days late in the last 12 months"
cuts = [1, 2, 4]
points = [50, 36, 22, 7]
missing = 40

# arrears now, whatever their age: an old unpaid invoice is never in a best bin
[[factors]]
name = "oldest_open_dpd"
description = "days past due of the oldest open invoice"
cuts = [1, 31, 61, 91]
points = [30, 18, 8, 2, 0]
missing = 20

[[factors]]
name = "overdue_share"
description = "share of the outstanding amount that is past due"
cuts = [0.01, 0.25, 0.5]
points = [20, 12, 5, 0]
missing = 12

[[factors]]
name = "utilisation"
description = "credit limit utilisation"
cuts = [0.5, 0.8, 1.0, 1.2]
points = [60, 50, 35, 20, 5]
missing = 45

[[factors]]
name = "debt_ratio"
description = "debt ratio (liabilities / assets)"
cuts = [0.4, 0.6, 0.8, 1.0]
points = [60, 50, 35, 20, 5]
missing = 35

[[factors]]
name = "current_ratio"
description = "current ratio (current assets / current liabilities)"
cuts = [0.8, 1.0, 1.5, 2.0]
points = [10, 25, 40, 50, 55]
missing = 30

[[factors]]
name = "revenue_trend"
description = "revenue change on the previous period"
cuts = [-0.2, -0.05, 0.05, 0.2]
points = [10, 25, 40, 50, 55]
missing = 30

[[factors]]
name = "order_trend"
description = "order volume change, last 6 months on the 6 before"
cuts = [-0.3, -0.1, 0.1]
points = [15, 30, 40, 45]
missing = 30

[[factors]]
name = "years_in_business"
description = "years in business"
cuts = [2, 5, 10]
points = [15, 30, 40, 50]
missing = 20

[[factors]]
name = "tenure_months"
description = "months as a customer"
cuts = [12, 36, 60]
points = [20, 30, 40, 45]
missing = 20

[[factors]]
name = "bureau_score"
description = "third-party bureau score"
cuts = [500, 600, 700]
points = [10, 40, 60, 75]
missing = 35

[[factors]]
name = "adverse_flags"
description = "adverse third-party flags (lawsuit, tax, other)"
cuts = [1, 2]
points = [50, 15, 0]
missing = 35

[[factors]]
name = "industry"
description = "industry"
other = 30
missing = 25
# groups by the industries' default experience; Chinese names as Excel exports write them,
# English ones for books kept in English
[[factors.groups]]
values = ["医药医疗", "信息技术", "专业服务", "healthcare", "software", "utilities"]
points = 45
[[factors.groups]]
values = ["制造业", "能源化工", "交通运输", "批发零售", "manufacturing", "wholesale",
  "logistics", "retail"]
points = 35
[[factors.groups]]
values = ["农林牧渔", "教育培训", "餐饮住宿", "agriculture", "education", "hospitality"]
points = 25
[[factors.groups]]
values = ["建筑业", "房地产", "construction", "real estate"]
points = 15

[[overrides]]
factor = "bankruptcy"
equals = 1
grade = "E"
reason = "bankruptcy on a third-party report"

[[overrides]]
factor = "dishonest_debtor"
equals = 1
grade = "E"
reason = "on the dishonest-debtor list"
"""


def default_expert() -> dict[str, Any]:
    """The shipped default (same content as examples/expert_scorecard.toml)."""
    return tomllib.loads(_DEFAULT)


def points_range(card: Scorecard) -> tuple[float, float]:
    lo = sum(min(b.points for b in f.bins) for f in card.factors)
    hi = sum(max(b.points for b in f.bins) for f in card.factors)
    return lo, hi


def describe(card: Scorecard) -> str:
    lo, hi = points_range(card)
    return f"{len(card.factors)} factors, points {fmt_number(lo)} to {fmt_number(hi)}"

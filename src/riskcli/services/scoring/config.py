"""The `[scoring]` section of the TOML config, with its documented defaults.

[scoring]
min_iv = 0.02            # drop factors with less information value
max_corr = 0.7           # drop the weaker of two factors correlated above this (on WOE)
min_bads = 50            # fewer bad outcomes: train refuses and points to `score expert`
holdout = 0.3            # validation share (out-of-time when dates allow)
folds = 5                # k-fold cross-validation (0 = off)
horizon = "12m"          # outcome window of `score train --from-store`
[scoring.scaling]
base_points = 600
base_odds = 50
pdo = 20
[scoring.binning]
monotonic = "auto"       # auto | asc | desc | none
max_bins = 6
min_bin_frac = 0.02
[scoring.limits]         # the need policy: see riskcli.services.scoring.limits
method = "need"          # or "months_of_sales" (months_of_sales = { A = 3, ... })
grace_days = 30
peak_headroom = 1.2
grade_factors = { A = 1, B = 1, C = 0.75, D = 0.5, E = 0, DF = 0 }
max_limit = 5000000
max_share_of_net_assets = 0.2
round_to = 1000
min_limit = 1000
min_history_months = 3
starter_limit = 50000
[[scoring.grades]]       # replace the whole list to change the PD bands
grade = "A"
max_pd = 0.01
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from riskcli.domain.errors import InputError, invalid
from riskcli.services.book import DefaultPolicy, LossPolicy, load_credit_config
from riskcli.services.scoring.limit_policy import LimitPolicy
from riskcli.services.scoring.params import ScorecardParams


class ScoringConfig(ScorecardParams):
    holdout: float = Field(default=0.3, gt=0, lt=1)
    folds: int = Field(default=5, ge=0, le=20)
    challenger: bool = False
    horizon: str = "12m"
    snapshots: int = Field(default=1, ge=1, le=12)
    seed: int = 0
    limits: LimitPolicy = Field(default_factory=LimitPolicy)
    expert: dict[str, Any] = Field(default_factory=dict)
    target: str = Field(default="default", pattern="^(default|dpd90)$")
    # from the [credit] section (riskcli.services.book), not [scoring]
    default_policy: DefaultPolicy = Field(default_factory=DefaultPolicy)
    loss: LossPolicy = Field(default_factory=LossPolicy)

    def scorecard_params(self) -> ScorecardParams:
        return ScorecardParams.model_validate(
            self.model_dump(include=set(ScorecardParams.model_fields))
        )


def load_scoring_config(config: dict[str, Any] | None) -> ScoringConfig:
    section = (config or {}).get("scoring", {})
    if not isinstance(section, dict):
        raise InputError("config section [scoring] must be a table")
    credit = load_credit_config(config)
    section = {**section, "default_policy": credit.default, "loss": credit.loss}
    try:
        return ScoringConfig.model_validate(section)
    except ValidationError as exc:
        raise invalid("config [scoring]", exc) from None

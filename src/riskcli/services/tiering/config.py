"""Settings of the `[tiering]` section, with their documented defaults.

Every threshold here is listed in docs/configuration.md (meaning: docs/tiers.md). A TOML file
overrides them:

    [tiering]
    window = "12m"
    tier_shares = { A = 0.5, B = 0.3, C = 0.15 }
    [tiering.policies]
    A = "Dedicated account manager, quarterly visit"
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from riskcli.domain.errors import InputError, invalid

TIERS: tuple[str, ...] = ("A", "B", "C", "D")

DEFAULT_POLICIES: dict[str, str] = {
    "A": "Dedicated account manager; quarterly visit; priority delivery and credit review",
    "B": "Named account manager; half-yearly review; proactive offers",
    "C": "Shared service team; yearly review; standard terms",
    "D": "Self-service portal and standard terms; no proactive visits",
}

_WINDOW_RE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1.0, "w": 7.0, "m": 365.25 / 12, "y": 365.25}


def parse_window(text: str) -> int:
    """`90d`, `26w`, `12m`, `2y` -> whole days (a month is 365.25/12 days). Must be positive."""
    match = _WINDOW_RE.match(str(text))
    if not match:
        raise InputError(f"window {text!r} is not understood: use a number and d, w, m or y (12m)")
    days = round(int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()])
    if days <= 0:
        raise InputError(f"window {text!r} must be longer than zero days")
    return days


class TieringConfig(BaseModel):
    """The `[tiering]` section. Defaults are documented in docs/configuration.md."""

    model_config = ConfigDict(extra="forbid")

    window: str = "12m"
    method: Literal["rfm", "kmeans"] = "rfm"
    # cumulative value shares of tiers A, B, C (D holds the rest and every customer with no value)
    tier_shares: dict[str, float] = Field(default_factory=lambda: {"A": 0.5, "B": 0.3, "C": 0.15})
    # lifecycle
    new_days: int = Field(90, ge=1)
    at_risk_factor: float = Field(2.0, gt=0)
    dormant_days: int = Field(180, ge=1)
    dormant_factor: float = Field(4.0, gt=0)
    churned_days: int = Field(365, ge=1)
    churned_factor: float = Field(8.0, gt=0)
    min_interval_days: float = Field(7.0, gt=0)
    max_interval_days: float = Field(365.0, gt=0)
    default_interval_days: float = Field(90.0, gt=0)
    # kmeans
    kmeans_clusters: int = Field(4, ge=2, le=8)
    kmeans_seed: int = 0
    silhouette_sample: int = Field(3_000, ge=100, le=50_000)
    # service policy text per tier
    policies: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_POLICIES))

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_window(value)
        return value

    @field_validator("tier_shares")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"A", "B", "C"}:
            raise ValueError("needs exactly the keys A, B and C (D takes the rest)")
        if any(v <= 0 for v in value.values()):
            raise ValueError("every share must be above 0")
        if sum(value.values()) > 1.0 + 1e-9:
            raise ValueError("A + B + C must not exceed 1")
        return value

    @field_validator("policies")
    @classmethod
    def _policies(cls, value: dict[str, str]) -> dict[str, str]:
        merged = dict(DEFAULT_POLICIES)
        merged.update(value)
        return merged

    @model_validator(mode="after")
    def _order(self) -> TieringConfig:
        if not self.dormant_days <= self.churned_days:
            raise ValueError("dormant_days must not exceed churned_days")
        if not self.min_interval_days <= self.max_interval_days:
            raise ValueError("min_interval_days must not exceed max_interval_days")
        return self

    @property
    def window_days(self) -> int:
        return parse_window(self.window)

    def cumulative_bounds(self) -> list[float]:
        """Upper bounds of the value share held by customers above a tier: A, B, C."""
        a, b, c = (self.tier_shares[k] for k in ("A", "B", "C"))
        return [round(a, 9), round(a + b, 9), round(a + b + c, 9)]

    def tier_labels(self, method: str) -> tuple[str, ...]:
        if method == "kmeans":
            return tuple("ABCDEFGH"[: self.kmeans_clusters])
        return TIERS

    def policy(self, tier: str | None) -> str:
        if tier is None:
            return "No tier yet: run `riskcli tier run`"
        return self.policies.get(tier, DEFAULT_POLICIES["D"])


def load_tiering_config(config: dict[str, Any] | None) -> TieringConfig:
    """The validated `[tiering]` section of a loaded config dict; one-line errors."""
    raw = (config or {}).get("tiering", {})
    if not isinstance(raw, dict):
        raise InputError("config section [tiering] must be a table")
    try:
        return TieringConfig.model_validate(raw)
    except ValidationError as exc:
        raise invalid("config [tiering]", exc, "tiering") from None

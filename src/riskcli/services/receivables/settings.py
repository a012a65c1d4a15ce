"""`[receivables]` and `[provisions]` in riskcli.toml, with their defaults."""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from riskcli.domain.errors import InputError

#: upper DPD bound of each aging bucket but the last: current (not yet due), 1-30, 31-60,
#: 61-90, 91-180, 181-365, over 365 days past due
DEFAULT_AGING = (0, 30, 60, 90, 180, 365)


class Buckets:
    """Aging buckets from their upper bounds in days past due."""

    def __init__(self, edges: tuple[int, ...] | list[int] = DEFAULT_AGING) -> None:
        self.edges = np.asarray(edges, dtype=np.int64)
        labels = ["current"]
        labels += [f"{a + 1}-{b}" for a, b in itertools.pairwise(edges)]
        labels.append(f">{edges[-1]}")
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def index(self, dpd: np.ndarray) -> np.ndarray:
        """The bucket of each days-past-due value (0 = current)."""
        return np.searchsorted(self.edges, dpd, side="left").astype(np.int64)


class ReceivablesConfig(BaseModel):
    """`[receivables]`: aging buckets, the limitation flag, how far the countback walks."""

    model_config = ConfigDict(extra="forbid")
    aging: list[int] = Field(default_factory=lambda: list(DEFAULT_AGING))
    limitation_months: int = Field(default=30, ge=1, le=120)
    countback_months: int = Field(default=12, ge=1, le=60)

    @field_validator("aging")
    @classmethod
    def _increasing(cls, v: list[int]) -> list[int]:
        if not v or v[0] != 0 or any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("must start at 0 and increase, e.g. [0, 30, 60, 90, 180, 365]")
        return v

    @property
    def buckets(self) -> Buckets:
        return Buckets(self.aging)


class ProvisionsConfig(BaseModel):
    """`[provisions]`: how the provision matrix is built (see docs/receivables.md)."""

    model_config = ConfigDict(extra="forbid")
    lookback_months: int = Field(default=24, ge=1, le=120)
    overlay: float = Field(default=1.0, ge=0)
    adjustments: dict[str, float] = Field(default_factory=dict)
    method: Literal["roll-rate", "write-off"] = "roll-rate"
    individual: Literal["full", "lgd"] = "full"
    loss_bucket_rate: float = Field(default=1.0, ge=0, le=1)


def _load(model: type[BaseModel], config: dict[str, Any] | None, name: str) -> Any:
    section = (config or {}).get(name, {})
    if not isinstance(section, dict):
        raise InputError(f"config section [{name}] must be a table")
    try:
        return model.model_validate(section)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"config [{name}] {where}: {first['msg']}") from None


def load_receivables(config: dict[str, Any] | None) -> ReceivablesConfig:
    cfg: ReceivablesConfig = _load(ReceivablesConfig, config, "receivables")
    return cfg


def load_provisions(config: dict[str, Any] | None, buckets: Buckets) -> ProvisionsConfig:
    cfg: ProvisionsConfig = _load(ProvisionsConfig, config, "provisions")
    unknown = [k for k in cfg.adjustments if k not in buckets.labels]
    if unknown:
        raise InputError(
            f"config [provisions] adjustments.{unknown[0]}: not an aging bucket "
            f"({', '.join(buckets.labels)})"
        )
    negative = [k for k, v in cfg.adjustments.items() if v < 0]
    if negative:
        raise InputError(f"config [provisions] adjustments.{negative[0]}: must be 0 or more")
    return cfg

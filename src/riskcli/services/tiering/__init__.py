"""Customer tiering and lifecycle: RFM segments, value tiers, lifecycle stages, history.

`compute` holds the pure maths on arrays; `service` reads the store, stores runs and answers
the reading commands; `lookup` answers one customer's questions without numpy or pandas.
Import from here: the maths (and numpy) load when one of its names is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from riskcli.services.tiering.config import TIERS, TieringConfig, load_tiering_config, parse_window

_COMPUTE = (
    "SEGMENTS",
    "SEGMENT_GRID",
    "STAGES",
    "TierResult",
    "Transactions",
    "compute_tiers",
    "quantile_scores",
    "value_tiers",
)

__all__ = [*_COMPUTE, "TIERS", "TieringConfig", "load_tiering_config", "parse_window"]


def __getattr__(name: str) -> Any:
    if name in _COMPUTE:
        return getattr(importlib.import_module("riskcli.services.tiering.compute"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Customer tiering and lifecycle: RFM segments, value tiers, lifecycle stages, history.

The pure maths on arrays: `transactions` (the input), `scores` (RFM scores, segments, value
tiers), `stages` (aggregates and lifecycle stages), `clusters` (KMeans tiers) and `compute`
(a whole run). `service` reads the store, stores runs and answers the reading commands;
`lookup` answers one customer's questions without numpy or pandas. Import from here: the
maths (and numpy) load when one of its names is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from riskcli.services.tiering.config import TIERS, TieringConfig, load_tiering_config, parse_window

_MATHS = {
    "SEGMENTS": "scores",
    "SEGMENT_GRID": "scores",
    "STAGES": "stages",
    "TierResult": "compute",
    "Transactions": "transactions",
    "compute_tiers": "compute",
    "quantile_scores": "scores",
    "value_tiers": "scores",
}

__all__ = [*_MATHS, "TIERS", "TieringConfig", "load_tiering_config", "parse_window"]


def __getattr__(name: str) -> Any:
    if name in _MATHS:
        return getattr(importlib.import_module(f"riskcli.services.tiering.{_MATHS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

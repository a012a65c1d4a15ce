"""Customer tiering and lifecycle: RFM segments, value tiers, lifecycle stages, history.

`compute` holds the pure maths on arrays; `service` reads the store, stores runs and answers
the reading commands. Import from here.
"""

from __future__ import annotations

from riskcli.services.tiering.compute import (
    SEGMENT_GRID,
    SEGMENTS,
    STAGES,
    TierResult,
    Transactions,
    compute_tiers,
    quantile_scores,
    value_tiers,
)
from riskcli.services.tiering.config import TIERS, TieringConfig, load_tiering_config, parse_window

__all__ = [
    "SEGMENTS",
    "SEGMENT_GRID",
    "STAGES",
    "TIERS",
    "TierResult",
    "TieringConfig",
    "Transactions",
    "compute_tiers",
    "load_tiering_config",
    "parse_window",
    "quantile_scores",
    "value_tiers",
]

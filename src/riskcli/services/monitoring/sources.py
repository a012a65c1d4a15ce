"""Optional sources owned by other capabilities: tiers (m010_tiering) and scores (m020_scoring).

They are read only when their tables exist and hold a run; otherwise the frame stays absent and
`frames.missing` says why, so the rules that need it are skipped with that reason.
"""

from __future__ import annotations

import pandas as pd

from riskcli.services.monitoring.frames import Frames
from riskcli.storage.store import Store


def load_optional(store: Store, frames: Frames, wanted: set[str]) -> None:
    tables = set(store.tables())
    if "tiers" in wanted:
        _load_tiers(store, frames, tables)
    if wanted & {"scores", "score_bins"}:
        _load_scores(store, frames, tables, wanted)


def _load_tiers(store: Store, frames: Frames, tables: set[str]) -> None:
    frames.frames["tiers"] = None
    frames.missing["tiers"] = "no tiering tables in the store (m010_tiering)"


def _load_scores(store: Store, frames: Frames, tables: set[str], wanted: set[str]) -> None:
    for name in ("scores", "score_bins"):
        frames.frames[name] = None
        frames.missing[name] = "no scoring tables in the store (m020_scoring)"


__all__ = ["load_optional", "pd"]

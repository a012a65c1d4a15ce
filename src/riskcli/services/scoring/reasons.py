"""The reason texts of stored scores: codes since migration m060, texts before."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from riskcli.domain.errors import IntegrityError
from riskcli.services.scoring.engine import ReasonTexts, Scorecard
from riskcli.storage.store import Store


class StoredReasons:
    """Looks up the reason texts of stored scores; each run's model is read once."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._models: dict[int, ReasonTexts] = {}

    def of_model(self, model_id: int) -> ReasonTexts:
        texts = self._models.get(model_id)
        if texts is None:
            model = self._store.scalar("SELECT model FROM score_models WHERE id = ?", (model_id,))
            if model is None:
                raise IntegrityError(f"score model {model_id} of a stored score run is missing")
            texts = ReasonTexts(Scorecard.from_json_dict(json.loads(model)))
            self._models[model_id] = texts
        return texts

    def texts(
        self, model_id: int, bins: bytes, reasons: bytes | None, legacy: Sequence[Any] = ()
    ) -> list[str]:
        """One stored score's reason texts; `legacy` is its reason1..reason4 (before m060)."""
        return self.of_model(model_id).stored(bins, reasons, legacy)

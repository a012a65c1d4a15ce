"""The reason texts of stored scores: codes since migration m060, texts before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from riskcli.services.scoring.reason_codes import ReasonTexts
from riskcli.services.scoring.registry import get_model
from riskcli.storage.store import Store


class StoredReasons:
    """Looks up the reason texts of stored scores; each run's model is read once."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._models: dict[int, ReasonTexts] = {}

    def of_model(self, model_id: int) -> ReasonTexts:
        texts = self._models.get(model_id)
        if texts is None:  # a run's model is never deleted (score_runs.model_id references it)
            texts = ReasonTexts(get_model(self._store, model_id).card)
            self._models[model_id] = texts
        return texts

    def texts(
        self,
        model_id: int,
        bins: bytes,
        reasons: bytes | None,
        legacy: Sequence[Any] = (),
        kind: str | None = None,
    ) -> list[str]:
        """One stored score's reason texts; `legacy` is its reason1..reason4 (before m060);
        `kind` (individual, company) leaves out the factors that do not apply to it."""
        return self.of_model(model_id).stored(bins, reasons, legacy, kind)

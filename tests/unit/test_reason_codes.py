"""One stored score's reasons decoded in plain Python read exactly as the vectorised decoding."""

from __future__ import annotations

import numpy as np
import pytest

from riskcli.domain.errors import IntegrityError
from riskcli.services.scoring.expert import default_expert, expert_scorecard
from riskcli.services.scoring.reason_codes import ReasonTexts, codes_of_bytes


def _vectorised(texts: ReasonTexts, bins: bytes, blob: bytes) -> list[str]:
    row = np.frombuffer(bins, dtype=np.uint8)[None, :]
    codes = codes_of_bytes(np.frombuffer(blob, dtype=np.uint8).astype(np.int16))
    return [str(t) for t in texts.matrix(row, codes[None, :])[0]]


def test_every_stored_byte_reads_as_the_vectorised_form() -> None:
    card, _spec = expert_scorecard(default_expert())
    assert card.overrides  # the bytes of overrides are covered too
    texts = ReasonTexts(card)
    last_bins = bytes(len(f.bins) - 1 for f in card.factors)
    valid = [*range(len(card.factors)), 0xF0, *(0xFF - i for i in range(len(card.overrides)))]
    for bins in (bytes(len(card.factors)), last_bins):
        for byte in valid:
            blob = bytes([byte, 0]) if byte else bytes([byte])
            assert texts.stored(bins, blob) == _vectorised(texts, bins, blob)
    assert texts.stored(last_bins, bytes([0xF0]))[0].startswith("in default")


@pytest.mark.parametrize(
    ("bins", "blob", "message"),
    [
        (None, bytes([0xEF]), "a stored score names a reason its model does not have"),
        ("too high", bytes([0]), "a stored score names a bin its model does not have"),
        (None, bytes([0xF1]), "a stored score names an override its model does not have"),
    ],
)
def test_a_damaged_stored_score_is_an_integrity_error_both_ways(
    bins: str | None, blob: bytes, message: str
) -> None:
    card, _spec = expert_scorecard(default_expert())
    texts = ReasonTexts(card)
    row = bytes([200] * len(card.factors)) if bins else bytes(len(card.factors))
    with pytest.raises(IntegrityError) as plain:
        texts.stored(row, blob)
    with pytest.raises(IntegrityError) as vectorised:
        _vectorised(texts, row, blob)
    assert str(plain.value) == str(vectorised.value) == message

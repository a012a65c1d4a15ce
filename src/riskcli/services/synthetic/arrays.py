"""The generator's array types and the small numeric helpers its steps share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]
BoolArr = npt.NDArray[np.bool_]
Bytes2D = npt.NDArray[np.uint8]

_EPOCH = date(1970, 1, 1)


def sigmoid(x: FloatArr) -> FloatArr:
    return 1.0 / (1.0 + np.exp(-x))


def day(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def expand(counts: IntArr) -> tuple[IntArr, IntArr]:
    """For per-customer counts: the customer index of each row and the row's rank within it."""
    owner = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(owner.shape[0], dtype=np.int64) - starts[owner]
    return owner, rank


def choice(rng: np.random.Generator, n: int, shares: Sequence[float]) -> IntArr:
    """n draws of an index, each index drawn in proportion to its share."""
    p = np.asarray(shares, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").astype(np.int64)


def round_to(cents: npt.NDArray[np.floating[Any]], step_cents: int) -> IntArr:
    """Amounts in cents rounded to the nearest step_cents (half to even)."""
    return (np.round(cents / step_cents) * step_cents).astype(np.int64)

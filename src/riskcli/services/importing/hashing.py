"""Stable 64-bit hashes of column values and of rows: the row hash that tells an unchanged row
on re-import, the key hashes that find duplicates, and the derived keys of rows without one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_NULL_INT = -(2**63)


def column_hash(values: np.ndarray, *, numeric: bool, categorize: bool) -> np.ndarray:
    """A stable 64-bit hash of each value of one column (None hashes like no real value)."""
    if numeric:
        ints = pa.array(values, type=pa.int64(), from_pandas=True)
        arr: np.ndarray = pc.fill_null(ints, _NULL_INT).to_numpy()
    else:
        arr = values.astype(object, copy=True)
        arr[values == None] = "\x00"  # noqa: E711
    return np.asarray(pd.util.hash_array(arr, categorize=categorize), dtype=np.uint64)


_MIX = np.uint64(0x9E3779B97F4A7C15)


def combine_hashes(hashes: Sequence[np.ndarray]) -> np.ndarray:
    """Order-sensitive combination of per-column hashes into one per row."""
    out = np.zeros(len(hashes[0]), dtype=np.uint64) if len(hashes) else np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        for h in hashes:
            out = (out * _MIX) ^ h
    return out


def hash_columns(
    columns: dict[str, np.ndarray], numeric: Sequence[str], *, categorize: bool = True
) -> np.ndarray:
    """A stable 64-bit hash per row over the given columns (None-safe)."""
    return combine_hashes(
        [
            column_hash(v, numeric=name in numeric, categorize=categorize)
            for name, v in columns.items()
        ]
    )

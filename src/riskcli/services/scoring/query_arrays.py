"""A query's result as numpy arrays: its numeric columns as one float matrix (NULL as NaN, no
Python object kept per cell), its text columns as lists."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from riskcli.storage.store import Store

_MISSING = -9.87654321e300  # stands for NULL on the way from SQL to numpy


def _wrapped(sql: str, k: int, texts: int = 0) -> str:
    """Wrap a query so each of its first k columns arrives as a number, NULL as the sentinel;
    the `texts` columns after them pass as they are."""
    names = [f"c{i}" for i in range(k + texts)]
    cols = [f"COALESCE({c}, {_MISSING!r})" for c in names[:k]] + names[k:]
    return f"WITH q({', '.join(names)}) AS ({sql}) SELECT {', '.join(cols)} FROM q"


def rows_and_texts(
    store: Store, sql: str, params: dict[str, Any], k: int, texts: int = 0
) -> tuple[np.ndarray, list[list[Any]]]:
    """A result's first k columns as a float matrix (NULL as NaN, no Python object kept per
    cell), and its `texts` columns after them as lists."""
    cur = store.execute(_wrapped(sql, k, texts), params)
    chunks: list[np.ndarray] = [np.empty((0, k))]
    strings: list[list[Any]] = [[] for _ in range(texts)]
    while rows := cur.fetchmany(200_000):
        numbers = (r[:k] for r in rows) if texts else rows
        flat = np.fromiter(
            itertools.chain.from_iterable(numbers), dtype=np.float64, count=len(rows) * k
        )
        chunks.append(flat.reshape(len(rows), k))
        for j, column in enumerate(strings):
            column.extend([r[k + j] for r in rows])
    out = np.concatenate(chunks)
    out[out == _MISSING] = np.nan
    return out, strings


def numeric_rows(store: Store, sql: str, params: dict[str, Any], k: int) -> np.ndarray:
    """A numeric result as a float matrix, NULL as NaN."""
    return rows_and_texts(store, sql, params, k)[0]

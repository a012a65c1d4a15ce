"""CSV bytes straight from numpy arrays: each column a fixed-width byte matrix (NUL-padded, the
NULs dropped when rows are joined), so millions of rows are formatted without Python strings.

Generated values never contain a comma, a quote or a newline, so the CSV needs no quoting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from riskcli.services.synthetic.arrays import BoolArr, Bytes2D, IntArr
from riskcli.services.synthetic.config import COLUMNS

_POW10 = np.array([10**k for k in range(1, 19)], dtype=np.int64)


def lut(values: Sequence[str]) -> Bytes2D:
    """A lookup table: one NUL-padded UTF-8 row per string."""
    encoded = [v.encode() for v in values]
    out = np.zeros((len(encoded), max(1, *(len(e) for e in encoded))), dtype=np.uint8)
    for i, e in enumerate(encoded):
        out[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
    return out


def const(text: str, n: int) -> Bytes2D:
    return np.broadcast_to(lut([text])[0], (n, len(text.encode())))


def digits(values: IntArr, width: int, *, zero_pad: bool = False) -> Bytes2D:
    """Non-negative integers as right-aligned ASCII digits (leading NULs unless zero_pad)."""
    n = len(values)
    out = np.empty((n, width), dtype=np.uint8)
    if n and int(values.max()) >= 10**width:
        raise ValueError("value too wide")
    x = values.astype(np.int64, copy=True)
    for j in range(width - 1, -1, -1):
        out[:, j] = 48 + x % 10
        x //= 10
    if not zero_pad:
        ndig = 1 + np.searchsorted(_POW10, values, side="right")
        out[np.arange(width)[None, :] < (width - ndig)[:, None]] = 0
    return out


def money_col(cents: IntArr, missing: BoolArr | None = None) -> Bytes2D:
    """Exact amounts from integer cents: -1234.50; blank where missing."""
    neg = cents < 0
    mag = np.abs(cents)
    width = len(str(int(mag.max() // 100))) if mag.size else 1
    out = np.hstack(
        [
            np.where(neg, ord("-"), 0).astype(np.uint8)[:, None],
            digits(mag // 100, width),
            np.full((mag.shape[0], 1), ord("."), dtype=np.uint8),
            digits(mag % 100, 2, zero_pad=True),
        ]
    )
    if missing is not None:
        out[missing] = 0
    return out


def date_col(days: IntArr, missing: BoolArr | None = None) -> Bytes2D:
    """ISO dates from days since 1970-01-01; blank where missing."""
    n = len(days)
    use = days[~missing] if missing is not None and missing.any() else days
    if use.size == 0:
        return np.zeros((n, 1), dtype=np.uint8)
    lo, hi = int(use.min()), int(use.max())
    iso = np.arange(lo, hi + 1).astype("datetime64[D]").astype("S10")
    table = iso.view(np.uint8).reshape(-1, 10)
    idx = np.clip(days - lo, 0, hi - lo)
    out = table[idx]
    if missing is not None:
        out[missing] = 0
    return out


def id_col(prefix: str, numbers: IntArr, width: int) -> Bytes2D:
    return np.hstack([const(prefix, numbers.shape[0]), digits(numbers, width, zero_pad=True)])


def rows(columns: Sequence[Bytes2D]) -> bytes:
    """Join columns with commas and rows with newlines, dropping the NUL padding."""
    n = columns[0].shape[0]
    if n == 0:
        return b""
    comma = np.full((n, 1), ord(","), dtype=np.uint8)
    newline = np.full((n, 1), ord("\n"), dtype=np.uint8)
    parts: list[Bytes2D] = []
    for i, col in enumerate(columns):
        parts.append(col)
        parts.append(newline if i == len(columns) - 1 else comma)
    flat = np.hstack(parts).reshape(-1)
    kept: bytes = flat[flat != 0].tobytes()  # a mask beats bytes.replace on scattered NULs
    return kept


def header(kind: str) -> bytes:
    return (",".join(COLUMNS[kind]) + "\n").encode()

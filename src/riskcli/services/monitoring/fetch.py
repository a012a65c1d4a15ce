"""Fast reads of query results into numpy: chunked matrices and SQLite-packed integer strings.

Fetching a row into Python costs about a microsecond, so the loaders of `monitoring.load` and
`monitoring.sources` read their big tables through these: dates become day numbers and kinds
small codes in SQL, and whole chunks of rows come back as one string numpy parses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskcli.storage.store import Store

CHUNK_ROWS = 500_000
#: rows of `packed_ints` per chunk at most (bounds the size of one packed string)
PACK_SPAN = 2_000_000
#: what a NULL integer becomes in `packed_ints` (outside any window of day numbers)
NULL_INT = -(2**62)
#: joins the text values of a chunk in `packed` (the ASCII unit separator, char(31))
SEP = "\x1f"


class Collision(Exception):
    """A text value holds the separator `packed` joins with."""


def day_sql(column: str) -> str:
    """SQL for an ISO date column as days since 1970-01-01 (NULL stays NULL)."""
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def kind_sql(column: str, kinds: tuple[str, ...]) -> str:
    """SQL for a text column as its position in `kinds` (anything else: -1)."""
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(kinds))
    return f"CASE {column} {whens} ELSE -1 END"


def _matrix(
    store: Store, sql: str, width: int, dtype: type, params: tuple[Any, ...] = ()
) -> np.ndarray:
    """Fetch a numeric result in chunks into one matrix of `dtype` (NULL -> NaN for floats)."""
    cur = store.conn.execute(sql, params)
    parts: list[np.ndarray] = []
    while rows := cur.fetchmany(CHUNK_ROWS):
        parts.append(np.array(rows, dtype=dtype).reshape(-1, width))
    return np.concatenate(parts) if parts else np.empty((0, width), dtype=dtype)


def float_matrix(store: Store, sql: str, width: int, params: tuple[Any, ...] = ()) -> np.ndarray:
    """A numeric result that may hold NULL as one float64 matrix (NULL becomes NaN)."""
    return _matrix(store, sql, width, np.float64, params)


def packed_ints(
    store: Store,
    exprs: list[str],
    source: str,
    where: str = "1",
    params: tuple[Any, ...] | dict[str, Any] = (),
    *,
    key: str,
    lo: int,
    hi: int,
    span: int = PACK_SPAN,
) -> np.ndarray:
    """Integer columns as one int64 matrix without a Python object per value: SQLite joins
    each chunk of rows into one comma-separated string (inside `sqlite3_step`, so without the
    GIL) and numpy parses it. Rows come from `source` (a table or subquery) filtered by
    `where`, in ranges of `key` (an indexed integer, e.g. the rowid) from `lo` to `hi`,
    `span` values at a time. A NULL becomes `NULL_INT`. `params` may be named (a dict)."""
    m, _ = packed(store, exprs, [], source, where, params, key=key, lo=lo, hi=hi, span=span)
    return m


def packed(
    store: Store,
    exprs: list[str],
    texts: list[str],
    source: str,
    where: str,
    params: tuple[Any, ...] | dict[str, Any],
    *,
    key: str,
    lo: int,
    hi: int,
    span: int = PACK_SPAN,
) -> tuple[np.ndarray, list[list[str]]]:
    """`packed_ints` plus NOT NULL text columns, each joined by the unit separator into one
    string per chunk (same row order) and split in Python. Raises `Collision` when a text
    holds the separator (the caller then reads plainly)."""
    cells = ", ".join(f"coalesce({e}, {NULL_INT})" for e in exprs)
    aggs = [f"group_concat(concat_ws(',', {cells}), ',')"]
    aggs += [f"group_concat(coalesce({t}, ''), char(31))" for t in texts]
    named = isinstance(params, dict)
    bounds = "AND {k} >= :_lo AND {k} < :_hi" if named else "AND {k} >= ? AND {k} < ?"
    sql = f"SELECT count(*), {', '.join(aggs)} FROM {source} WHERE ({where}) " + bounds.format(
        k=key
    )
    width = len(exprs)
    parts: list[np.ndarray] = []
    columns: list[list[str]] = [[] for _ in texts]
    for start in range(lo, hi + 1, span):
        args = (
            {**params, "_lo": start, "_hi": start + span}
            if isinstance(params, dict)
            else (*params, start, start + span)
        )
        count, numbers, *joined = store.execute(sql, args).fetchone()
        if not count:
            continue
        parts.append(np.fromstring(numbers, dtype=np.int64, sep=",").reshape(-1, width))
        for column, text in zip(columns, joined, strict=True):
            values = text.split(SEP)
            if len(values) != count:
                raise Collision
            column.extend(values)
    m = np.concatenate(parts) if parts else np.empty((0, width), dtype=np.int64)
    return m, columns


def id_range(store: Store, table: str, column: str = "id") -> tuple[int, int]:
    """The smallest and largest `column` of `table`; (0, -1) when it is empty."""
    lo, hi = store.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
    return (0, -1) if lo is None else (int(lo), int(hi))


def nullable_days(column: np.ndarray) -> np.ndarray:
    """Day numbers from `packed` as the plain fetch gives them: int64 when none is NULL,
    else float64 with NaN."""
    missing = column == NULL_INT
    if not missing.any():
        return column
    out = column.astype(np.float64)
    out[missing] = np.nan
    return out


def codes(values: np.ndarray, kinds: tuple[str, ...]) -> pd.Categorical:
    """Positions from `kind_sql` as a categorical of `kinds` (-1: missing)."""
    small = np.where(values < 0, -1, values).astype(np.int8)
    dtype = pd.CategoricalDtype(categories=list(kinds))
    out: pd.Categorical = pd.Categorical.from_codes(small, dtype=dtype)
    return out


def text_codes(store: Store, table: str, column: str) -> tuple[list[str], str]:
    """The distinct values of a text column (from its index when it has one) and SQL that
    turns the column into their position (NULL and anything else: -1)."""
    values = [
        str(r[0])
        for r in store.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1"
        )
    ]
    whens = " ".join(f"WHEN {_quote(v)} THEN {i}" for i, v in enumerate(values))
    return values, (f"CASE {column} {whens} ELSE -1 END" if values else "-1")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def decode(positions: np.ndarray, values: list[str]) -> np.ndarray:
    """Positions from `text_codes` back to an object array of strings (None for -1)."""
    table = np.array([*values, None], dtype=object)
    out: np.ndarray = table[np.where(positions < 0, len(values), positions)]
    return out


def temp_ids(store: Store, name: str, ids: np.ndarray) -> None:
    """A temporary table `name` holding `ids` (made anew)."""
    store.execute(f"DROP TABLE IF EXISTS temp.{name}")
    store.execute(f"CREATE TEMP TABLE {name} (id INTEGER PRIMARY KEY)")
    store.executemany(f"INSERT INTO temp.{name} VALUES (?)", ((int(i),) for i in ids))

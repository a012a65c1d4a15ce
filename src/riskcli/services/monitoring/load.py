"""Read what the rules need from the store into frames, fast and in bounded memory.

Dates are turned into day numbers by SQLite (`julianday`), transaction kinds into small codes,
and the big tables are fetched in chunks straight into numpy arrays, so ten million transactions
never exist as ten million Python tuples at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from riskcli.services.monitoring.frames import Frames

__all__ = ["Frames", "load"]
from riskcli.storage.store import Store

CHUNK_ROWS = 500_000
TX_KINDS = ("order", "payment", "refund")
INTERACTION_KINDS = ("call", "email", "visit", "survey", "complaint")


def day_sql(column: str) -> str:
    """SQL for an ISO date column as days since 1970-01-01 (NULL stays NULL)."""
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _kind_sql(column: str, kinds: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(kinds))
    return f"CASE {column} {whens} ELSE -1 END"


def _int_matrix(store: Store, sql: str, width: int, params: tuple[Any, ...] = ()) -> np.ndarray:
    """Fetch an all-integer, never-NULL result in chunks into one int64 matrix."""
    cur = store.conn.execute(sql, params)
    parts: list[np.ndarray] = []
    while True:
        rows = cur.fetchmany(CHUNK_ROWS)
        if not rows:
            break
        parts.append(np.array(rows, dtype=np.int64).reshape(-1, width))
    if not parts:
        return np.empty((0, width), dtype=np.int64)
    return np.concatenate(parts)


def _codes(values: np.ndarray, kinds: tuple[str, ...]) -> pd.Categorical:
    codes = np.where(values < 0, -1, values).astype(np.int8)
    dtype = pd.CategoricalDtype(categories=list(kinds))
    out: pd.Categorical = pd.Categorical.from_codes(codes, dtype=dtype)
    return out


def load_transactions(store: Store) -> pd.DataFrame:
    sql = (
        f"SELECT id, customer_id, {_kind_sql('kind', TX_KINDS)}, {day_sql('date')}, amount "
        "FROM transactions"
    )
    m = _int_matrix(store, sql, 5)
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "customer_id": m[:, 1],
            "kind": _codes(m[:, 2], TX_KINDS),
            "date": m[:, 3].astype(np.int32),
            "amount": m[:, 4],
        }
    )


def _frame(
    store: Store, sql: str, columns: list[str], params: tuple[Any, ...] = ()
) -> pd.DataFrame:
    cur = store.conn.execute(sql, params)
    parts = []
    while True:
        rows = cur.fetchmany(CHUNK_ROWS)
        if not rows:
            break
        parts.append(pd.DataFrame.from_records(rows, columns=columns))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _days(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = (
            frame[column].astype("Int64")
            if frame[column].isna().any()
            else (frame[column].astype("int64"))
        )
    return frame


def load_core(store: Store, frames: Frames, wanted: set[str], paid_since: int) -> None:
    """The m001_core tables the enabled rules need. Receivables settled on or before
    `paid_since` can fire no rule and are left in the store."""
    if "customers" in wanted:
        frames.frames["customers"] = _frame(
            store,
            "SELECT id, external_id, industry, region, credit_limit, status FROM customers",
            ["id", "external_id", "industry", "region", "credit_limit", "status"],
        )
    if "receivables" in wanted:
        frames.frames["receivables"] = _days(
            _frame(
                store,
                f"SELECT invoice_number, customer_id, {day_sql('issue_date')}, "
                f"{day_sql('due_date')}, amount, paid_amount, {day_sql('paid_date')} "
                "FROM receivables WHERE amount > paid_amount "
                f"OR {day_sql('paid_date')} > ?",
                [
                    "invoice_number",
                    "customer_id",
                    "issue_date",
                    "due_date",
                    "amount",
                    "paid_amount",
                    "paid_date",
                ],
                (paid_since,),
            ),
            "issue_date",
            "due_date",
        )
    if "transactions" in wanted:
        frames.frames["transactions"] = load_transactions(store)
    if "credit_reports" in wanted:
        frames.frames["credit_reports"] = _frame(
            store,
            f"SELECT customer_id, provider, {day_sql('report_date')}, score, lawsuit, "
            "bankruptcy, tax_violation, dishonest_debtor FROM credit_reports",
            [
                "customer_id",
                "provider",
                "report_date",
                "score",
                "lawsuit",
                "bankruptcy",
                "tax_violation",
                "dishonest_debtor",
            ],
        )
    if "contracts" in wanted:
        frames.frames["contracts"] = _frame(
            store,
            f"SELECT contract_number, customer_id, {day_sql('end_date')}, status FROM contracts",
            ["contract_number", "customer_id", "end_date", "status"],
        )
    if "interactions" in wanted:
        inter = _frame(
            store,
            f"SELECT id, customer_id, {_kind_sql('kind', INTERACTION_KINDS)}, "
            f"{day_sql('date')}, satisfaction FROM interactions",
            ["id", "customer_id", "kind", "date", "satisfaction"],
        )
        inter["kind"] = _codes(inter["kind"].to_numpy(dtype=np.int64), INTERACTION_KINDS)
        frames.frames["interactions"] = inter


OptionalLoader = Callable[[Store, Frames], None]


def load(store: Store, as_of: int, wanted: set[str], *, paid_since: int) -> Frames:
    """Frames for the `wanted` sources; optional sources absent from the store are recorded
    in `frames.missing` with the reason."""
    from riskcli.services.monitoring import sources

    frames = Frames(as_of=as_of)
    load_core(store, frames, wanted & CORE, paid_since)
    sources.load_optional(store, frames, wanted - CORE)
    return frames


CORE = {"customers", "receivables", "transactions", "credit_reports", "contracts", "interactions"}

"""The query plans of what a read runs: the SELECTs it sends that name a table, explained."""

from __future__ import annotations

import re
from collections.abc import Callable

from riskcli.storage.store import Store


def statements_of(store: Store, read: Callable[[], object]) -> list[str]:
    """Every statement `read` sends to the store, as sent."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        read()
    finally:
        store.conn.set_trace_callback(None)
    return statements


def plans_of_reads(store: Store, read: Callable[[], object], table: str) -> list[list[str]]:
    """The query plan (its steps) of every SELECT that `read` runs and that names `table`."""
    reads = [
        s for s in statements_of(store, read)
        if s.lstrip().upper().startswith("SELECT") and re.search(rf"\b{table}\b", s)
    ]  # fmt: skip
    assert reads, f"no statement read {table}"
    return [[r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + s)] for s in reads]

"""Each chunk's customer external ids swapped for the store's row ids; unknown ones rejected.

Each chunk asks the store for its own customers, so nothing grows with the file. Once a chunk names
more than BULK_CUSTOMER_LOOKUP customers (a file not in customer order), one scan of the unique
index reads the whole book into a hash index, kept for the rest of the file: bounded by the store's
book, not by the file.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from riskcli.services.importing.validate import Checked
from riskcli.storage.store import Store

BULK_CUSTOMER_LOOKUP = 20_000  # distinct unseen customers in a chunk that trigger one full scan


class CustomerIds:
    """The customer row ids of one file's chunks (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # the whole book (external id -> row id) once a chunk names much of it; else None
        self._index: pd.Index | None = None
        self._index_ids = np.empty(0, dtype=np.int64)

    def resolve(self, c: Checked) -> None:
        """Swap the customer's external id for the store's row id; unknown ones are rejects."""
        ext = c.values["customer_id"]
        c.values["customer_ext"] = ext.copy()
        idx = np.flatnonzero(c.ok)
        ids = np.full(len(ext), None, dtype=object)
        if len(idx):
            # each distinct customer of the chunk is looked up once, rows take theirs by code
            codes, uniques = pd.factorize(ext[idx])
            found = self._customer_row_ids(uniques)[codes]
            missing = found < 0
            c.reject(idx[missing], "customer_id", "unknown customer")
            ids[idx[~missing]] = found[~missing].astype(object)
        c.values["customer_id"] = ids

    def _customer_row_ids(self, uniques: np.ndarray) -> np.ndarray:
        """Row ids of a chunk's distinct external ids (-1 when unknown)."""
        if self._index is None and len(uniques) > BULK_CUSTOMER_LOOKUP:
            self._index, self._index_ids = self._customers("SELECT external_id, id FROM customers")
        if self._index is not None:
            index, ids = self._index, self._index_ids
        else:
            wanted = json.dumps([str(u) for u in uniques.tolist()], ensure_ascii=False)
            index, ids = self._customers(
                "SELECT external_id, id FROM customers WHERE external_id IN "
                "(SELECT value FROM json_each(?))",
                (wanted,),
            )
        pos = index.get_indexer(pd.Index(uniques, dtype=object))
        found = np.full(len(uniques), -1, dtype=np.int64)
        found[pos >= 0] = ids[pos[pos >= 0]]
        return found

    def _customers(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[pd.Index, np.ndarray]:
        """(external ids as a hash index, their row ids) from a query."""
        rows = self.store.execute(sql, params).fetchall()
        ext = pd.Index([r[0] for r in rows], dtype=object)
        return ext, np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))

"""Keys for rows that come without one: an interaction's from its customer, kind, date and
note; a transaction's from its customer, kind, date, amount and how often that combination came
before in the file (counted in memory for the first chunk, then in a scratch table inside the
import's transaction, so memory stays flat however many rows lack a key)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from riskcli.services.importing.hashing import column_hash, combine_hashes, hash_columns
from riskcli.services.importing.validate import Checked
from riskcli.storage.store import Store

OCCURRENCES = "import_scratch_occurrences"


class KeyDeriver:
    """Derives the missing keys of one file's chunks (see the module docstring)."""

    def __init__(self, store: Store, kind: str) -> None:
        self.store, self.kind = store, kind
        # keyless transactions: how often each (customer, kind, date, amount) came so far: the
        # first chunk's counts here, later ones in a scratch table
        self._occurrences: tuple[np.ndarray, np.ndarray] | None = None
        self._occurrence_table = False

    def finish(self) -> None:
        """Drop the scratch table, if the file needed one."""
        if self._occurrence_table:
            self.store.execute(f"DROP TABLE {OCCURRENCES}")

    def derive(self, c: Checked) -> None:
        """Interactions without an id get one from customer, kind, date and note; transactions
        from customer, kind, date, amount and the occurrence of that combination in the file."""
        if self.kind == "transactions":
            self._derive_transaction_keys(c)
            return
        if self.kind != "interactions":
            return
        key = c.values["interaction_id"]
        blank = key == None  # noqa: E711
        if not blank.any():
            return
        parts = ["customer_ext", "kind", "date", "note"]
        hashed = hash_columns({p: c.values[p][blank] for p in parts}, ())
        key[blank] = np.array([f"auto-{h:016x}" for h in hashed.tolist()], dtype=object)

    def _derive_transaction_keys(self, c: Checked) -> None:
        """`T-` and 16 hex digits of a hash of (customer, kind, date, amount, n), n counting
        the rows of that same combination so far in the file: two identical orders on one day
        stay two rows, and the same file imported again gives the same keys."""
        key = c.values["txn_id"]
        blank = np.flatnonzero((key == None) & c.ok)  # noqa: E711
        if not len(blank):
            return
        parts = {p: c.values[p][blank] for p in ("customer_ext", "kind", "date", "amount")}
        combo = hash_columns(parts, ("amount",))
        codes, uniques = pd.factorize(combo)
        within = pd.Series(codes).groupby(codes).cumcount().to_numpy()
        before = self._occurrences_before(np.asarray(uniques, dtype=np.uint64))
        totals = before + np.bincount(codes, minlength=len(uniques))
        self._remember_occurrences(np.asarray(uniques, dtype=np.uint64), totals)
        occurrence = (before[codes] + within).astype(np.int64)
        hashed = combine_hashes([combo, column_hash(occurrence, numeric=True, categorize=False)])
        key[blank] = np.array([f"T-{h:016x}" for h in hashed.tolist()], dtype=object)

    def _occurrences_before(self, uniques: np.ndarray) -> np.ndarray:
        """How often each combination came in earlier chunks: none before the first chunk, the
        first chunk's counts from memory, after that from a scratch table in the store (inside
        the import's transaction), so memory stays flat however many rows lack a key."""
        before = np.zeros(len(uniques), dtype=np.int64)
        if self._occurrences is None:
            return before
        if not self._occurrence_table:
            self.store.execute(f"DROP TABLE IF EXISTS {OCCURRENCES}")
            self.store.execute(f"CREATE TABLE {OCCURRENCES} (h INTEGER PRIMARY KEY, n INTEGER)")
            self._occurrence_table = True
            self._remember_occurrences(*self._occurrences)
        signed = uniques.view(np.int64)
        found = self.store.execute(
            f"SELECT o.h, o.n FROM json_each(?) AS j JOIN {OCCURRENCES} AS o ON o.h = j.value",
            (json.dumps(signed.tolist()),),
        ).fetchall()
        if found:
            got = pd.Series(
                np.array([r[1] for r in found], dtype=np.int64),
                index=np.array([r[0] for r in found], dtype=np.int64),
            )
            before = got.reindex(signed).fillna(0).to_numpy().astype(np.int64)
        return before

    def _remember_occurrences(self, uniques: np.ndarray, totals: np.ndarray) -> None:
        if not self._occurrence_table:
            self._occurrences = (uniques, totals)
            return
        signed = uniques.view(np.int64)
        order = np.argsort(signed, kind="stable")  # B-tree inserts in key order are cheaper
        self.store.executemany(
            f"INSERT INTO {OCCURRENCES} (h, n) VALUES (?, ?) "
            "ON CONFLICT (h) DO UPDATE SET n = excluded.n",
            zip(signed[order].tolist(), totals[order].tolist(), strict=True),
        )

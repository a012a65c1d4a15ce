"""A chunk's valid rows written in the import's transaction: the SQL of each kind (a plain
INSERT on a first load, else an upsert that leaves rows with the same row hash alone), one
`executemany` per chunk, and a key seen earlier in the same file turned into a reject.

A key seen earlier in the file is found through the store itself: on a first load the INSERT
skips it and only then are the skipped rows looked up; on an upsert a scratch table of key
hashes lives and dies inside the import's transaction. Nothing per row is kept in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.models import KEYS, RULES
from riskcli.services.importing.hashing import column_hash, combine_hashes
from riskcli.services.importing.validate import Checked
from riskcli.storage.dbapi import Cursor
from riskcli.storage.store import Store

# keys seen earlier in a file that is upserted: a table in the store (encrypted, bounded by the
# page cache), created and dropped inside the import's transaction, so it never outlives it
SCRATCH = "import_scratch_keys"


@dataclass(frozen=True)
class Target:
    table: str
    columns: tuple[tuple[str, str], ...]  # (field, table column), key columns first
    conflict: tuple[str, ...]


def _t(table: str, pairs: str, conflict: str) -> Target:
    columns = tuple((p.split(">")[0], p.split(">")[-1]) for p in pairs.split() if p)
    return Target(table, columns, tuple(conflict.split()))


TARGETS: dict[str, Target] = {
    "customers": _t(
        "customers",
        "customer_id>external_id name kind industry region phone email national_id "
        "registered_date credit_limit account_owner status group_id parent_id",
        "external_id",
    ),
    "transactions": _t(
        "transactions", "txn_id>external_id customer_id kind date amount", "external_id"
    ),
    "receivables": _t(
        "receivables",
        "invoice_number customer_id issue_date due_date amount paid_amount paid_date "
        "written_off_date",
        "invoice_number",
    ),
    "credit_reports": _t(
        "credit_reports",
        "customer_id provider report_date score rating lawsuit bankruptcy tax_violation "
        "dishonest_debtor other_flag",
        "customer_id provider report_date",
    ),
    "contracts": _t(
        "contracts",
        "contract_number customer_id signed_date start_date end_date value status",
        "contract_number",
    ),
    "interactions": _t(
        "interactions",
        "interaction_id>external_id customer_id kind date satisfaction note",
        "external_id",
    ),
    "financials": _t(
        "financials",
        "customer_id period revenue net_income total_assets total_liabilities current_assets "
        "current_liabilities",
        "customer_id period",
    ),
}

_NUMERIC_KINDS = ("money", "int", "flag")


def insert_sql(kind: str) -> str:
    """A plain INSERT for a first load (the table was empty when the file started): any key
    already there was written by an earlier chunk of this file, so that row is a duplicate and
    is skipped; `ChunkWriter._first_load` finds and reports it."""
    target = TARGETS[kind]
    cols = [c for _, c in target.columns] + ["row_hash"]
    return (
        f"INSERT INTO {target.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT ({', '.join(target.conflict)}) DO NOTHING"
    )


def upsert_sql(kind: str) -> str:
    """INSERT .. ON CONFLICT DO UPDATE .. WHERE the row hash differs (unchanged rows stay)."""
    target = TARGETS[kind]
    cols = [c for _, c in target.columns] + ["row_hash"]
    updates = [f"{c} = excluded.{c}" for c in cols if c not in target.conflict]
    guard = ""
    if kind == "receivables":  # a file without the column never undoes a recorded write-off
        keep = "written_off_date = excluded.written_off_date"
        updates[updates.index(keep)] = (
            "written_off_date = COALESCE(excluded.written_off_date, receivables.written_off_date)"
        )
    if kind == "customers":
        updates.append("updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')")
        # an erased customer stays erased: an old file neither restores nor "updates" them
        guard = " AND NOT EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = customers.id)"
    return (
        f"INSERT INTO {target.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT ({', '.join(target.conflict)}) DO UPDATE SET {', '.join(updates)} "
        f"WHERE {target.table}.row_hash IS NOT excluded.row_hash{guard}"
    )


def fields_kinds(kind: str) -> tuple[str, ...]:
    """Fields whose storage values are integers (hashed as int64 for speed)."""
    return tuple(name for name, rule in RULES[kind].items() if rule.kind in _NUMERIC_KINDS)


FEW_VALUE_FIELDS = frozenset(
    {"customer_ext", "industry", "region", "account_owner", "provider", "rating"}
)


class ChunkWriter:
    """Writes the chunks of one file of one kind (see the module docstring)."""

    def __init__(self, store: Store, kind: str) -> None:
        self.store, self.kind = store, kind
        self.target = TARGETS[kind]
        self.sql = upsert_sql(kind)
        self.numeric = fields_kinds(kind)
        self.first_load = False
        self.duplicate_keys = 0
        self._before = 0
        # first load: rows this file inserted, as runs of consecutive rowids on consecutive lines
        # (one run per chunk unless rows were rejected), so a duplicate can name its first line
        self._run_rowids: list[np.ndarray] = []
        self._run_lines: list[np.ndarray] = []
        # upsert: the first chunk's keys wait here until a second chunk needs the scratch table
        self._pending: tuple[np.ndarray, np.ndarray] | None = None
        self._scratch = False

    def begin(self) -> None:
        """Before the first chunk: a table that is empty now is a first load."""
        self._before = int(self.store.scalar(f"SELECT count(*) FROM {self.target.table}"))
        self.first_load = self._before == 0
        if self.first_load:
            self.sql = insert_sql(self.kind)

    def inserted(self, changes: int) -> int:
        """After the last chunk: how many of the `changes` were new rows (the rest updates)."""
        if self.first_load:
            return changes
        if self._scratch:
            self.store.execute(f"DROP TABLE {SCRATCH}")
        after = int(self.store.scalar(f"SELECT count(*) FROM {self.target.table}"))
        return after - self._before

    def write(self, c: Checked, lines: np.ndarray) -> tuple[int, int]:
        """Write the chunk's valid rows; a key seen earlier in the file makes the later row a
        reject. Returns (rows changed in the store, rows written or left unchanged)."""
        good = np.flatnonzero(c.ok)
        if not len(good):
            return 0, 0
        key_fields = [self._hash_name(k) for k in KEYS[self.kind]]
        h = combine_hashes([self._column_hash(c, k)[good] for k in key_fields])
        codes, uniques = pd.factorize(h)
        first = np.zeros(len(h), dtype=bool)
        leaders = np.flatnonzero(np.diff(codes, prepend=-1) > 0)  # codes grow on first sight
        if len(leaders) != len(uniques):  # only when a key repeats in the chunk
            leaders = np.unique(codes, return_index=True)[1]
        first[leaders] = True
        row_lines = lines[good].astype(np.int64)
        first_line = row_lines[leaders]  # per distinct key: the line it was first seen on
        earlier = np.zeros(len(leaders), dtype=bool)  # per distinct key: seen in an earlier chunk
        if self.first_load:
            changes, earlier_lines = self._first_load(c, good[leaders], row_lines[leaders])
        else:
            earlier_lines = self._seen_before(h[leaders], row_lines[leaders])
            ok = np.flatnonzero(earlier_lines < 0)
            changes = 0
            if len(ok):
                cur = self.store.executemany(self.sql, self._rows(c, good[leaders[ok]]))
                changes = int(cur.rowcount)
        earlier = earlier_lines >= 0
        first_line = np.where(earlier, earlier_lines, first_line)
        dup = ~first | earlier[codes]
        if dup.any():
            reasons = np.array(
                [f"duplicate key (first on line {n})" for n in first_line[codes[dup]]]
            )
            c.reject(good[dup], KEYS[self.kind][-1], reasons)
            self.duplicate_keys += int(dup.sum())
        # rowcount sums each row's direct changes: inserted or updated, 0 when the row hash
        # matched; changes made by triggers (e.g. the erasure guard) do not count
        return changes, int(len(good) - dup.sum())

    def _first_load(self, c: Checked, pos: np.ndarray, lines: np.ndarray) -> tuple[int, np.ndarray]:
        """Insert rows (distinct keys) into the table the file started on empty. A row whose key
        an earlier chunk inserted is skipped by the INSERT; returns (rows inserted, for each row
        the line its key was first inserted from or -1)."""
        table = self.target.table
        start = int(self.store.scalar(f"SELECT coalesce(max(rowid), 0) FROM {table}")) + 1
        inserted = int(self.store.executemany(self.sql, self._rows(c, pos)).rowcount)
        earlier_lines = np.full(len(pos), -1, dtype=np.int64)
        if inserted < len(pos):
            rowids, where = self._existing_rowids(c, pos, start)
            earlier_lines[where] = self._lines_of(rowids)
        written = lines[earlier_lines < 0]
        if len(written) != inserted:
            raise RuntimeError(f"{table}: {inserted} rows inserted, {len(written)} expected")
        if inserted:
            breaks = np.flatnonzero(np.diff(written) != 1) + 1
            starts = np.concatenate([[0], breaks])
            self._run_rowids.append(start + starts)
            self._run_lines.append(written[starts])
        return inserted, earlier_lines

    def _existing_rowids(
        self, c: Checked, pos: np.ndarray, below: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rowids (< below) of rows already holding the keys of rows `pos`, and which rows."""
        target = self.target
        columns = dict((col, f) for f, col in target.columns)
        keys = [c.values[columns[col]][pos].tolist() for col in target.conflict]
        if len(keys) == 1:
            payload = json.dumps(keys[0], ensure_ascii=False)
            match = f"t.{target.conflict[0]} = j.value"
        else:
            payload = json.dumps([list(k) for k in zip(*keys, strict=True)], ensure_ascii=False)
            match = " AND ".join(
                f"t.{col} = json_extract(j.value, '$[{i}]')"
                for i, col in enumerate(target.conflict)
            )
        found = self.store.execute(
            f"SELECT j.key, t.rowid FROM json_each(?) AS j JOIN {target.table} AS t ON {match} "
            "WHERE t.rowid < ?",
            (payload, below),
        ).fetchall()
        arr = np.array(found, dtype=np.int64).reshape(-1, 2)
        return arr[:, 1], arr[:, 0]

    def _lines_of(self, rowids: np.ndarray) -> np.ndarray:
        """The file line each rowid this file inserted came from (see `_first_load`)."""
        starts = np.concatenate(self._run_rowids)
        first_lines = np.concatenate(self._run_lines)
        run = np.searchsorted(starts, rowids, side="right") - 1
        return np.asarray(first_lines[run] + (rowids - starts[run]), dtype=np.int64)

    def _record(self, h: np.ndarray, lines: np.ndarray) -> Cursor:
        """INSERT OR IGNORE key hashes and their lines into the scratch table (in key order:
        B-tree inserts in order are cheaper); the cursor's rowcount says how many were new."""
        order = np.argsort(h, kind="stable")
        return self.store.executemany(
            f"INSERT OR IGNORE INTO {SCRATCH} (h, line) VALUES (?, ?)",
            zip(h.view(np.int64)[order].tolist(), lines[order].tolist(), strict=True),
        )

    def _seen_before(self, h: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """Record distinct key hashes with their lines in the scratch table; for each, the line
        an earlier chunk recorded it from, or -1. A file of one chunk never needs the table."""
        earlier = np.full(len(h), -1, dtype=np.int64)
        if not self._scratch and self._pending is None:  # the first chunk: nothing before it
            self._pending = (h.copy(), lines.copy())
            return earlier
        if not self._scratch:
            self.store.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            self.store.execute(f"CREATE TABLE {SCRATCH} (h INTEGER PRIMARY KEY, line INTEGER)")
            self._scratch = True
            if self._pending is not None:
                self._record(*self._pending)
                self._pending = None
        cur = self._record(h, lines)
        if int(cur.rowcount) < len(h):
            signed = h.view(np.int64)
            found = self.store.execute(
                f"SELECT s.h, s.line FROM json_each(?) AS j JOIN {SCRATCH} AS s ON s.h = j.value",
                (json.dumps(signed.tolist()),),
            ).fetchall()
            got = pd.Series(
                np.array([r[1] for r in found], dtype=np.int64),
                index=np.array([r[0] for r in found], dtype=np.int64),
            )
            stored = got.reindex(signed).to_numpy()
            earlier = np.where(stored != lines, stored, -1).astype(np.int64)
        return earlier

    def _column_hash(self, c: Checked, name: str) -> np.ndarray:
        """Per-chunk cache: the key column is hashed once for duplicates and row hashes."""
        cache = c.hashes
        if name not in cache:
            cache[name] = column_hash(
                c.values[name], numeric=name in self.numeric, categorize=self._few_values(name)
            )
        return cache[name]

    def _few_values(self, name: str) -> bool:
        """Columns with few distinct values hash faster after factorising (pandas' categorize)."""
        if name in FEW_VALUE_FIELDS:
            return True
        rule = RULES[self.kind].get(name)
        return rule is not None and rule.kind in ("enum", "date", "flag", "int", "period")

    def _hash_name(self, name: str) -> str:
        """Hash and key on the customer's external id, not the store's row id."""
        return "customer_ext" if name == "customer_id" and self.kind != "customers" else name

    def row_hashes(self, c: Checked, good: np.ndarray) -> np.ndarray:
        """The row hashes `_rows` will store for rows `good` (signed, as stored)."""
        fields = [self._hash_name(f) for f, _ in self.target.columns]
        hashes = combine_hashes([self._column_hash(c, f)[good] for f in fields])
        return hashes.view(np.int64)

    def cache_hash(self, c: Checked, name: str) -> None:
        """Hash a column now, so a later change to its values (a limit kept) is not hashed."""
        self._column_hash(c, name)

    def _rows(self, c: Checked, good: np.ndarray) -> Iterable[tuple[Any, ...]]:
        fields = [f for f, _ in self.target.columns]
        hash_fields = [self._hash_name(f) for f in fields]
        hashes = combine_hashes([self._column_hash(c, f)[good] for f in hash_fields])
        columns = [c.values[f][good].tolist() for f in fields]
        # bound as a signed integer; the TEXT column stores its decimal text (converted in C)
        columns.append(hashes.view(np.int64).tolist())
        return zip(*columns, strict=True)

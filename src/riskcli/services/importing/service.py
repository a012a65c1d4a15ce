"""Import files into the store: read in chunks, map headers, validate, resolve customers, upsert.

One call is one transaction over all its files: an error, a Ctrl-C, a kill or too many rejects
leave the store as it was. Upserts key on the external id (or the natural key for credit reports
and financials) and compare a `row_hash` of the normalised values, so re-importing a file changes
nothing. Memory stays flat as a file grows: one chunk is held at a time; keys seen earlier in the
file are found through the store itself (the target table's unique key on a first load, else a
scratch table of key hashes inside the same transaction), never in a per-row list in memory.
The customer-id cache is bounded by the store's book, not by the file.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskcli.domain.errors import InputError, UsageError
from riskcli.domain.models import KEYS, RULES
from riskcli.domain.safety import neutralise_cell
from riskcli.services.importing.headers import HeaderMap, find_header_row, map_headers
from riskcli.services.importing.kinds import KINDS as KINDS
from riskcli.services.importing.readers import Source, iter_chunks
from riskcli.services.importing.validate import Checked, as_cells, check_frame
from riskcli.services.limits.importing import ImportHooks

#: a totals row's first filled cell: 合计, 总计, 小计 (with 本页 / 本月 / 累计 ...), Total(s),
#: Grand total, Subtotal, Sum; a trailing colon allowed
TOTALS_LABEL = (
    r"^\s*(?:(?:本页|本月|本期|本年|累计|全部)?(?:合\s*计|总\s*计|小\s*计)"
    r"|(?i:grand\s+total|sub\s*-?total|totals?|sum))\s*[:：]?\s*$"
)
#: fields where a line break belongs to the text
MULTILINE_FIELDS = frozenset({"note"})
CHUNK_ROWS = 100_000
BULK_CUSTOMER_LOOKUP = 20_000  # distinct unseen customers in a chunk that trigger one full scan
SAMPLE_LINES = 5  # line numbers shown per reason on the terminal
# keys seen earlier in a file that is upserted: a table in the store (encrypted, bounded by the
# page cache), created and dropped inside the import's transaction, so it never outlives it
SCRATCH = "import_scratch_keys"
OCCURRENCES = "import_scratch_occurrences"


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
    is skipped; `_FileImport._first_load` finds and reports it."""
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


@dataclass
class Problem:
    """Rejected-row problems grouped by column and reason (no values: they may be PII)."""

    column: str
    reason: str
    count: int
    lines: list[int]


@dataclass
class FileResult:
    kind: str
    file: str
    sha256: str
    fmt: str
    encoding: str | None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    dry_run: bool = False
    batch_id: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    duplicate_keys: int = 0
    limit_requests: int = 0  # customers: limit changes that became pending requests
    #: lines of totals rows (合计, 总计, 小计, Total) skipped, and of the header when a title
    #: block stood above it
    totals_lines: list[int] = field(default_factory=list)
    header_line: int = 1
    problems: list[Problem] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    def summary(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "file": self.file,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "dry_run": self.dry_run,
        }
        if self.kind == "customers":
            out["limit_requests"] = self.limit_requests
        return out


@dataclass
class ImportResult:
    files: list[FileResult]
    dry_run: bool
    aborted: bool = False
    max_rejects: int = 0
    rejects_path: Path | None = None
    probable_duplicates: list[dict[str, Any]] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # files left out for having no rows

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def totals(self) -> dict[str, int]:
        keys = ("rows", "inserted", "updated", "unchanged", "rejected")
        return {k: sum(int(getattr(f, k)) for f in self.files) for k in keys}


class ImportAborted(InputError):
    """More rejected rows than --max-rejects: nothing was written. Carries the result."""

    def __init__(self, message: str, result: ImportResult) -> None:
        super().__init__(message)
        self.result = result


class NoRows(InputError):
    """A file with no record in it (empty, or a header alone)."""


class _Rollback(Exception):
    """Raised inside the transaction of a dry run so the store rolls back."""


Progress = Callable[[int], None]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_files(
    store: Any,
    kind: str,
    sources: Sequence[Source],
    *,
    mapping: dict[str, str] | None = None,
    max_rejects: int = 0,
    dry_run: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    hooks: ImportHooks | None = None,
) -> ImportResult:
    """Import `sources` of one kind into `store` atomically; see the module docstring.

    `hooks` (riskcli.services.limits.importing) does the credit-control part: currencies,
    limit changes as requests, before/after values in the trail."""
    kind = KINDS.get(kind, kind)
    if kind not in RULES:
        raise UsageError(f"unknown import kind {kind!r} (use one of {', '.join(KINDS)})")
    return import_plan(
        store,
        [(kind, sources)],
        mapping=mapping,
        max_rejects=max_rejects,
        dry_run=dry_run,
        rejects_path=rejects_path,
        progress=progress,
        chunk_rows=chunk_rows,
        hooks=hooks,
    )


def import_plan(
    store: Any,
    plan: Sequence[tuple[str, Sequence[Source]]],
    *,
    mapping: dict[str, str] | None = None,
    max_rejects: int = 0,
    dry_run: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    skip_empty: bool = False,
    hooks: ImportHooks | None = None,
) -> ImportResult:
    """Import files of several kinds, in the order given (customers before what refers to
    them), in ONE transaction: all of it is written, or none. With `skip_empty` a file with no
    rows is left out and named in `result.empty` (a folder's file of a kind with nothing new);
    otherwise it is an error, and so is a plan whose every file is empty."""
    if max_rejects < 0:
        raise UsageError("--max-rejects must be 0 or more")
    result = ImportResult([], dry_run, max_rejects=max_rejects, rejects_path=rejects_path)
    rejects = _RejectsWriter(rejects_path)
    if hooks is not None:
        hooks.bind(store)
    # Every customer id written is looked up in `customers` inside this very transaction (the
    # write lock is held, so none can vanish), which is what the foreign key would re-check per
    # row: a random read of the wide customers table that tripled the insert cost of a file in
    # date order.
    try:
        with store.references_checked(), store.transaction():
            for kind, sources in plan:
                for src in sources:
                    job = _FileImport(store, kind, src, mapping or {}, rejects, chunk_rows, hooks)
                    try:
                        result.files.append(job.run(progress))
                    except NoRows:
                        if not skip_empty:
                            raise
                        result.empty.append(src.name)
                if hooks is not None:
                    hooks.finish(store, kind)
                if kind == "customers":
                    result.probable_duplicates = probable_duplicates(store)
            if not result.files:
                raise NoRows("no rows in any file (every file is empty or holds a header only)")
            if result.rejected > max_rejects:
                result.aborted = True
                raise ImportAborted(_abort_message(result), result)
            for fr in result.files:
                if not dry_run:
                    fr.batch_id = _record_batch(store, fr.kind, fr)
            if dry_run:
                raise _Rollback
    except _Rollback:
        with store.transaction():
            for fr in result.files:
                fr.dry_run = True
                fr.batch_id = _record_batch(store, fr.kind, fr)
    finally:
        rejects.close()
    return result


def _abort_message(result: ImportResult) -> str:
    where = f"; see {result.rejects_path}" if result.rejects_path else "; use --rejects FILE"
    return (
        f"import aborted: {result.rejected} rejected row(s) exceed --max-rejects "
        f"{result.max_rejects}; nothing was written{where}"
    )


def _record_batch(store: Any, kind: str, fr: FileResult) -> int:
    cur = store.execute(
        "INSERT INTO import_batches (kind, file_name, sha256, rows, inserted, updated, unchanged, "
        "rejected, dry_run, user, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            kind, fr.file, fr.sha256, fr.rows, fr.inserted, fr.updated, fr.unchanged,
            fr.rejected, int(fr.dry_run), store.user, fr.started_at, fr.finished_at,
        ),
    )  # fmt: skip
    return int(cur.lastrowid)


class _RejectsWriter:
    """Rejected rows, one line per problem: file, line, column, reason, raw row (JSON)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._f: IO[str] | None = None
        self._w: Any = None

    def write(self, file: str, rows: Iterable[tuple[int, str, str, dict[str, Any]]]) -> None:
        if self.path is None:
            return
        self._open()
        for line, column, reason, raw in rows:
            cells = [file, line, column, reason, json.dumps(raw, ensure_ascii=False)]
            self._w.writerow([neutralise_cell(c) for c in cells])  # opened in Excel: no formulas

    def _open(self) -> None:
        if self._f is None and self.path is not None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._f = open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._w = csv.writer(self._f)
            self._w.writerow(["file", "line", "column", "reason", "raw"])

    def close(self) -> None:
        """Always leaves the file describing this run: with no rejects, just its header."""
        self._open()
        if self._f is not None:
            self._f.close()


class _FileImport:
    def __init__(
        self,
        store: Any,
        kind: str,
        src: Source,
        mapping: dict[str, str],
        rejects: _RejectsWriter,
        chunk_rows: int,
        hooks: ImportHooks | None = None,
    ) -> None:
        self.store, self.kind, self.src, self.hooks = store, kind, src, hooks
        self.mapping, self.rejects, self.chunk_rows = mapping, rejects, chunk_rows
        self.target = TARGETS[kind]
        self.sql = upsert_sql(kind)
        self.numeric = fields_kinds(kind)
        # the whole book (external id -> row id) once a chunk names much of it; else None
        self._index: pd.Index | None = None
        self._index_ids = np.empty(0, dtype=np.int64)
        self.first_load = False
        # first load: rows this file inserted, as runs of consecutive rowids on consecutive lines
        # (one run per chunk unless rows were rejected), so a duplicate can name its first line
        self._run_rowids: list[np.ndarray] = []
        self._run_lines: list[np.ndarray] = []
        # upsert: the first chunk's keys wait here until a second chunk needs the scratch table
        self._pending: tuple[np.ndarray, np.ndarray] | None = None
        self._scratch = False
        self.problems: Counter[tuple[str, str]] = Counter()
        self.samples: dict[tuple[str, str], list[int]] = {}
        self.res = FileResult(kind, src.name, src.sha256, src.fmt, src.encoding)
        # keyless transactions: how often each (customer, kind, date, amount) came so far: the
        # first chunk's counts here, later ones in a scratch table
        self._occurrences: tuple[np.ndarray, np.ndarray] | None = None
        self._occurrence_table = False
        self.header: HeaderMap | None = None

    def run(self, progress: Progress | None) -> FileResult:
        self.res.started_at = _now()
        requests_before = self.hooks.counts["limit_requests"] if self.hooks else 0
        table = self.target.table
        before = int(self.store.scalar(f"SELECT count(*) FROM {table}"))
        self.first_load = before == 0
        if self.first_load:
            self.sql = insert_sql(self.kind)
        changes = 0
        valid = 0
        reported = 0
        for chunk in iter_chunks(self.src, self.chunk_rows, self._find_header):
            frame, lines, keep = self._mapped(chunk.table, chunk.lines)
            if not len(lines):
                continue
            if self.hooks is not None:
                frame = self.hooks.chunk(self.kind, chunk.table, keep, frame)
            checked = check_frame(self.kind, frame)
            if chunk.line_breaks is not False:
                self._line_breaks(frame, checked, lines, chunk.table.num_columns)
            self._resolve_customers(checked)
            self._derive_keys(checked)
            if self.hooks is not None:
                self.hooks.checked(checked)
                self.hooks.before_write(self, checked)
            written, wrote = self._write(checked, lines)
            if self.hooks is not None:
                self.hooks.after_write(self, checked)
            self._reject(chunk.table, keep, checked, lines)
            self.res.rows += len(lines)
            valid += wrote
            changes += written
            if progress is not None:
                done = chunk.bytes_read or self.src.size
                progress(max(0, done - reported))
                reported = max(reported, done)
        if self._occurrence_table:
            self.store.execute(f"DROP TABLE {OCCURRENCES}")
        if self.res.rows == 0:
            raise NoRows(f"{self.src.name}: no rows (the file is empty or holds a header only)")
        if self.first_load:
            self.res.inserted = changes
        else:
            if self._scratch:
                self.store.execute(f"DROP TABLE {SCRATCH}")
            after = int(self.store.scalar(f"SELECT count(*) FROM {table}"))
            self.res.inserted = after - before
        self.res.updated = changes - self.res.inserted
        self.res.unchanged = valid - changes
        if self.hooks is not None:
            self.res.unknown_columns = self.hooks.unknown_columns(self.res.unknown_columns)
            self.res.limit_requests = self.hooks.counts["limit_requests"] - requests_before
        self.res.problems = [
            Problem(col, reason, n, self.samples[(col, reason)])
            for (col, reason), n in self.problems.most_common()
        ]
        self.res.finished_at = _now()
        return self.res

    # -- steps ------------------------------------------------------------------------------
    def _mapped(
        self, table: pa.Table, lines: np.ndarray
    ) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        """Canonical columns only, fully blank rows dropped; `keep` indexes the raw table."""
        names = [str(c) for c in table.column_names]
        if self.header is None or list(self.header.columns) + self.header.unknown != names:
            self.header = map_headers(self.kind, names, self.mapping)
            self.res.columns = dict(self.header.columns)
            for u in self.header.unknown:
                if u not in self.res.unknown_columns:
                    self.res.unknown_columns.append(u)
        keep = np.arange(table.num_rows)
        nonblank = np.zeros(table.num_rows, dtype=bool)
        for name in table.column_names:
            cells = as_cells(table.column(name))
            nonblank |= pc.not_equal(cells, "").to_numpy(zero_copy_only=False)
        totals = self._totals_rows(table)
        if totals.any():
            self.res.totals_lines.extend(int(n) for n in lines[totals])
            nonblank &= ~totals
        if not nonblank.all():
            keep = np.flatnonzero(nonblank)
            table = table.take(pa.array(keep))
        cols = {field: as_cells(table.column(src)) for src, field in self.header.columns.items()}
        return pa.table(cols), lines[keep], keep

    def _find_header(self, rows: list[list[str]]) -> int:
        """The header among a file's first rows: the row naming most of this kind's fields
        (a title, a report date and blank rows above it are skipped)."""
        at = find_header_row(self.kind, rows, self.mapping)
        self.res.header_line = at + 1
        return at

    def _totals_rows(self, table: pa.Table) -> np.ndarray:
        """Rows whose first filled cell is a totals label: a sum under the data, not a record."""
        first: pa.Array | None = None
        for name in table.column_names:
            cells = as_cells(table.column(name))
            first = cells if first is None else pc.if_else(pc.equal(first, ""), cells, first)
            if not pc.any(pc.equal(first, "")).as_py():
                break
        if first is None:
            return np.zeros(table.num_rows, dtype=bool)
        labels = pc.match_substring_regex(first, TOTALS_LABEL)
        return np.asarray(labels.to_numpy(zero_copy_only=False), dtype=bool)

    def _line_breaks(self, frame: pa.Table, c: Checked, lines: np.ndarray, width: int) -> None:
        """Reject a row with a line break in a one-line field, or a quoted field that swallowed
        the records after it (an unbalanced quote): never two records merged in silence."""
        delimiter = {"csv": ",", "tsv": "\t"}.get(self.src.fmt)
        for name in frame.column_names:
            cells = as_cells(frame.column(name))
            if not pc.any(pc.match_substring(cells, "\n")).as_py():
                continue
            broken = np.flatnonzero(
                np.asarray(pc.match_substring(cells, "\n").to_numpy(zero_copy_only=False))
            )
            texts = cells.take(pa.array(broken)).to_pylist()
            for pos, text in zip(broken.tolist(), texts, strict=True):
                body = str(text).rstrip("\r\n")
                tail = body.split("\n")[1:]
                line = int(lines[pos])
                if (
                    delimiter
                    and width > 1
                    and any(len(part.split(delimiter)) >= width for part in tail)
                ):
                    span = (
                        f"line {line + 1}"
                        if len(tail) == 1
                        else f"lines {line + 1}-{line + len(tail)}"
                    )
                    c.reject(
                        np.array([pos]), name, f"unbalanced quote (line {line} swallowed {span})"
                    )
                elif name not in MULTILINE_FIELDS and tail:
                    c.reject(np.array([pos]), name, "line break in a one-line field")

    def _resolve_customers(self, c: Checked) -> None:
        """Swap the customer's external id for the store's row id; unknown ones are rejects."""
        if self.kind == "customers":
            return
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
        """Row ids of a chunk's distinct external ids (-1 when unknown).

        Each chunk asks the store for its own customers, so nothing grows with the file. Once a
        chunk names more than BULK_CUSTOMER_LOOKUP customers (a file not in customer order), one
        scan of the unique index reads the whole book into a hash index, kept for the rest of the
        file: bounded by the store's book, not by the file.
        """
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

    def _derive_keys(self, c: Checked) -> None:
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
        hashed = _hash_columns({p: c.values[p][blank] for p in parts}, ())
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
        combo = _hash_columns(parts, ("amount",))
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

    def _write(self, c: Checked, lines: np.ndarray) -> tuple[int, int]:
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
            self.res.duplicate_keys += int(dup.sum())
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

    def _record(self, h: np.ndarray, lines: np.ndarray) -> Any:
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
        if name in _FEW_VALUE_FIELDS:
            return True
        rule = RULES[self.kind].get(name)
        return rule is not None and rule.kind in ("enum", "date", "flag", "int", "period")

    def _hash_name(self, name: str) -> str:
        """Hash and key on the customer's external id, not the store's row id."""
        return "customer_ext" if name == "customer_id" and self.kind != "customers" else name

    def _reject(self, raw: pa.Table, keep: np.ndarray, c: Checked, lines: np.ndarray) -> None:
        if not c.err_pos:
            return
        positions = np.array(c.err_pos)
        self.res.rejected += len(np.unique(positions))
        for col, reason, pos in zip(c.err_col, c.err_reason, c.err_pos, strict=True):
            key = (col, reason)
            self.problems[key] += 1
            sample = self.samples.setdefault(key, [])
            if len(sample) < SAMPLE_LINES:
                sample.append(int(lines[pos]))
        if self.rejects.path is None:
            return
        wanted = np.unique(positions)
        rows = raw.take(pa.array(keep[wanted])).to_pylist()
        by_pos = dict(zip(wanted.tolist(), rows, strict=True))
        order = np.argsort(positions, kind="stable")
        self.rejects.write(
            self.src.name,
            (
                (int(lines[c.err_pos[i]]), c.err_col[i], c.err_reason[i], by_pos[c.err_pos[i]])
                for i in order.tolist()
            ),
        )

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


def fields_kinds(kind: str) -> tuple[str, ...]:
    """Fields whose storage values are integers (hashed as int64 for speed)."""
    return tuple(name for name, rule in RULES[kind].items() if rule.kind in _NUMERIC_KINDS)


_NULL_INT = -(2**63)
_FEW_VALUE_FIELDS = frozenset(
    {"customer_ext", "industry", "region", "account_owner", "provider", "rating"}
)


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


def _hash_columns(
    columns: dict[str, np.ndarray], numeric: Sequence[str], *, categorize: bool = True
) -> np.ndarray:
    """A stable 64-bit hash per row over the given columns (None-safe)."""
    return combine_hashes(
        [
            column_hash(v, numeric=name in numeric, categorize=categorize)
            for name, v in columns.items()
        ]
    )


def probable_duplicates(store: Any, limit: int = 1000) -> list[dict[str, Any]]:
    """Customers sharing a phone, email or national id under different external ids.

    One scan of the four columns, grouped in pandas (a GROUP BY per column sorted the table three
    times). The shared values themselves are not returned: they are personal data.
    """
    frame = store.query_df(
        "SELECT external_id, phone, email, national_id FROM customers "
        "WHERE phone IS NOT NULL OR email IS NOT NULL OR national_id IS NOT NULL"
    )
    out: list[dict[str, Any]] = []
    for column in ("phone", "email", "national_id"):
        part = frame.loc[frame[column].notna(), ["external_id", column]]
        shared = part[part.duplicated(column, keep=False)]
        if shared.empty:
            continue
        for _, group in shared.groupby(column, sort=True):
            out.append({"field": column, "customer_ids": sorted(map(str, group["external_id"]))})
            if len(out) >= limit:
                return out
    return out


def history(store: Any, limit: int = 50, kind: str | None = None) -> list[dict[str, Any]]:
    """Recent import batches, newest first."""
    where, params = "", []
    if kind:
        where, params = "WHERE kind = ?", [KINDS.get(kind, kind)]
    rows: list[dict[str, Any]] = store.query(
        "SELECT id, kind, file_name, substr(sha256, 1, 12) AS sha256, rows, inserted, updated, "
        f"unchanged, rejected, dry_run, user, finished_at FROM import_batches {where} "
        "ORDER BY id DESC LIMIT ?",
        (*params, limit),
    )
    return rows

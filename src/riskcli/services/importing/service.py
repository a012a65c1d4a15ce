"""Import files into the store: the orchestration of one call and of each file's chunks.

One call is one transaction over all its files: an error, a Ctrl-C, a kill or too many rejects
leave the store as it was. Each chunk is read (readers.py), mapped to canonical fields
(mapping.py), validated (validate.py), its customers resolved (customer_ids.py), its missing keys
derived (keys.py) and written (writing.py); what happened is reported (results.py). Upserts key
on the external id (or the natural key for credit reports and financials) and compare a
`row_hash` of the normalised values, so re-importing a file changes nothing. Memory stays flat as
a file grows: one chunk is held at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from riskcli.domain.errors import UsageError
from riskcli.domain.models import RULES
from riskcli.services.importing.customer_ids import CustomerIds
from riskcli.services.importing.headers import HeaderMap
from riskcli.services.importing.keys import KeyDeriver
from riskcli.services.importing.kinds import KINDS
from riskcli.services.importing.mapping import ChunkMapper
from riskcli.services.importing.readers import Source, iter_chunks
from riskcli.services.importing.results import (
    FileResult,
    ImportAborted,
    ImportResult,
    NoRows,
    Problem,
    RejectsWriter,
    abort_message,
    record_batch,
)
from riskcli.services.importing.validate import Checked, check_frame
from riskcli.services.importing.writing import ChunkWriter
from riskcli.services.limits.importing import ImportHooks
from riskcli.storage.store import Store

CHUNK_ROWS = 100_000
SAMPLE_LINES = 5  # line numbers shown per reason on the terminal


class _Rollback(Exception):
    """Raised inside the transaction of a dry run so the store rolls back."""


Progress = Callable[[int], None]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_files(
    store: Store,
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
    store: Store,
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
    rejects = RejectsWriter(rejects_path)
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
                raise ImportAborted(abort_message(result), result)
            for fr in result.files:
                if not dry_run:
                    fr.batch_id = record_batch(store, fr.kind, fr)
            if dry_run:
                raise _Rollback
    except _Rollback:
        with store.transaction():
            for fr in result.files:
                fr.dry_run = True
                fr.batch_id = record_batch(store, fr.kind, fr)
    finally:
        rejects.close()
    return result


class _FileImport:
    """One file of one kind, chunk by chunk, inside the call's transaction."""

    def __init__(
        self,
        store: Store,
        kind: str,
        src: Source,
        mapping: dict[str, str],
        rejects: RejectsWriter,
        chunk_rows: int,
        hooks: ImportHooks | None = None,
    ) -> None:
        self.store, self.kind, self.src, self.hooks = store, kind, src, hooks
        self.rejects, self.chunk_rows = rejects, chunk_rows
        self.res = FileResult(kind, src.name, src.sha256, src.fmt, src.encoding)
        self.mapper = ChunkMapper(kind, mapping, self.res, src.fmt)
        self.customers = CustomerIds(store) if kind != "customers" else None
        self.keys = KeyDeriver(store, kind)
        self.writer = ChunkWriter(store, kind)
        self.problems: Counter[tuple[str, str]] = Counter()
        self.samples: dict[tuple[str, str], list[int]] = {}

    # what the credit-control hooks read of the file being imported
    @property
    def header(self) -> HeaderMap | None:
        return self.mapper.header

    @property
    def first_load(self) -> bool:
        return self.writer.first_load

    def row_hashes(self, c: Checked, good: np.ndarray) -> np.ndarray:
        return self.writer.row_hashes(c, good)

    def cache_hash(self, c: Checked, name: str) -> None:
        self.writer.cache_hash(c, name)

    def run(self, progress: Progress | None) -> FileResult:
        self.res.started_at = _now()
        requests_before = self.hooks.counts["limit_requests"] if self.hooks else 0
        self.writer.begin()
        changes = 0
        valid = 0
        reported = 0
        for chunk in iter_chunks(self.src, self.chunk_rows, self.mapper.find_header):
            frame, lines, keep = self.mapper.mapped(chunk.table, chunk.lines)
            if not len(lines):
                continue
            written, wrote = self._chunk(chunk.table, frame, lines, keep, chunk.line_breaks)
            self.res.rows += len(lines)
            valid += wrote
            changes += written
            if progress is not None:
                done = chunk.bytes_read or self.src.size
                progress(max(0, done - reported))
                reported = max(reported, done)
        self.keys.finish()
        if self.res.rows == 0:
            raise NoRows(f"{self.src.name}: no rows (the file is empty or holds a header only)")
        self.res.inserted = self.writer.inserted(changes)
        self.res.updated = changes - self.res.inserted
        self.res.unchanged = valid - changes
        self.res.duplicate_keys = self.writer.duplicate_keys
        if self.hooks is not None:
            self.res.unknown_columns = self.hooks.unknown_columns(self.res.unknown_columns)
            self.res.limit_requests = self.hooks.counts["limit_requests"] - requests_before
        self.res.problems = [
            Problem(col, reason, n, self.samples[(col, reason)])
            for (col, reason), n in self.problems.most_common()
        ]
        self.res.finished_at = _now()
        return self.res

    def _chunk(
        self,
        raw: pa.Table,
        frame: pa.Table,
        lines: np.ndarray,
        keep: np.ndarray,
        line_breaks: bool | None,
    ) -> tuple[int, int]:
        """Validate, resolve, key and write one mapped chunk; report its rejects. Returns
        (rows changed in the store, rows written or left unchanged)."""
        if self.hooks is not None:
            frame = self.hooks.chunk(self.kind, raw, keep, frame)
        checked = check_frame(self.kind, frame)
        if line_breaks is not False:
            self.mapper.line_breaks(frame, checked, lines, raw.num_columns)
        if self.customers is not None:
            self.customers.resolve(checked)
        self.keys.derive(checked)
        if self.hooks is not None:
            self.hooks.checked(checked)
            self.hooks.before_write(self, checked)
        written, wrote = self.writer.write(checked, lines)
        if self.hooks is not None:
            self.hooks.after_write(self, checked)
        self._reject(raw, keep, checked, lines)
        return written, wrote

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


def probable_duplicates(store: Store, limit: int = 1000) -> list[dict[str, Any]]:
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

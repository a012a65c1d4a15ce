"""What an import reports: the result of each file and of the whole call, its problems, the
abort error, the rejects file, the batch record in the store and the history of batches."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from riskcli.domain.errors import InputError
from riskcli.domain.safety import neutralise_cell
from riskcli.services.importing.kinds import KINDS
from riskcli.storage.store import Store


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


def abort_message(result: ImportResult) -> str:
    where = f"; see {result.rejects_path}" if result.rejects_path else "; use --rejects FILE"
    return (
        f"import aborted: {result.rejected} rejected row(s) exceed --max-rejects "
        f"{result.max_rejects}; nothing was written{where}"
    )


def record_batch(store: Store, kind: str, fr: FileResult) -> int:
    cur = store.execute(
        "INSERT INTO import_batches (kind, file_name, sha256, rows, inserted, updated, unchanged, "
        "rejected, dry_run, user, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            kind, fr.file, fr.sha256, fr.rows, fr.inserted, fr.updated, fr.unchanged,
            fr.rejected, int(fr.dry_run), store.user, fr.started_at, fr.finished_at,
        ),
    )  # fmt: skip
    return int(cur.lastrowid)


class RejectsWriter:
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


def history(store: Store, limit: int = 50, kind: str | None = None) -> list[dict[str, Any]]:
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

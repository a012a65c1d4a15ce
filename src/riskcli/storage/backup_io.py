"""Storage side of backups: the SQLCipher snapshot, reading a snapshot back, and swapping a
restored store into place.

Snapshots use SQLCipher's online backup API in one step (``pages=-1``) from the live connection
into a new connection keyed with the same raw master key: one read transaction, so the copy is
a consistent point in time even under a steady writer (a page-by-page backup restarts whenever
a writer commits and may never finish).

Restore swaps two files (the store and its keys file) that cannot be renamed together. The
order below means the store path never holds a database beside a keys file of another moment;
a journal written before the first rename lets an interrupted swap be completed later
(`recover_interrupted_restore`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3

from riskcli.domain.errors import InputError, IntegrityError, StoreBusy
from riskcli.failpoints import failpoint
from riskcli.storage.keyslots import keys_path
from riskcli.storage.store import DatabaseError, connect_raw

CHECK_CACHE_MAX_KIB = 1024 * 1024  # at most 1 GiB of page cache while checking a snapshot


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- snapshot ------------------------------------------------------------------------------


def snapshot(conn: Any, dest: Path, master_key: bytes) -> None:
    """Copy the live store behind *conn* into a new encrypted file *dest*, in one step."""
    try:
        target = connect_raw(dest, master_key)
        try:
            conn.backup(target, pages=-1)
            # a self-contained single file: no -wal beside it when it is opened again
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    except sqlcipher3.Error as exc:
        raise InputError(f"cannot write the snapshot in {dest.parent}: {exc}") from None
    fsync_path(dest)


@dataclass(frozen=True)
class SnapshotFacts:
    page_size: int
    page_count: int
    row_counts: dict[str, int]
    schema_version: list[str]
    store_id: str | None
    audit_head: tuple[int, str] | None


def _tables(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def inspect_snapshot(path: Path, master_key: bytes, *, check: bool = True) -> SnapshotFacts:
    """Open a snapshot with the master key, run both integrity checks, and count what it holds.

    Raises IntegrityError naming the problem: the key does not open it, a page fails its
    HMAC (cipher_integrity_check), or the b-tree is damaged (integrity_check).
    """
    conn = connect_raw(path, master_key)
    try:
        # a page cache as big as the file (up to a cap): integrity_check revisits pages and the
        # row counts that follow then read from memory instead of decrypting everything again
        cache_kib = max(2048, min(CHECK_CACHE_MAX_KIB, path.stat().st_size // 1024 + 1024))
        conn.execute(f"PRAGMA cache_size = -{cache_kib}")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except DatabaseError:
            raise IntegrityError(
                "snapshot does not open with the backup's master key (damaged or not this store's)"
            ) from None
        if check:
            cipher = [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check")]
            if cipher:
                raise IntegrityError(
                    f"snapshot fails cipher_integrity_check: {'; '.join(cipher)[:200]}"
                )
            sqlite = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
            if sqlite != ["ok"]:
                raise IntegrityError(f"snapshot fails integrity_check: {'; '.join(sqlite)[:200]}")
        tables = _tables(conn)
        counts = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
        schema: list[str] = []
        if "schema_migrations" in tables:
            schema = [
                str(r[0]) for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")
            ]
        store_id = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
            store_id = None if row is None else str(row[0])
        head = None
        if "audit_events" in tables:
            row = conn.execute(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            head = None if row is None else (int(row[0]), str(row[1]))
        return SnapshotFacts(
            page_size=int(conn.execute("PRAGMA page_size").fetchone()[0]),
            page_count=int(conn.execute("PRAGMA page_count").fetchone()[0]),
            row_counts=counts,
            schema_version=schema,
            store_id=store_id,
            audit_head=head,
        )
    except DatabaseError as exc:
        raise IntegrityError(f"snapshot is damaged: {exc}") from None
    finally:
        conn.close()


# ---- restore: swapping the store and its keys file ----------------------------------------


@dataclass(frozen=True)
class SwapPlan:
    """Every path one restore touches. Stored as the journal, so recovery needs nothing else."""

    target: Path
    staged_db: Path
    staged_keys: Path
    safety: Path  # the replaced store goes here; its keys file to keys_path(safety)
    backup: str  # name of the backup being restored (for messages)

    @property
    def journal(self) -> Path:
        return journal_path(self.target)

    def to_json(self) -> str:
        return json.dumps(
            {
                "target": str(self.target),
                "staged_db": str(self.staged_db),
                "staged_keys": str(self.staged_keys),
                "safety": str(self.safety),
                "backup": self.backup,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SwapPlan:
        data = json.loads(text)
        return cls(
            Path(data["target"]),
            Path(data["staged_db"]),
            Path(data["staged_keys"]),
            Path(data["safety"]),
            str(data["backup"]),
        )


def journal_path(target: Path) -> Path:
    return target.with_name(target.name + ".restore-journal")


def staged_paths(target: Path) -> tuple[Path, Path]:
    return (
        target.with_name(target.name + ".restore-new"),
        target.with_name(target.name + ".keys.restore-new"),
    )


def sidecars(db: Path) -> list[Path]:
    return [Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]


@contextlib.contextmanager
def restore_lock(target: Path) -> Iterator[None]:
    """One restore per store path at a time (an advisory lock beside the store)."""
    lock = target.with_name(f".{target.name}.restore-lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusy(f"another restore of {target} is running") from None
        yield
    finally:
        os.close(fd)


def _move(src: Path, dst: Path) -> None:
    if dst.exists():
        raise InputError(f"cannot move {src} aside: {dst} already exists")
    os.rename(src, dst)


def _roll_forward(plan: SwapPlan) -> None:
    """Finish a swap from wherever it stopped. Every step is one rename and idempotent.

    The target path goes: old store -> (absent) -> new store. The old keys file leaves only
    after the old store has, and the new keys file arrives before the new store, so nothing
    ever opens a store beside a keys file from another moment.
    """
    target, tkeys = plan.target, keys_path(plan.target)
    db_pending = plan.staged_db.exists()
    if db_pending:
        # 1. the old store (and then its WAL, which must never meet the new store) moves aside
        if target.exists():
            _move(target, plan.safety)
            failpoint("restore:old-db-moved")
        for side, safe in zip(sidecars(target), sidecars(plan.safety), strict=True):
            if side.exists():
                _move(side, safe)
    if plan.staged_keys.exists():
        # 2. the old keys file moves aside, the new one takes its place
        if tkeys.exists():
            _move(tkeys, keys_path(plan.safety))
            failpoint("restore:old-keys-moved")
        os.rename(plan.staged_keys, tkeys)
        failpoint("restore:new-keys-in")
    if db_pending:
        # 3. the new store arrives last
        os.rename(plan.staged_db, target)
    fsync_path(target.parent)


def install_restored(plan: SwapPlan) -> None:
    """Swap the staged store and keys into place. Both staged files must be complete and synced.

    The journal is the commit point: once it is on disk the restore is completed, either now or
    by `recover_interrupted_restore` after a crash.
    """
    tmp = plan.journal.with_name(plan.journal.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(plan.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, plan.journal)
    fsync_path(plan.target.parent)
    failpoint("restore:journal-written")
    _roll_forward(plan)
    plan.journal.unlink()
    fsync_path(plan.target.parent)


def recover_interrupted_restore(target: Path) -> str | None:
    """Complete (journal present) or discard (no journal) a restore that was interrupted.

    Returns a one-line description of what was done, or None when there was nothing to do.
    Cheap when there is nothing: a few stat calls. Safe to call before opening a store.
    """
    journal = journal_path(target)
    staged_db, staged_keys = staged_paths(target)
    if not journal.exists():
        leftovers = [p for p in (staged_db, staged_keys) if p.exists()]
        leftovers += [s for s in sidecars(staged_db) if s.exists()]
        if not leftovers:
            return None
        for p in leftovers:
            p.unlink(missing_ok=True)
        return f"discarded an unfinished restore into {target} (the store was not touched)"
    try:
        plan = SwapPlan.from_json(journal.read_text(encoding="utf-8"))
    except (ValueError, KeyError, OSError) as exc:
        raise IntegrityError(
            f"restore journal {journal} is unreadable; move the files by hand ({exc})"
        ) from None
    _roll_forward(plan)
    journal.unlink()
    fsync_path(target.parent)
    return (
        f"completed an interrupted restore of {plan.backup} into {target} "
        f"(the replaced store is kept as {plan.safety})"
    )

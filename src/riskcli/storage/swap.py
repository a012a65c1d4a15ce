"""Swapping a restored store and its keys file into place, and finishing a swap that was cut.

Restore swaps two files (the store and its keys file) that cannot be renamed together. The
order below means the store path never holds a database beside a keys file of another moment;
a journal written before the first rename lets an interrupted swap be completed later
(`recover_interrupted_restore`, which opening a store calls when the store file is missing).
This module imports neither the store nor sqlcipher3, so both `store` and `backup_io` use it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from riskcli.domain.errors import InputError, IntegrityError, StoreBusy
from riskcli.failpoints import failpoint
from riskcli.storage.keyslots import keys_path
from riskcli.storage.locks import exclusive_lock


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


@contextmanager
def restore_lock(target: Path) -> Iterator[None]:
    """One restore per store path at a time (an advisory lock beside the store)."""
    lock = target.with_name(f".{target.name}.restore-lock")
    with exclusive_lock(lock, busy=lambda _: StoreBusy(f"another restore of {target} is running")):
        yield


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

"""Sandboxes: practice stores for drills and training, never mistaken for the real book.

A sandbox is a folder holding `sandbox.db` and its own keys file. It is either restored from a
backup (the real store is not touched) and then given a new store id and a new master key, or
generated from the synthetic book. Its `meta` says `sandbox = 1` with where it came from; every
command run on it says so (see `riskcli.cli.context`). Because its store id differs from the
real store's, `restore` refuses to put a backup of one in place of the other.

Only the user who creates a sandbox holds a slot in it, with the role their slot had in the
backup (a generated sandbox has no real personal data: its creator is admin there).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskcli.domain.errors import AccessError, InputError
from riskcli.domain.permissions import allowed
from riskcli.services import audit as audit_service
from riskcli.storage import audit as chain
from riskcli.storage.keyslots import KeyFile, keys_path, new_master_key
from riskcli.storage.store import Store, create_store, open_store

SANDBOX_DB = "sandbox.db"


def sandbox_db(folder: Path) -> Path:
    """The store file inside a sandbox folder (a path to the file itself is accepted too)."""
    return folder if folder.name == SANDBOX_DB else folder / SANDBOX_DB


def is_sandbox(store: Store) -> bool:
    return store.meta("sandbox") == "1"


def describe(store: Store) -> dict[str, Any]:
    """What the sandbox is: its folder, store id, source and creation."""
    return {
        "sandbox": str(store.path.parent),
        "store": str(store.path),
        "store_id": store.keyfile.store_id,
        "source": store.meta("sandbox_source") or "",
        "created_at": store.meta("sandbox_created_at") or "",
        "created_by": store.meta("sandbox_created_by") or "",
    }


def banner(store: Store) -> str:
    return f"SANDBOX {store.path.parent}: a practice store, not the real book"


def anchor_beside(store: Store) -> Path | None:
    """A sandbox anchors its audit chain beside itself, never in the real store's anchor."""
    if not is_sandbox(store):
        return None
    return store.path.with_name(store.path.name + audit_service.ANCHOR_SUFFIX)


@dataclass
class Created:
    folder: Path
    store: Path
    store_id: str
    source: str
    role: str
    rows: dict[str, int]
    seconds: float

    def as_row(self) -> dict[str, Any]:
        return {
            "sandbox": str(self.folder),
            "store": str(self.store),
            "store_id": self.store_id,
            "source": self.source,
            "your_role": self.role,
            "customers": self.rows.get("customers", 0),
            "receivables": self.rows.get("receivables", 0),
            "seconds": round(self.seconds, 2),
        }


def _prepare(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder")
    if folder.exists() and any(folder.iterdir()):
        raise InputError(f"{folder} is not empty: a sandbox needs a new or empty folder")
    if not folder.parent.is_dir():
        raise InputError(f"folder {folder.parent} does not exist")
    folder.mkdir(mode=0o700, exist_ok=True)


def _mark(store: Store, source: str, origin: str = "") -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store.transaction():
        store.executemany(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            [
                ("sandbox", "1"),
                ("sandbox_source", source),
                ("sandbox_created_at", now),
                ("sandbox_created_by", store.user),
                ("sandbox_origin_store_id", origin),
            ],
        )


def create_generated(
    folder: Path,
    user: str,
    secret: bytes,
    *,
    customers: int,
    seed: int = 42,
) -> Created:
    """A sandbox holding a synthetic book of `customers` customers (no real data at all)."""
    from riskcli.services import synthetic
    from riskcli.services.importing.readers import resolve_source
    from riskcli.services.importing.service import import_files

    if not 1 <= customers <= 200_000:
        raise InputError("--generate takes 1 to 200,000 customers")
    started = time.monotonic()
    _prepare(folder)
    try:
        store = create_store(sandbox_db(folder), user, secret)
        try:
            _mark(store, f"generated: {customers} customers, seed {seed}")
            with tempfile.TemporaryDirectory(prefix="riskcli-sandbox-", dir=folder) as tmp:
                config = synthetic.SyntheticConfig(customers=customers, seed=seed)
                synthetic.generate(Path(tmp), config, workers=1)
                for kind in synthetic.FILES:
                    path = Path(tmp) / f"{kind}.csv"
                    import_files(store, kind, [resolve_source(path, path.name)])
            _anchor(store, "generated")
            rows = store.row_counts()
            store_id = store.keyfile.store_id
        finally:
            store.close()
    except BaseException:
        _wipe(folder)
        raise
    return Created(
        folder, sandbox_db(folder), store_id, f"generated ({customers} customers)", "admin",
        rows, time.monotonic() - started,
    )  # fmt: skip


def create_from_backup(
    folder: Path,
    backup: Path,
    user: str,
    secret: bytes,
    *,
    identities: Sequence[Any] | None = None,
) -> Created:
    """A sandbox restored from `backup`, then given its own store id and master key.

    The user needs the right to restore (`restore.run`) in the backup's keyslots; their role
    there is their role in the sandbox, so a sandbox never widens what anyone may see.
    """
    from riskcli.services.backup import restore_backup

    started = time.monotonic()
    _prepare(folder)
    target = sandbox_db(folder)
    try:
        restored = restore_backup(backup, target, user, secret, identities=identities)
        origin = restored.manifest.store_id
        store = open_store(target, user, secret)
        try:
            if not allowed(store.role, "restore.run"):  # restore_backup checked it; be explicit
                raise AccessError(f"user {user} may not restore this backup")
            _new_identity(store, secret)
            _mark(store, f"backup {backup.name} of store {origin}", origin)
            _anchor(store, f"sandbox from {backup.name}")
            rows = store.row_counts()
            store_id, role = store.keyfile.store_id, store.role
        finally:
            store.close()
    except BaseException:
        _wipe(folder)
        raise
    return Created(
        folder, target, store_id, f"backup {backup.name}", role, rows, time.monotonic() - started
    )


def _new_identity(store: Store, secret: bytes) -> None:
    """A new store id and master key, and a keys file holding only the creator's slot."""
    keyfile = KeyFile.new()
    key = new_master_key()
    keyfile.add_slot(store.user, store.role, secret, key)
    with store.transaction():
        store.execute("UPDATE meta SET value = ? WHERE key = 'store_id'", (keyfile.store_id,))
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    row = store.execute(f"PRAGMA rekey = \"x'{key.hex()}'\"").fetchone()
    if row is not None and str(row[0]).lower() != "ok":
        raise InputError("the sandbox could not be re-keyed")
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    keyfile.save(keys_path(store.path))
    store.keyfile, store.master_key = keyfile, key


def _anchor(store: Store, source: str) -> None:
    """The sandbox's own anchor, beside it, starting at its current chain head."""
    path = store.path.with_name(store.path.name + audit_service.ANCHOR_SUFFIX)
    head = chain.head(store.conn)
    audit_service.append_anchor(path, store.keyfile.store_id, head, kind="restore", source=source)


# ---- removal ---------------------------------------------------------------------------------
def check_removable(folder: Path, real_db: Path | None) -> Path:
    """The sandbox store in `folder`, after checking it is one and not the real store."""
    db = sandbox_db(folder)
    if not folder.is_dir() or not db.exists():
        raise InputError(f"{folder} holds no sandbox ({SANDBOX_DB} is missing)")
    if real_db is not None and real_db.exists() and real_db.resolve().parent == folder.resolve():
        raise InputError(f"{folder} holds the store given by --db: only a sandbox is removed")
    return db


def remove(folder: Path, user: str, secret: bytes, real_db: Path | None = None) -> dict[str, Any]:
    """Check that `folder` is a sandbox (it must open and say so), then shred and delete it."""
    db = check_removable(folder, real_db)
    store = open_store(db, user, secret, migrate=False)
    try:
        if not is_sandbox(store):
            raise InputError(f"{db} is not a sandbox: riskcli removes only sandboxes")
        info = describe(store)
    finally:
        store.close()
    files, size = _wipe(folder)
    return {**info, "files_shredded": files, "bytes_shredded": size, "removed": True}


def _wipe(folder: Path) -> tuple[int, int]:
    """Overwrite every file with zeros (synced) before unlinking, then remove the folder.

    The store is encrypted and its keys file goes too; the overwrite is for file systems that
    would otherwise keep the blocks readable (it cannot reach copies an SSD or a snapshot keeps).
    """
    count = size = 0
    if not folder.exists():
        return 0, 0
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            length = path.stat().st_size
            with path.open("r+b") as fh:
                remaining = length
                while remaining > 0:
                    n = min(remaining, 1 << 20)
                    fh.write(b"\0" * n)
                    remaining -= n
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
            count, size = count + 1, size + length
    shutil.rmtree(folder, ignore_errors=True)
    return count, size

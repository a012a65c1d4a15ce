"""The encrypted store: one SQLCipher 4 file opened with a raw master key from a keyslot.

This module (with the rest of `riskcli.storage`) is the only place that imports sqlcipher3.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlcipher3

from riskcli.domain.errors import InputError, IntegrityError, RiskError
from riskcli.storage import migrations, writelock
from riskcli.storage.dbapi import Connection, Cursor, Params
from riskcli.storage.keyslots import (
    KdfParams,
    KeyFile,
    keys_path,
    new_master_key,
    pending_keys_path,
)
from riskcli.storage.swap import journal_path, recover_interrupted_restore

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 15_000
#: how long a writer waits for the write lock unless told otherwise (`--wait`, RISKCLI_WAIT):
#: a nightly import of a large book holds it for tens of seconds, and a cron job that waits a
#: minute is better than one that fails
DEFAULT_WAIT_S = 60.0
DatabaseError = sqlcipher3.DatabaseError
_LOG_SILENCED = False

if TYPE_CHECKING:
    import pandas as pd


def _silence_cipher_log() -> None:
    """SQLCipher logs to stderr on a wrong key or a bad page; riskcli speaks through its errors."""
    global _LOG_SILENCED
    if not _LOG_SILENCED:
        conn = sqlcipher3.connect(":memory:")
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.close()
        _LOG_SILENCED = True


def sqlcipher_version() -> str:
    _silence_cipher_log()
    conn = sqlcipher3.connect(":memory:")
    try:
        return str(conn.execute("PRAGMA cipher_version").fetchone()[0])
    finally:
        conn.close()


def connect_raw(path: Path, master_key: bytes, *, check_same_thread: bool = True) -> Connection:
    """A connection to an encrypted file keyed with the raw master key (no PBKDF2).
    `check_same_thread=False` lets another thread use it (monitoring's parallel load)."""
    _silence_cipher_log()
    conn = sqlcipher3.connect(
        str(path),
        isolation_level=None,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=check_same_thread,
    )
    conn.execute(f"PRAGMA key = \"x'{master_key.hex()}'\"")
    return cast(Connection, conn)


class Store:
    """An open store. Autocommit connection; `transaction()` groups work atomically."""

    def __init__(
        self,
        path: Path,
        conn: Connection,
        keyfile: KeyFile,
        user: str,
        role: str,
        master_key: bytes = b"",
        *,
        wait: float = DEFAULT_WAIT_S,
    ) -> None:
        self.path = path
        self.conn = conn
        self.keyfile = keyfile
        self.user = user
        self.role = role
        # kept for keyslot changes (riskcli.services.access) and master-key subkeys
        self.master_key = master_key
        #: seconds a write transaction waits for the lock (see riskcli.storage.writelock)
        self.wait = wait
        #: what this store is open for ("import customers"): named to writers kept waiting
        self.activity: str | None = None
        self._depth = 0

    # ---- transactions ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """BEGIN IMMEDIATE .. COMMIT; nested calls use savepoints; any exception rolls back.

        The outermost call waits in turn for the write lock up to `wait` seconds (StoreBusy
        naming the holder when it runs out) and, once done, lets a waiting writer go first."""
        if self._depth == 0:
            writelock.begin_immediate(self.conn, self.path, self.wait, _busy_ms(self.wait))
            if self.activity:
                writelock.write_holder(self.path, self.user, self.activity)
            name = None
        else:
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if name is None:
                self._end("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        self._depth -= 1
        if name is None:
            self._end("COMMIT")
        else:
            self.conn.execute(f"RELEASE {name}")

    def _end(self, verb: str) -> None:
        if self.activity:
            writelock.clear_holder(self.path)
        try:
            self.conn.execute(verb)
        finally:
            writelock.give_way(self.path)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def rollback(self) -> None:
        """Roll back whatever transaction is open on the connection, however it was begun:
        the command boundary calls this when a command fails, so nothing half-done commits
        with the audit event that follows."""
        if self.conn.in_transaction:
            self._end("ROLLBACK")
        self._depth = 0

    @contextmanager
    def references_checked(self) -> Iterator[Store]:
        """Foreign-key enforcement off until the block ends, on again after it.

        For a bulk writer that has itself checked every reference it writes (the per-row probe
        would only repeat that check, at random pages of the referenced table). SQLite ignores
        the pragma inside a transaction, so within a caller's open transaction this does
        nothing and enforcement stays on."""
        relax = not self.conn.in_transaction and self.scalar("PRAGMA foreign_keys") == 1
        if relax:
            self.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            yield self
        finally:
            if relax:
                self.conn.execute("PRAGMA foreign_keys = ON")

    # ---- queries --------------------------------------------------------------------------
    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        return self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_df(self, sql: str, params: Params = (), **kwargs: Any) -> pd.DataFrame:
        import pandas as pd

        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names, **kwargs)

    def scalar(self, sql: str, params: Params = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def tables(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        return [r[0] for r in rows]

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    def row_counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f'SELECT count(*) FROM "{t}"')) for t in self.tables()}

    def meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def schema_version(self) -> str:
        return migrations.current_version(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _busy_ms(wait: float) -> int:
    return max(0, int(wait * 1000))


def _configure(conn: Connection, wait: float = DEFAULT_WAIT_S) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA busy_timeout = {_busy_ms(wait)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache
    conn.execute("PRAGMA temp_store = MEMORY")


def _looks_like(path: Path) -> str:
    """Classify a file that will not open: plaintext SQLite, empty, or something else."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head == SQLITE_HEADER:
        return "plain"
    if not head:
        return "empty"
    return "other"


def create_store(
    path: Path, user: str, secret: bytes, *, kdf: KdfParams | None = None, role: str = "admin"
) -> Store:
    """Create a new encrypted store and its keys file with one admin slot; never overwrites."""
    kpath = keys_path(path)
    for existing in (path, kpath):
        if existing.exists():
            raise InputError(f"{existing} already exists; riskcli never overwrites a store")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist")
    master = new_master_key()
    keyfile = KeyFile.new()
    keyfile.add_slot(user, role, secret, master, kdf=kdf)
    try:
        conn = connect_raw(path, master)
        _configure(conn)
        migrations.apply(conn)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [("store_id", keyfile.store_id), ("created_at", now), ("created_by", user)],
        )
        conn.execute("COMMIT")
        keyfile.save(kpath)
    except BaseException:
        for leftover in (path, kpath, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)
    return Store(path, conn, keyfile, user, role, master)


def open_store(
    path: Path, user: str, secret: bytes, *, migrate: bool = True, wait: float = DEFAULT_WAIT_S
) -> Store:
    """Unlock the user's keyslot, open the store and apply pending migrations.

    *wait*: seconds a writer waits for the write lock held by another process."""
    keyfile = load_keyfile(path)
    slot, master = keyfile.unwrap(user, secret)
    try:
        return open_with_key(path, master, keyfile, user, slot.role, migrate=migrate, wait=wait)
    except IntegrityError:
        recovered = _finish_rotation(path, user, secret, migrate=migrate, wait=wait)
        if recovered is None:
            raise
        return recovered


def load_keyfile(path: Path) -> KeyFile:
    """The keys file of the store at `path`, once the path is known to hold a riskcli store."""
    # a restore killed mid-swap leaves its journal: finish it rather than report no store
    if not path.exists() and journal_path(path).exists():
        recover_interrupted_restore(path)
    if not path.exists():
        raise InputError(f"no store at {path} (create one with `riskcli init`)")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a riskcli store")
    kind = _looks_like(path)
    if kind == "plain":
        raise InputError(f"{path} is a plain SQLite database, not an encrypted riskcli store")
    kpath = keys_path(path)
    if not kpath.exists():
        if kind == "empty":
            raise InputError(f"{path} is an empty file, not a riskcli store")
        raise InputError(
            f"keys file {kpath} is missing: {path} cannot be unlocked without it "
            "(is it a riskcli store? restore the keys file from a backup)"
        )
    return KeyFile.load(kpath)


def _finish_rotation(
    path: Path, user: str, secret: bytes, *, migrate: bool, wait: float = DEFAULT_WAIT_S
) -> Store | None:
    """A key rotation interrupted after the re-key left the new keys file pending: use it."""
    pending = pending_keys_path(path)
    if not pending.exists():
        return None
    try:
        keyfile = KeyFile.load(pending)
        slot, master = keyfile.unwrap(user, secret)
        store = open_with_key(path, master, keyfile, user, slot.role, migrate=migrate, wait=wait)
    except RiskError:
        return None
    os.replace(pending, keys_path(path))
    return store


def open_with_key(
    path: Path,
    master: bytes,
    keyfile: KeyFile,
    user: str,
    role: str,
    *,
    migrate: bool = True,
    wait: float = DEFAULT_WAIT_S,
) -> Store:
    """Open with an already unwrapped master key (used by open_store, restore and rotation)."""
    conn = connect_raw(path, master)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _configure(conn, wait)
        if migrate:
            migrations.apply(conn)
        store_id = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
    except DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise IntegrityError(
                f"store {path} is damaged or does not belong to its keys file "
                "(the key unlocked but the file fails authentication)"
            ) from None
        raise InputError(f"cannot open store {path}: {exc}") from None
    if store_id is None or store_id[0] != keyfile.store_id:
        conn.close()
        raise IntegrityError(f"keys file {keys_path(path)} belongs to another store")
    return Store(path, conn, keyfile, user, role, master, wait=wait)

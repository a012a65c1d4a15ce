"""Storage side of backups: the SQLCipher snapshot, and reading a snapshot back.

Snapshots use SQLCipher's online backup API in one step (``pages=-1``) from the live connection
into a new connection keyed with the same raw master key: one read transaction, so the copy is
a consistent point in time even under a steady writer (a page-by-page backup restarts whenever
a writer commits and may never finish). Swapping a restored store into place is
`riskcli.storage.swap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from riskcli.domain.errors import InputError, IntegrityError
from riskcli.storage.dbapi import Connection
from riskcli.storage.store import DatabaseError, connect_raw
from riskcli.storage.swap import fsync_path

CHECK_CACHE_MAX_KIB = 1024 * 1024  # at most 1 GiB of page cache while checking a snapshot


# ---- snapshot ------------------------------------------------------------------------------


def snapshot(conn: Connection, dest: Path, master_key: bytes) -> None:
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


def _tables(conn: Connection) -> list[str]:
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

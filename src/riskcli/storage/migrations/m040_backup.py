"""Backup, verify, prune, restore and drill records (the backups themselves are files outside).

One row per event. `riskcli status` reads the newest successful `create` and `drill`; `prune`
reads the newest successful `create`/`verify` per file to know which backup is verified.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection


def migrate(conn: Connection) -> None:
    conn.execute(
        """
        CREATE TABLE backup_events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('create', 'verify', 'prune', 'restore', 'drill')),
            file_name TEXT,
            folder TEXT,
            backup_created_at TEXT,
            user TEXT NOT NULL,
            ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
            size_bytes INTEGER,
            seconds REAL,
            detail TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    conn.execute("CREATE INDEX backup_events_kind_at ON backup_events(kind, ok, at)")
    conn.execute("CREATE INDEX backup_events_file ON backup_events(file_name, at)")

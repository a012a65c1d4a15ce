"""The audit trail: hash-chained events, appended by every command that touches customer data."""

from __future__ import annotations

from riskcli.storage.dbapi import Connection


def migrate(conn: Connection) -> None:
    conn.execute(
        """
        CREATE TABLE audit_events (
            seq INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            user TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            command TEXT NOT NULL,
            args TEXT NOT NULL,
            affected TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX audit_events_ts ON audit_events(ts)")
    conn.execute("CREATE INDEX audit_events_user ON audit_events(user)")

"""Scores keep the exposure at default (EAD, outstanding receivables as of the run's date) and
the expected loss PD x LGD x EAD, both in integer cents, so reports sum them without re-reading
the book. Rows written before this migration have NULL in both (shown as unknown)."""

from __future__ import annotations

from riskcli.storage.dbapi import Connection


def migrate(conn: Connection) -> None:
    have = {row[1] for row in conn.execute("PRAGMA table_info(scores)")}
    for column in ("exposure", "expected_loss"):
        if column not in have:
            conn.execute(f"ALTER TABLE scores ADD COLUMN {column} INTEGER")

"""Bring the alert indexes of stores migrated by the first m030_monitoring (14:32) to the set
m030 creates now: partial key indexes (active alerts; hand-resolved alerts whose condition
persists) instead of the full `(dedup_key, status)` and `(rule, status)` indexes, which every
run's inserts and updates had to keep up to date. On a store created by today's m030 this
changes nothing.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

STATEMENTS = (
    "DROP INDEX IF EXISTS alerts_key",
    "DROP INDEX IF EXISTS alerts_rule",
    "CREATE UNIQUE INDEX IF NOT EXISTS alerts_active_key ON alerts(dedup_key) "
    "WHERE status != 'resolved'",
    "CREATE INDEX IF NOT EXISTS alerts_quiet_key ON alerts(dedup_key) "
    "WHERE status = 'resolved' AND resolution = 'manual' AND condition_active = 1",
)


def migrate(conn: Connection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)

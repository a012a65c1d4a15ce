"""The active alerts in the order `monitor alerts` and `monitor queue` list them (money at risk,
then severity, then id), so `--limit 20` reads twenty index entries instead of sorting every
active alert. Partial, like the other alert key indexes: resolved alerts, most of the table over
time, cost a monitor run nothing here.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

STATEMENT = (
    "CREATE INDEX IF NOT EXISTS alerts_active_order "
    "ON alerts(priority DESC, severity_rank DESC) WHERE status != 'resolved'"
)


def migrate(conn: Connection) -> None:
    conn.execute(STATEMENT)

"""Write-offs and recoveries of receivables.

`receivables.written_off_date` takes an invoice off the book from that day on (the book's
`ISSUED` rule): it leaves exposure and aging but stays in the store, for recovery and for the
loss history. `write_off_reason` says why. Money recovered after a write-off is recorded in
`recoveries` (cents), one row per receipt; the write-off itself is the invoice's outstanding
amount on its write-off date, so it is never stored twice.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection


def migrate(conn: Connection) -> None:
    have = {row[1] for row in conn.execute("PRAGMA table_info(receivables)")}
    for column in ("written_off_date", "write_off_reason"):
        if column not in have:
            conn.execute(f"ALTER TABLE receivables ADD COLUMN {column} TEXT")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS receivables_written_off ON receivables(written_off_date) "
        "WHERE written_off_date IS NOT NULL"
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS recoveries (
            id INTEGER PRIMARY KEY,
            receivable_id INTEGER NOT NULL REFERENCES receivables(id),
            date TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS recoveries_receivable ON recoveries(receivable_id)")

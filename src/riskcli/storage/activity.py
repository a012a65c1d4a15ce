"""The store's latest activity date: the latest transaction date, invoice issue or paid date.

It is the default as-of date of `score run` and `score train`. Found by a scan it cost 2-4 s at
1,000,000 customers (most of it decrypting every page of `receivables`), so it is remembered in
`meta`: `activity_through` is the date ('' while there is none) as of the rows up to
`activity_marks`, the largest row ids of `transactions` and `receivables` then ("t,r"). A reader
adds the rows inserted since (a range of row ids at the end of each table) and remembers again,
so an insert costs nothing. The triggers of migration m061 cover what new row ids cannot show:
an update to a later date moves the date on; an update of the row holding it to an earlier date,
and any delete, remove it, and the next reader scans the tables once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from riskcli.storage.dbapi import Connection

if TYPE_CHECKING:
    from riskcli.storage.store import Store

KEY = "activity_through"
MARKS = "activity_marks"

#: the latest date of the rows after the marks (all rows with marks 0, 0)
SCAN_SQL = (
    "WITH r AS MATERIALIZED (SELECT MAX(issue_date) AS i, MAX(paid_date) AS p "
    "FROM receivables WHERE id > :r) SELECT MAX(d) FROM (SELECT MAX(date) AS d "
    "FROM transactions WHERE id > :t UNION ALL SELECT i FROM r UNION ALL SELECT p FROM r)"
)
#: the marks now
MARKS_SQL = (
    "SELECT IFNULL(MAX(id), 0) FROM transactions "
    "UNION ALL SELECT IFNULL(MAX(id), 0) FROM receivables"
)


def latest_activity(store: Store) -> date | None:
    """The latest activity date (None when the store has none).

    The remembered date when no row was inserted since; otherwise the rows after the marks
    (every row when nothing is remembered) are read and the result remembered, inside a write
    transaction (the caller's, or one of its own) so no write slips in between.
    """
    value = store.meta(KEY)
    marks = store.meta(MARKS)
    fresh = (
        value is not None
        and marks is not None
        and [int(row[0]) for row in store.execute(MARKS_SQL)] == [int(x) for x in marks.split(",")]
    )
    if not fresh:
        if store.conn.in_transaction:
            value = remember(store.conn)
        else:
            with store.transaction():
                value = remember(store.conn)
    return date.fromisoformat(value[:10]) if value else None


def remember(conn: Connection) -> str:
    """Read the rows after the stored marks (every row when no date is stored), store the latest
    date and the new marks, return the date. Call inside a write transaction."""
    stored = dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN ('{KEY}', '{MARKS}')"))
    previous = stored.get(KEY)
    t, r = (int(x) for x in stored[MARKS].split(",")) if previous is not None else (0, 0)
    marks = [int(row[0]) for row in conn.execute(MARKS_SQL)]
    tail = conn.execute(SCAN_SQL, {"t": t, "r": r}).fetchone()[0] or ""
    value = max(previous or "", tail)
    conn.executemany(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        [(KEY, value), (MARKS, ",".join(map(str, marks)))],
    )
    return value

"""The latest activity date remembered in `meta` (see `riskcli.storage.activity`).

Triggers keep the remembered date exact whatever code path writes, for what a range of new row
ids cannot show: an update to a later date moves it forward; an update of the row holding the
latest date to an earlier one, and any delete (riskcli deletes none of these rows; a deleted
last row id could be given to a new row), remove it, and the next reader scans once. There is
no insert trigger: readers add the rows after the marks (one measured +30% on a bulk insert).
The migration remembers the date of the rows already there.
"""

from __future__ import annotations

from riskcli.storage.activity import KEY, remember
from riskcli.storage.dbapi import Connection

_STORED = f"(SELECT value FROM meta WHERE key = '{KEY}')"
_FORGET = f"DELETE FROM meta WHERE key = '{KEY}'"

# the latest date of one row of each table (paid_date may be NULL)
_LATEST = {
    "transactions": ("{row}.date", "date"),
    "receivables": (
        "max({row}.issue_date, IFNULL({row}.paid_date, {row}.issue_date))",
        "issue_date, paid_date",
    ),
}


def statements() -> list[str]:
    out: list[str] = []
    for table, (latest, columns) in _LATEST.items():
        new, old = latest.format(row="NEW"), latest.format(row="OLD")
        out += [
            f"CREATE TRIGGER {table}_activity_later AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {new} > {_STORED} "
            f"BEGIN UPDATE meta SET value = {new} WHERE key = '{KEY}'; END",
            f"CREATE TRIGGER {table}_activity_earlier AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {old} = {_STORED} AND {new} < {old} BEGIN {_FORGET}; END",
            f"CREATE TRIGGER {table}_activity_delete AFTER DELETE ON {table} BEGIN {_FORGET}; END",
        ]
    return out


def migrate(conn: Connection) -> None:
    for statement in statements():
        conn.execute(statement)
    remember(conn)

"""Erased stays erased: triggers blank personal data written again for an erased customer.

A re-import of an old customers or interactions file would otherwise put back what
`customers erase` removed. The triggers hold whatever code path writes.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

_ERASED = "EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = NEW.{key})"

STATEMENTS = (
    f"""
    CREATE TRIGGER customers_stay_erased AFTER UPDATE ON customers
    WHEN (NEW.name IS NOT NULL OR NEW.phone IS NOT NULL OR NEW.email IS NOT NULL
          OR NEW.national_id IS NOT NULL OR NEW.row_hash IS NOT NULL)
         AND {_ERASED.format(key="id")}
    BEGIN
        UPDATE customers SET name = NULL, phone = NULL, email = NULL, national_id = NULL,
            row_hash = NULL
        WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER interactions_stay_erased_insert AFTER INSERT ON interactions
    WHEN NEW.note IS NOT NULL AND {_ERASED.format(key="customer_id")}
    BEGIN
        UPDATE interactions SET note = NULL, row_hash = NULL WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER interactions_stay_erased_update AFTER UPDATE OF note ON interactions
    WHEN NEW.note IS NOT NULL AND {_ERASED.format(key="customer_id")}
    BEGIN
        UPDATE interactions SET note = NULL, row_hash = NULL WHERE id = NEW.id;
    END
    """,
)


def migrate(conn: Connection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)

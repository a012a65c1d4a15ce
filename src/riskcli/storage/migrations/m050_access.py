"""Data protection: legal holds and erasure records.

A legal hold keeps a customer's data from erasure while it is open (lifted_at IS NULL). An
erasure record says who erased which customer, when and why — the id only, never the erased
values.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE legal_holds (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    reason TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    lifted_at TEXT,
    lifted_by TEXT,
    lift_reason TEXT
);
CREATE INDEX legal_holds_customer ON legal_holds(customer_id);
CREATE UNIQUE INDEX legal_holds_one_open ON legal_holds(customer_id) WHERE lifted_at IS NULL;
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL UNIQUE REFERENCES customers(id),
    erased_at TEXT NOT NULL,
    erased_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    forced INTEGER NOT NULL DEFAULT 0,
    fields TEXT NOT NULL
)
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

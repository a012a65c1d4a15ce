"""Tier runs and their per-customer results. Runs are history: never updated, never replaced.

`tier_runs` keeps the as-of date, the method, the window and the full parameters (JSON) of each
run plus its statistics (counts, warnings, silhouette, cluster profile). `tier_results` holds
one row per customer per run. Money (`monetary`) is integer cents.

No index on `customer_id` alone: it made every new run's insert touch the whole, growing index
(4x slower writes after a few runs). One customer's history is read through the primary key,
run by run; deleting a customer scans the table once.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE tier_runs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    as_of TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('rfm', 'kmeans')),
    window_days INTEGER NOT NULL CHECK (window_days > 0),
    customers INTEGER NOT NULL,
    params TEXT NOT NULL,
    stats TEXT NOT NULL
);
CREATE INDEX tier_runs_as_of ON tier_runs(as_of);
CREATE TABLE tier_results (
    run_id INTEGER NOT NULL REFERENCES tier_runs(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    recency_days INTEGER,
    frequency INTEGER NOT NULL,
    monetary INTEGER NOT NULL,
    tenure_days INTEGER,
    interval_days REAL,
    r_score INTEGER NOT NULL CHECK (r_score BETWEEN 1 AND 5),
    f_score INTEGER NOT NULL CHECK (f_score BETWEEN 1 AND 5),
    m_score INTEGER NOT NULL CHECK (m_score BETWEEN 1 AND 5),
    segment TEXT NOT NULL,
    tier TEXT NOT NULL,
    stage TEXT NOT NULL,
    cluster INTEGER,
    PRIMARY KEY (run_id, customer_id)
) WITHOUT ROWID;
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

"""Scoring: the model registry, score runs and per-customer scores.

`score_models` keeps each model as plain JSON (bins, WOE, coefficients, points — never pickle)
with its parameters, a fingerprint of its training data, headline metrics and the full
validation report. Exactly one model at a time may be the champion (a partial unique index).
`score_runs` are history (never updated); `scores` hold one row per customer per run with the
score, PD, grade, up to four reason texts (rows written since m060_score_reason_codes keep their
reasons as codes in `scores.reasons` instead and leave these NULL), the bin of each factor (one
byte per factor, for `score explain`), and the recommended and current credit limits in integer
cents. m062_scores_without_customer_index drops `scores_customer` (its cost grew with every
run kept).
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE score_models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('trained', 'expert')),
    source TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'candidate'
        CHECK (status IN ('candidate', 'champion', 'retired')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    params TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    metrics TEXT NOT NULL,
    report TEXT NOT NULL,
    model TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE UNIQUE INDEX score_models_one_champion ON score_models(status) WHERE status = 'champion';
CREATE TABLE score_runs (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES score_models(id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    as_of TEXT NOT NULL,
    customers INTEGER NOT NULL,
    params TEXT NOT NULL,
    stats TEXT NOT NULL
);
CREATE TABLE scores (
    run_id INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    score REAL NOT NULL,
    pd REAL NOT NULL,
    grade TEXT NOT NULL,
    reason1 TEXT,
    reason2 TEXT,
    reason3 TEXT,
    reason4 TEXT,
    bins BLOB NOT NULL,
    recommended_limit INTEGER NOT NULL,
    current_limit INTEGER NOT NULL,
    over_limit INTEGER NOT NULL CHECK (over_limit IN (0, 1)),
    PRIMARY KEY (run_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX scores_customer ON scores(customer_id);
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

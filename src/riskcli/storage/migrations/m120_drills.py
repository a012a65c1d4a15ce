"""Drills and training: one row per drill (or completed tutorial), one per playbook step.

A drill runs on a sandbox (its store id is kept, never its data); the record stays in the store
the drill was started from, so `drill list`, `report drills` and `doctor` read the training
record of the real book. `minutes` of a step is the time since the previous step (or the start)
when it was marked done.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE drills (
    id INTEGER PRIMARY KEY,
    scenario TEXT NOT NULL,
    title TEXT NOT NULL,
    user TEXT NOT NULL,
    sandbox TEXT NOT NULL,
    sandbox_store_id TEXT NOT NULL,
    playbook TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    findings TEXT
);
CREATE INDEX drills_scenario ON drills(scenario, finished_at);
CREATE TABLE drill_steps (
    drill_id INTEGER NOT NULL REFERENCES drills(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    title TEXT NOT NULL,
    command TEXT NOT NULL,
    done_at TEXT,
    minutes REAL,
    note TEXT,
    PRIMARY KEY (drill_id, n)
)
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

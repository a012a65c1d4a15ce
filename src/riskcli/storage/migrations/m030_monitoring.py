"""Monitoring: scan runs, alerts with a lifecycle, and the history of every status change.

An alert is keyed by `dedup_key` (rule:customer:subject). At most one alert per key is active
(open or acknowledged) at a time; resolved ones stay as history. `condition_active` says whether
the latest run of the alert's rule still found the condition: a manually resolved alert whose
condition persists is not raised again unless it gets worse. The two key indexes are partial
(active alerts; hand-resolved alerts whose condition persists) so that resolved history does not
slow down a run's inserts.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE monitor_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    user TEXT NOT NULL,
    pid INTEGER NOT NULL,
    customers_scanned INTEGER NOT NULL DEFAULT 0,
    rules_run TEXT NOT NULL DEFAULT '[]',
    rules_skipped TEXT NOT NULL DEFAULT '{}',
    candidates INTEGER NOT NULL DEFAULT 0,
    alerts_new INTEGER NOT NULL DEFAULT 0,
    alerts_escalated INTEGER NOT NULL DEFAULT 0,
    alerts_resolved INTEGER NOT NULL DEFAULT 0,
    alerts_open INTEGER NOT NULL DEFAULT 0,
    lock_note TEXT
);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL
        CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    severity_rank INTEGER NOT NULL CHECK (severity_rank BETWEEN 0 AND 4),
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'acknowledged', 'resolved')),
    resolution TEXT CHECK (resolution IN ('manual', 'auto')),
    title TEXT NOT NULL,
    evidence TEXT NOT NULL,
    action TEXT NOT NULL,
    condition_active INTEGER NOT NULL DEFAULT 1,
    escalations INTEGER NOT NULL DEFAULT 0,
    first_run_id INTEGER NOT NULL REFERENCES monitor_runs(id),
    last_run_id INTEGER NOT NULL REFERENCES monitor_runs(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    resolved_at TEXT,
    resolved_by TEXT
);
CREATE UNIQUE INDEX alerts_active_key ON alerts(dedup_key) WHERE status != 'resolved';
CREATE INDEX alerts_quiet_key ON alerts(dedup_key)
    WHERE status = 'resolved' AND resolution = 'manual' AND condition_active = 1;
CREATE INDEX alerts_status ON alerts(status, severity_rank);
CREATE INDEX alerts_customer ON alerts(customer_id);
CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    run_id INTEGER REFERENCES monitor_runs(id),
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN
        ('opened', 'escalated', 'reopened', 'acknowledged', 'resolved', 'auto_resolved')),
    from_status TEXT,
    to_status TEXT NOT NULL,
    from_severity TEXT,
    to_severity TEXT NOT NULL,
    note TEXT
);
CREATE INDEX alert_events_alert ON alert_events(alert_id);
CREATE INDEX alert_events_run ON alert_events(run_id, event);
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

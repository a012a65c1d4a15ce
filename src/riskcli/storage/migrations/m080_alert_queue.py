"""The alert queue: every alert carries its priority in money (cents at risk), the customer's
exposure, overdue amount and grade as of the run that last saw it, and who it is assigned to;
assignment is a recorded event (the event check is widened, so `alert_events` is rebuilt with
its rows). `customer_reviews` keeps each credit review of a customer (the review calendar
counts from the latest one).
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

ALERT_COLUMNS = (
    "priority INTEGER NOT NULL DEFAULT 0",
    "exposure INTEGER",
    "overdue INTEGER",
    "grade TEXT",
    "assignee TEXT",
    "assigned_at TEXT",
)

EVENTS = """
CREATE TABLE alert_events_new (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    run_id INTEGER REFERENCES monitor_runs(id),
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN
        ('opened', 'escalated', 'reopened', 'acknowledged', 'resolved', 'auto_resolved',
         'assigned', 'unassigned')),
    from_status TEXT,
    to_status TEXT NOT NULL,
    from_severity TEXT,
    to_severity TEXT NOT NULL,
    note TEXT
);
INSERT INTO alert_events_new SELECT id, alert_id, customer_id, run_id, at, user, event,
    from_status, to_status, from_severity, to_severity, note FROM alert_events;
DROP TABLE alert_events;
ALTER TABLE alert_events_new RENAME TO alert_events;
CREATE INDEX alert_events_alert ON alert_events(alert_id);
CREATE INDEX alert_events_run ON alert_events(run_id, event);
CREATE INDEX alerts_queue ON alerts(status, priority);
CREATE TABLE customer_reviews (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    reviewed_on TEXT NOT NULL,
    user TEXT NOT NULL,
    grade TEXT,
    note TEXT NOT NULL
);
CREATE INDEX customer_reviews_customer ON customer_reviews(customer_id, reviewed_on);
"""


def migrate(conn: Connection) -> None:
    have = {row[1] for row in conn.execute("PRAGMA table_info(alerts)")}
    for column in ALERT_COLUMNS:
        if column.split()[0] not in have:
            conn.execute(f"ALTER TABLE alerts ADD COLUMN {column}")
    for statement in EVENTS.split(";"):
        if statement.strip():
            conn.execute(statement)

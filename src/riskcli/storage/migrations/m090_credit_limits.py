"""Credit limits under control: limit requests, limit state per customer and group, groups,
and the original amount and currency of converted foreign amounts.

- `limit_requests`: one row per request (a customer's or a group's), with the limit, the
  recommended limit and the grade at the moment of the request, the reason code, the temporary
  limit's expiry and the next review date; who asked, who decided, and where it came from
  (`cli`, `import`, `import-apply`, `decrease`). A CHECK keeps maker and checker apart whatever
  code writes, except for the two recorded exceptions (`import --limits apply` and a decrease
  with `decrease_needs_approval = false`).
- `customers` gain `group_id` and `parent_id` (external ids: a group need not be a customer),
  and the state of an approved limit: `limit_expires` (a temporary limit ends then),
  `limit_fallback` (the limit it falls back to), `limit_review` (next review date) and
  `limit_request` (the request that set it).
- `group_limits`: a group's own limit with the same state.
- `foreign_amounts`: for each money cell converted at import, the original amount (cents),
  its currency and the rate used; keyed by the kind and the row's natural key.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE limit_requests (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    group_id TEXT,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    current_limit INTEGER NOT NULL,
    recommended_limit INTEGER,
    grade TEXT,
    reason TEXT NOT NULL,
    note TEXT,
    expires TEXT,
    review_date TEXT,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    source TEXT NOT NULL DEFAULT 'cli',
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT,
    ended_at TEXT,
    CHECK ((customer_id IS NULL) <> (group_id IS NULL)),
    CHECK (decided_by IS NULL OR decided_by <> requested_by
           OR source IN ('import-apply', 'decrease'))
);
CREATE INDEX limit_requests_customer ON limit_requests(customer_id);
CREATE INDEX limit_requests_status ON limit_requests(status);
ALTER TABLE customers ADD COLUMN group_id TEXT;
ALTER TABLE customers ADD COLUMN parent_id TEXT;
ALTER TABLE customers ADD COLUMN limit_expires TEXT;
ALTER TABLE customers ADD COLUMN limit_fallback INTEGER;
ALTER TABLE customers ADD COLUMN limit_review TEXT;
ALTER TABLE customers ADD COLUMN limit_request INTEGER;
CREATE INDEX customers_group ON customers(group_id) WHERE group_id IS NOT NULL;
CREATE INDEX customers_parent ON customers(parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX customers_limit_expires ON customers(limit_expires) WHERE limit_expires IS NOT NULL;
CREATE TABLE group_limits (
    group_id TEXT PRIMARY KEY,
    credit_limit INTEGER NOT NULL DEFAULT 0,
    limit_expires TEXT,
    limit_fallback INTEGER,
    limit_review TEXT,
    limit_request INTEGER
);
CREATE TABLE foreign_amounts (
    kind TEXT NOT NULL,
    row_key TEXT NOT NULL,
    field TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL,
    rate TEXT NOT NULL,
    rate_date TEXT NOT NULL,
    PRIMARY KEY (kind, row_key, field)
) WITHOUT ROWID;
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

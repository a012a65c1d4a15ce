"""The customer book: customers and the records attached to them, plus import batches.

Money is integer minor units (cents); dates are ISO `YYYY-MM-DD` text. Every imported table keeps
a `row_hash` of its normalised values so a re-import can tell unchanged rows from updates.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection

SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name TEXT,
    kind TEXT NOT NULL DEFAULT 'company' CHECK (kind IN ('individual', 'company')),
    industry TEXT,
    region TEXT,
    phone TEXT,
    email TEXT,
    national_id TEXT,
    registered_date TEXT,
    credit_limit INTEGER NOT NULL DEFAULT 0,
    account_owner TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    row_hash TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX customers_industry ON customers(industry);
CREATE INDEX customers_region ON customers(region);
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL CHECK (kind IN ('order', 'payment', 'refund')),
    date TEXT NOT NULL,
    amount INTEGER NOT NULL,
    row_hash TEXT
);
CREATE INDEX transactions_customer_date ON transactions(customer_id, date);
CREATE TABLE receivables (
    id INTEGER PRIMARY KEY,
    invoice_number TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    issue_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    amount INTEGER NOT NULL,
    paid_amount INTEGER NOT NULL DEFAULT 0,
    paid_date TEXT,
    row_hash TEXT
);
CREATE INDEX receivables_customer ON receivables(customer_id);
CREATE TABLE credit_reports (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    provider TEXT NOT NULL,
    report_date TEXT NOT NULL,
    score REAL,
    rating TEXT,
    lawsuit INTEGER NOT NULL DEFAULT 0,
    bankruptcy INTEGER NOT NULL DEFAULT 0,
    tax_violation INTEGER NOT NULL DEFAULT 0,
    dishonest_debtor INTEGER NOT NULL DEFAULT 0,
    other_flag INTEGER NOT NULL DEFAULT 0,
    row_hash TEXT,
    UNIQUE (customer_id, provider, report_date)
);
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    contract_number TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    signed_date TEXT,
    start_date TEXT,
    end_date TEXT,
    value INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('draft', 'active', 'amended', 'terminated', 'expired')),
    row_hash TEXT
);
CREATE INDEX contracts_customer ON contracts(customer_id);
CREATE INDEX contracts_end ON contracts(end_date);
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'visit', 'survey', 'complaint')),
    date TEXT NOT NULL,
    satisfaction INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
    note TEXT,
    row_hash TEXT
);
CREATE INDEX interactions_customer_date ON interactions(customer_id, date);
CREATE TABLE financials (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    period TEXT NOT NULL,
    revenue INTEGER,
    net_income INTEGER,
    total_assets INTEGER,
    total_liabilities INTEGER,
    current_assets INTEGER,
    current_liabilities INTEGER,
    row_hash TEXT,
    UNIQUE (customer_id, period)
);
CREATE TABLE import_batches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0,
    inserted INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    dry_run INTEGER NOT NULL DEFAULT 0,
    user TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
"""


def migrate(conn: Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)

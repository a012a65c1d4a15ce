"""Write-offs and recoveries: the ledger of what left the book and what came back.

A write-off takes an invoice off the book from its date on (the book's `ISSUED` rule): the
amount written off is what was outstanding on that date. It stays in the store for recovery
and for the loss history. A recovery records money received on a written-off invoice; all the
recoveries of an invoice together never exceed what was written off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.domain.money import exact_cents, from_cents
from riskcli.services.book import outstanding
from riskcli.storage.store import Store

_INVOICE_SQL = f"""
SELECT id, issue_date, written_off_date, {outstanding(":d")} AS open_on_day,
  CASE WHEN written_off_date IS NULL THEN 0 ELSE {outstanding("written_off_date")} END AS wo
FROM receivables WHERE invoice_number = :n
"""


@dataclass(frozen=True)
class Entry:
    """One write-off or recovery: invoice, day, amount."""

    invoice: str
    day: date
    amount: Decimal


def _invoice(store: Store, invoice: str, day: date) -> dict[str, object]:
    rows = store.query(_INVOICE_SQL, {"n": invoice, "d": day.isoformat()})
    if not rows:
        raise InputError(f"no invoice {invoice!r}")
    row = rows[0]
    if str(row["issue_date"]) > day.isoformat():
        raise InputError(
            f"invoice {invoice} was issued on {row['issue_date']}, after {day.isoformat()}"
        )
    return row


def _positive_cents(amount: Decimal, what: str) -> int:
    cents = exact_cents(amount)
    if cents is None or cents <= 0:
        raise InputError(f"{what} must be a positive amount with at most 2 decimals")
    return cents


def write_off(store: Store, invoice: str, reason: str, day: date) -> Entry:
    """Write the invoice off on `day`: its outstanding amount then leaves the book."""
    if not reason.strip():
        raise InputError("--reason must say why the invoice is written off")
    with store.transaction():
        row = _invoice(store, invoice, day)
        if row["written_off_date"] is not None:
            raise InputError(
                f"invoice {invoice} was already written off on {row['written_off_date']}"
            )
        amount = int(row["open_on_day"])  # type: ignore[call-overload]
        if amount <= 0:
            raise InputError(
                f"invoice {invoice} is paid in full by {day.isoformat()}: nothing to write off"
            )
        store.execute(
            "UPDATE receivables SET written_off_date = ?, write_off_reason = ? WHERE id = ?",
            (day.isoformat(), reason.strip(), row["id"]),
        )
    return Entry(invoice, day, from_cents(amount))


def recover(store: Store, invoice: str, amount: Decimal, day: date, user: str) -> Entry:
    """Record money recovered on a written-off invoice."""
    cents = _positive_cents(amount, "--amount")
    with store.transaction():
        row = _invoice(store, invoice, day)
        if row["written_off_date"] is None:
            raise InputError(f"invoice {invoice} is not written off; record payments by import")
        if str(row["written_off_date"]) > day.isoformat():
            raise InputError(
                f"invoice {invoice} was written off on {row['written_off_date']}, after "
                f"{day.isoformat()}"
            )
        before = int(
            store.scalar(
                "SELECT COALESCE(SUM(amount), 0) FROM recoveries WHERE receivable_id = ?",
                (row["id"],),
            )
        )
        written = int(row["wo"])  # type: ignore[call-overload]
        if before + cents > written:
            raise InputError(
                f"a recovery of {amount} is more than what is left to recover on {invoice} "
                f"({from_cents(written - before)} of {from_cents(written)} written off)"
            )
        store.execute(
            "INSERT INTO recoveries (receivable_id, date, amount, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                row["id"],
                day.isoformat(),
                cents,
                user,
                datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
    return Entry(invoice, day, from_cents(cents))


_WRITTEN_OFF_SQL = f"""
SELECT r.invoice_number, c.external_id AS customer_id, r.issue_date, r.due_date, r.amount,
  r.written_off_date, {outstanding("r.written_off_date")} AS written_off,
  COALESCE((SELECT SUM(v.amount) FROM recoveries v WHERE v.receivable_id = r.id
    AND v.date <= :a), 0) AS recovered, r.write_off_reason AS reason
FROM receivables r JOIN customers c ON c.id = r.customer_id
WHERE r.written_off_date IS NOT NULL AND r.written_off_date <= :a
ORDER BY r.written_off_date, r.invoice_number
"""


def written_off(store: Store, as_of: date) -> pd.DataFrame:
    """Every invoice written off by the as-of date, with what was recovered by then (cents)."""
    frame = store.query_df(_WRITTEN_OFF_SQL, {"a": as_of.isoformat()})
    frame["net_loss"] = frame["written_off"] - frame["recovered"]
    return frame


def recoveries_between(store: Store, start: date, end: date) -> int:
    """Money recovered on written-off invoices in (start, end] (cents)."""
    return int(
        store.scalar(
            "SELECT COALESCE(SUM(amount), 0) FROM recoveries WHERE date > ? AND date <= ?",
            (start.isoformat(), end.isoformat()),
        )
    )

"""Data protection: erasure of a customer's personal data, legal holds, retention candidates.

Erasure (PIPL art. 47, GDPR art. 17) blanks the personal columns of the customer and of every
record attached to it, keeps the non-personal aggregates (amounts, dates, scores) and the audit
trail, which names the customer by id only. `row_hash` columns are blanked too: a hash of a
phone number or an id number can be reversed by guessing.

The store runs with `secure_delete` on, so SQLite zeroes the freed bytes; after the erasure the
write-ahead log is checkpointed and truncated so that no older copy of a page stays in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from riskcli.domain.errors import InputError, UsageError
from riskcli.services.queries import customers
from riskcli.storage.store import Store

#: columns that hold personal data wherever they appear in a table tied to a customer
PERSONAL_COLUMNS: tuple[str, ...] = (
    "name",
    "phone",
    "email",
    "national_id",
    "note",
    "notes",
    "contact",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "comment",
)
#: hashes of normalised rows (which include personal values) are blanked along with them
DERIVED_COLUMNS: tuple[str, ...] = ("row_hash",)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def customer_pk(store: Store, external_id: str) -> int:
    found = customers.pk(store, external_id)
    if found is None:
        raise InputError(f"no customer {external_id}")
    return found


def erased_ids(store: Store) -> set[str]:
    """External ids of customers whose personal data was erased (an importer should skip them)."""
    rows = store.query(
        "SELECT c.external_id FROM erasures e JOIN customers c ON c.id = e.customer_id"
    )
    return {str(r["external_id"]) for r in rows}


def open_receivables(store: Store, customer_pk: int) -> int:
    return int(
        store.scalar(
            "SELECT count(*) FROM receivables WHERE customer_id = ? AND amount > paid_amount",
            (customer_pk,),
        )
    )


def open_hold(store: Store, customer_pk: int) -> dict[str, Any] | None:
    rows = store.query(
        "SELECT id, reason, placed_at, placed_by FROM legal_holds "
        "WHERE customer_id = ? AND lifted_at IS NULL",
        (customer_pk,),
    )
    return rows[0] if rows else None


# ---- erasure ---------------------------------------------------------------------------------
@dataclass
class ErasureResult:
    customer_id: str
    forced: bool
    overridden: list[str]
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows blanked
    fields: dict[str, list[str]] = field(default_factory=dict)  # table -> columns blanked
    wal_cleared: bool = True

    def summary(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "tables": ", ".join(f"{t} ({n})" for t, n in self.rows.items() if n),
            "fields": "; ".join(f"{t}: {', '.join(c)}" for t, c in self.fields.items()),
            "forced": self.forced,
            "overridden": ", ".join(self.overridden),
            "wal_cleared": self.wal_cleared,
        }


def _columns(store: Store, table: str) -> list[tuple[str, bool]]:
    """(name, not null) of each column."""
    return [(str(r[1]), bool(r[3])) for r in store.execute(f'PRAGMA table_info("{table}")')]


def _erasable_tables(store: Store) -> dict[str, tuple[str, list[tuple[str, bool]]]]:
    """table -> (key column, personal/derived columns) for every table holding personal data."""
    found: dict[str, tuple[str, list[tuple[str, bool]]]] = {}
    for table in store.tables():
        cols = _columns(store, table)
        names = {c for c, _ in cols}
        if table == "customers":
            key = "id"
        elif "customer_id" in names:
            key = "customer_id"
        else:
            continue
        # elsewhere `name` is usually a rule's or a model's name, not a person's
        wanted = PERSONAL_COLUMNS if table == "customers" else PERSONAL_COLUMNS[1:]
        personal = [(c, nn) for c, nn in cols if c in wanted]
        if not personal:
            continue
        derived = [(c, nn) for c, nn in cols if c in DERIVED_COLUMNS]
        found[table] = (key, personal + derived)
    return found


def erase(
    store: Store, external_id: str, *, reason: str, user: str, force: bool = False
) -> ErasureResult:
    """Blank the personal data of one customer; refuse on open receivables or a legal hold."""
    reason = reason.strip()
    if not reason:
        raise UsageError("an erasure needs --reason TEXT (it is kept in the erasure record)")
    pk = customer_pk(store, external_id)
    if store.scalar("SELECT 1 FROM erasures WHERE customer_id = ?", (pk,)):
        raise InputError(f"customer {external_id} was already erased")
    blockers: list[str] = []
    receivables = open_receivables(store, pk)
    if receivables:
        blockers.append(f"{receivables} open receivable{'s' if receivables > 1 else ''}")
    if open_hold(store, pk):
        blockers.append("a legal hold")
    if blockers and not force:
        raise InputError(
            f"customer {external_id} cannot be erased: {' and '.join(blockers)} "
            "(use --force with --reason to override)"
        )
    result = ErasureResult(external_id, force and bool(blockers), blockers)
    store.execute("PRAGMA secure_delete = ON")
    with store.transaction():
        for table, (key, columns) in _erasable_tables(store).items():
            sets = ", ".join(f'"{c}" = ' + ("''" if nn else "NULL") for c, nn in columns)
            if table == "customers" and "updated_at" in {c for c, _ in _columns(store, table)}:
                sets += ", updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
            cur = store.execute(f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?', (pk,))
            result.rows[table] = max(int(cur.rowcount), 0)
            result.fields[table] = [c for c, _ in columns]
        store.execute(
            "INSERT INTO erasures(customer_id, erased_at, erased_by, reason, forced, fields) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (pk, _now(), user, reason, int(result.forced), json.dumps(result.fields)),
        )
    result.wal_cleared = purge_wal(store)
    return result


def purge_wal(store: Store) -> bool:
    """Copy the WAL into the file and truncate it, so no older page version survives there."""
    if store.in_transaction or store.conn.in_transaction:
        return False
    row = store.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return row is not None and int(row[0]) == 0


# ---- legal holds -----------------------------------------------------------------------------
def hold(store: Store, external_id: str, *, reason: str, user: str) -> dict[str, Any]:
    reason = reason.strip()
    if not reason:
        raise UsageError("a legal hold needs --reason TEXT")
    pk = customer_pk(store, external_id)
    with store.transaction():
        existing = open_hold(store, pk)
        if existing:
            raise InputError(
                f"customer {external_id} is already on legal hold since {existing['placed_at']}"
            )
        store.execute(
            "INSERT INTO legal_holds(customer_id, reason, placed_at, placed_by) VALUES (?,?,?,?)",
            (pk, reason, _now(), user),
        )
        _record_hold(store, external_id, "none", "on hold", "customers hold")
    return {"customer_id": external_id, "hold": "placed", "reason": reason}


def unhold(store: Store, external_id: str, *, reason: str, user: str) -> dict[str, Any]:
    reason = reason.strip()
    if not reason:
        raise UsageError("lifting a legal hold needs --reason TEXT")
    pk = customer_pk(store, external_id)
    with store.transaction():
        existing = open_hold(store, pk)
        if not existing:
            raise InputError(f"customer {external_id} is not on legal hold")
        store.execute(
            "UPDATE legal_holds SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
            (_now(), user, reason, existing["id"]),
        )
        _record_hold(store, external_id, "on hold", "none", "customers unhold")
    return {"customer_id": external_id, "hold": "lifted", "reason": reason}


def _record_hold(store: Store, external_id: str, old: str, new: str, command: str) -> None:
    """The hold state's before and after in the audit trail (the reason stays in legal_holds)."""
    from riskcli.services.limits.changes import Change, record_changes

    record_changes(store, [Change("legal_hold", old, new, customer=external_id)], command=command)


def holds(store: Store, *, include_lifted: bool = False) -> list[dict[str, Any]]:
    sql = (
        "SELECT c.external_id AS customer_id, h.reason, h.placed_at, h.placed_by, h.lifted_at, "
        "h.lifted_by, h.lift_reason FROM legal_holds h JOIN customers c ON c.id = h.customer_id"
    )
    if not include_lifted:
        sql += " WHERE h.lifted_at IS NULL"
    return store.query(sql + " ORDER BY h.placed_at")


# ---- retention -------------------------------------------------------------------------------
def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


_ACTIVITY_SQL = """
WITH activity(customer_id, day) AS (
    SELECT customer_id, date FROM transactions
    UNION ALL SELECT customer_id, issue_date FROM receivables
    UNION ALL SELECT customer_id, paid_date FROM receivables WHERE paid_date IS NOT NULL
    UNION ALL SELECT customer_id, date FROM interactions
    UNION ALL SELECT customer_id, coalesce(end_date, signed_date, start_date) FROM contracts
    UNION ALL SELECT id, registered_date FROM customers WHERE registered_date IS NOT NULL
)
SELECT c.id AS pk, c.external_id AS customer_id, c.status,
       (SELECT max(day) FROM activity a WHERE a.customer_id = c.id) AS last_activity,
       (SELECT count(*) FROM receivables r
         WHERE r.customer_id = c.id AND r.amount > r.paid_amount) AS open_receivables,
       EXISTS (SELECT 1 FROM legal_holds h
         WHERE h.customer_id = c.id AND h.lifted_at IS NULL) AS on_hold
FROM customers c
WHERE NOT EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = c.id)
"""


def retention(
    store: Store, inactive_years: int, *, today: date | None = None
) -> list[dict[str, Any]]:
    """Customers with no activity for `inactive_years`: candidates for erasure, with blockers."""
    if inactive_years < 1:
        raise UsageError("--inactive-years must be at least 1")
    today = today or datetime.now(UTC).date()
    cutoff = _years_before(today, inactive_years).isoformat()
    out: list[dict[str, Any]] = []
    for row in store.query(_ACTIVITY_SQL + " ORDER BY c.external_id"):
        last = row["last_activity"]
        if last is not None and str(last) >= cutoff:
            continue
        blockers = []
        if row["open_receivables"]:
            blockers.append("open receivables")
        if row["on_hold"]:
            blockers.append("legal hold")
        years = None
        if last is not None:
            try:
                years = round((today - date.fromisoformat(str(last)[:10])).days / 365.25, 1)
            except ValueError:
                years = None
        out.append(
            {
                "customer_id": row["customer_id"],
                "status": row["status"],
                "last_activity": last,
                "inactive_years": years,
                "open_receivables": int(row["open_receivables"]),
                "on_hold": bool(row["on_hold"]),
                "eligible": not blockers,
                "blockers": ", ".join(blockers),
            }
        )
    return out

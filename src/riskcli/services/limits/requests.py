"""Limit requests with maker-checker approval.

A request asks for a new limit for one customer (or a group) with a reason code, an optional
expiry (a temporary limit) and review date. Another user whose role's approval band covers the
amount approves or rejects it; approval sets the limit, its expiry, its fallback and its next
review date. An expired temporary limit falls back to the limit before it (`expire`, run at the
start of every limits command and import). Every change of a limit is an audit event with the
old and new value (riskcli.services.limits.changes).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from riskcli.domain.errors import AccessError, InputError
from riskcli.domain.money import from_cents, money_fields, to_cents
from riskcli.services.limits import groups as groups_service
from riskcli.services.limits.changes import Change, record_changes
from riskcli.services.limits.config import ApprovalConfig, LimitsConfig
from riskcli.services.queries import customers
from riskcli.storage.sqlwhere import Where
from riskcli.storage.store import Store

STATUSES = ("pending", "approved", "rejected", "expired")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Target:
    """Whose limit: a customer (pk and external id) or a group."""

    customer_pk: int | None
    customer: str | None
    group: str | None
    current: int  # cents
    temporary: bool  # the current limit is a temporary one
    fallback: int | None

    @property
    def label(self) -> str:
        return f"customer {self.customer}" if self.customer else f"group {self.group}"


def customer_target(store: Store, external_id: str) -> Target:
    h = customers.header(store, external_id)
    fallback = None if h.limit_fallback is None else to_cents(h.limit_fallback)
    return Target(
        h.pk, external_id, None, to_cents(h.credit_limit), h.limit_expires is not None, fallback
    )


def group_target(store: Store, group: str) -> Target:
    if group not in groups_service.members_by_group(store):
        raise InputError(f"no customer group {group!r} (see `customers groups`)")
    rows = store.query(
        "SELECT credit_limit, limit_expires, limit_fallback FROM group_limits WHERE group_id = ?",
        (group,),
    )
    if not rows:
        return Target(None, None, group, 0, False, None)
    r = rows[0]
    return Target(
        None, None, group, int(r["credit_limit"]), r["limit_expires"] is not None,
        r["limit_fallback"],
    )  # fmt: skip


def latest_score(store: Store, customer_pk: int | None) -> tuple[int | None, str | None]:
    """(recommended limit in cents, grade) from the latest score run that scored the customer."""
    if customer_pk is None:
        return None, None
    row = store.query(
        "SELECT s.recommended_limit, s.grade FROM score_runs r CROSS JOIN scores s "
        "ON s.run_id = r.id AND s.customer_id = ? ORDER BY r.id DESC LIMIT 1",
        (customer_pk,),
    )
    if not row:
        return None, None
    return int(row[0]["recommended_limit"]), str(row[0]["grade"])


def _check_reason(reason: str, config: LimitsConfig) -> str:
    reason = reason.strip()
    if reason not in config.reasons:
        raise InputError(
            f"reason {reason!r} is not a configured reason code "
            f"(use one of: {', '.join(config.reasons)})"
        )
    return reason


def check_authority(
    approval: ApprovalConfig, user: str, role: str, amount_cents: int, what: str
) -> None:
    """AccessError unless `role`'s band covers the amount."""
    amount = from_cents(amount_cents)
    if approval.may_approve(role, amount):
        return
    band = approval.band_for(amount)
    who = ", ".join(band.roles) if band else "nobody (above every band)"
    raise AccessError(
        f"{what} of {amount:,.2f} needs a role of {who} in [credit.approval]; user {user} is {role}"
    )


def insert_request(store: Store, target: Target, values: dict[str, Any]) -> int:
    recommended, grade = latest_score(store, target.customer_pk)
    row = {
        "customer_id": target.customer_pk,
        "group_id": target.group,
        "current_limit": target.current,
        "recommended_limit": recommended,
        "grade": grade,
        "requested_at": now(),
        **values,
    }
    cols = list(row)
    cur = store.execute(
        f"INSERT INTO limit_requests ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )
    return int(cur.lastrowid)


def pending_for(store: Store, target: Target) -> dict[str, Any] | None:
    if target.customer_pk is not None:
        rows = store.query(
            "SELECT * FROM limit_requests WHERE customer_id = ? AND status = 'pending'",
            (target.customer_pk,),
        )
    else:
        rows = store.query(
            "SELECT * FROM limit_requests WHERE group_id = ? AND status = 'pending'",
            (target.group,),
        )
    return rows[0] if rows else None


def request(
    store: Store,
    config: LimitsConfig,
    *,
    customer: str | None = None,
    group: str | None = None,
    amount: Decimal,
    reason: str,
    expires: date | None = None,
    review: date | None = None,
    note: str | None = None,
    today: date | None = None,
    command: str = "limits request",
) -> dict[str, Any]:
    """Create a pending request (or, for a decrease when `decrease_needs_approval = false`,
    apply it at once); returns the request as `show` gives it."""
    today = today or date.today()
    reason = _check_reason(reason, config)
    if amount < 0:
        raise InputError("--amount must be 0 or more")
    if expires is not None and expires <= today:
        raise InputError(f"--expires {expires} is not after today ({today})")
    if review is not None and review <= today:
        raise InputError(f"--review {review} is not after today ({today})")
    cents = to_cents(amount)
    with store.transaction():
        target = customer_target(store, customer) if customer else group_target(store, str(group))
        existing = pending_for(store, target)
        if existing is not None:
            raise InputError(
                f"{target.label} already has pending request {existing['id']}; "
                "approve or reject it first"
            )
        if cents == target.current and expires is None:
            raise InputError(f"{target.label} already has the limit {amount:,.2f}")
        values = {
            "amount": cents, "reason": reason, "note": note, "source": "cli",
            "expires": expires.isoformat() if expires else None,
            "review_date": review.isoformat() if review else None,
            "requested_by": store.user,
        }  # fmt: skip
        if cents < target.current and not config.decrease_needs_approval:
            values["source"] = "decrease"
            req_id = insert_request(store, target, values)
            _decide(store, config, req_id, "approved", note=None, today=today, command=command)
        else:
            req_id = insert_request(store, target, values)
    return show(store, req_id)


def _load(store: Store, req_id: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = store.query("SELECT * FROM limit_requests WHERE id = ?", (req_id,))
    if not rows:
        raise InputError(f"no limit request {req_id}")
    return rows[0]


def _check_decidable(
    store: Store, req: dict[str, Any], approval: ApprovalConfig, verb: str
) -> None:
    if req["status"] != "pending":
        raise InputError(f"request {req['id']} is already {req['status']}")
    if req["requested_by"] == store.user:
        raise AccessError(
            f"request {req['id']} was made by {store.user}; another user must {verb} it "
            "(maker-checker)"
        )
    what = "approving a limit" if verb == "approve" else "rejecting a limit"
    check_authority(approval, store.user, store.role, int(req["amount"]), what)


def decide(
    store: Store,
    config: LimitsConfig,
    approval: ApprovalConfig,
    req_id: int,
    *,
    approve: bool,
    note: str | None,
    today: date | None = None,
    command: str = "limits approve",
) -> dict[str, Any]:
    """Approve or reject a pending request as the store's user (not the requester, and within
    their role's band)."""
    today = today or date.today()
    with store.transaction():
        req = _load(store, req_id)
        _check_decidable(store, req, approval, "approve" if approve else "reject")
        status = "approved" if approve else "rejected"
        _decide(store, config, req_id, status, note=note, today=today, command=command)
    return show(store, req_id)


def _decide(
    store: Store,
    config: LimitsConfig,
    req_id: int,
    status: str,
    *,
    note: str | None,
    today: date,
    command: str,
) -> None:
    store.execute(
        "UPDATE limit_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? "
        "WHERE id = ?",
        (status, store.user, now(), note, req_id),
    )
    if status == "approved":
        apply_request(store, config, _load(store, req_id), today=today, command=command)


def apply_request(
    store: Store, config: LimitsConfig, req: dict[str, Any], *, today: date, command: str
) -> None:
    """Set the limit a decided request asks for, with its expiry, fallback and review date."""
    if req["customer_id"] is not None:
        rows = store.query(
            "SELECT external_id, credit_limit, limit_expires, limit_fallback FROM customers "
            "WHERE id = ?",
            (req["customer_id"],),
        )
        table, key_col, key = "customers", "id", req["customer_id"]
        who: dict[str, Any] = {"customer": rows[0]["external_id"]}
    else:
        rows = store.query(
            "SELECT credit_limit, limit_expires, limit_fallback FROM group_limits "
            "WHERE group_id = ?",
            (req["group_id"],),
        )
        if not rows:
            store.execute("INSERT INTO group_limits (group_id) VALUES (?)", (req["group_id"],))
            rows = [{"credit_limit": 0, "limit_expires": None, "limit_fallback": None}]
        table, key_col, key = "group_limits", "group_id", req["group_id"]
        who = {"group": req["group_id"]}
    cur = rows[0]
    old = int(cur["credit_limit"])
    # a temporary limit falls back to the permanent one under it, however many are stacked
    fallback = None
    if req["expires"] is not None:
        fallback = cur["limit_fallback"] if cur["limit_expires"] is not None else old
    review = req["review_date"] or review_date(config, req["grade"], today).isoformat()
    store.execute("UPDATE limit_requests SET review_date = ? WHERE id = ?", (review, req["id"]))
    store.execute(
        f"UPDATE {table} SET credit_limit = ?, limit_expires = ?, limit_fallback = ?, "
        f"limit_review = ?, limit_request = ? WHERE {key_col} = ?",
        (req["amount"], req["expires"], fallback, review, req["id"], key),
    )
    changes = [
        Change("credit_limit", old, int(req["amount"]), request=int(req["id"]),
               requested_by=req["requested_by"], why=why_of(req), **who),
    ]  # fmt: skip
    if req["expires"] != cur["limit_expires"]:
        changes.append(
            Change("limit_expires", cur["limit_expires"], req["expires"],
                   request=int(req["id"]), requested_by=req["requested_by"], **who)
        )  # fmt: skip
    record_changes(store, changes, command=command)


def why_of(req: dict[str, Any]) -> str | None:
    return {
        "import-apply": "import --limits apply (no second approver)",
        "decrease": "decrease without approval (decrease_needs_approval = false)",
    }.get(str(req["source"]))


def review_date(config: LimitsConfig, grade: str | None, today: date) -> date:
    months = config.review_months.get(grade or "", config.review_months_default)
    return add_months(today, months)


# ---- expiry ---------------------------------------------------------------------------------
def expire(
    store: Store, config: LimitsConfig, *, today: date | None = None, command: str = "limits"
) -> dict[str, int]:
    """Pending requests past `pending_days` or their own expiry lapse; temporary limits whose
    expiry date has passed fall back to the limit under them. Returns the counts."""
    today = today or date.today()
    stale = (today - timedelta(days=config.pending_days)).isoformat()
    with store.transaction():
        lapsed = store.execute(
            "UPDATE limit_requests SET status = 'expired', decided_at = ?, "
            "decision_note = 'not decided in time' WHERE status = 'pending' "
            "AND (substr(requested_at, 1, 10) < ? OR expires <= ?)",
            (now(), stale, today.isoformat()),
        ).rowcount
        ended = _fall_back(store, today, command)
    return {"requests_expired": int(lapsed), "limits_fell_back": ended}


def expiry_due(store: Store, config: LimitsConfig, *, today: date | None = None) -> bool:
    """Whether `expire` would change anything (a read: no write lock for nothing)."""
    today = today or date.today()
    stale = (today - timedelta(days=config.pending_days)).isoformat()
    day = today.isoformat()
    return bool(
        store.scalar(
            "SELECT EXISTS (SELECT 1 FROM limit_requests WHERE status = 'pending' "
            "AND (substr(requested_at, 1, 10) < ? OR expires <= ?)) "
            "OR EXISTS (SELECT 1 FROM customers WHERE limit_expires < ?) "
            "OR EXISTS (SELECT 1 FROM group_limits WHERE limit_expires < ?)",
            (stale, day, day, day),
        )
    )


def _fall_back(store: Store, today: date, command: str) -> int:
    day = today.isoformat()
    changes: list[Change] = []
    for table, key_col, label in (
        ("customers", "external_id", "customer"),
        ("group_limits", "group_id", "group"),
    ):
        rows = store.query(
            f"SELECT {key_col} AS k, credit_limit, limit_expires, limit_fallback, limit_request "
            f"FROM {table} WHERE limit_expires IS NOT NULL AND limit_expires < ?",
            (day,),
        )
        for r in rows:
            back = int(r["limit_fallback"] or 0)
            store.execute(
                f"UPDATE {table} SET credit_limit = ?, limit_expires = NULL, "
                f"limit_fallback = NULL WHERE {key_col} = ?",
                (back, r["k"]),
            )
            store.execute(
                "UPDATE limit_requests SET ended_at = ? WHERE id = ?", (now(), r["limit_request"])
            )
            who = {label: str(r["k"])}
            req = r["limit_request"]
            why = f"temporary limit expired after {r['limit_expires']}"
            changes.append(
                Change("credit_limit", int(r["credit_limit"]), back, request=req, why=why, **who)
            )
            changes.append(
                Change("limit_expires", r["limit_expires"], None, request=req, why=why, **who)
            )
    record_changes(store, changes, command=command)
    return len(changes) // 2


# ---- reading --------------------------------------------------------------------------------
_SHOW = (
    "SELECT r.id AS request, c.external_id AS customer_id, r.group_id, r.status, "
    "r.current_limit, r.amount, r.recommended_limit, r.grade, r.reason, r.expires, "
    "r.review_date, r.source, r.requested_by, r.requested_at, r.decided_by, r.decided_at, "
    "r.note, r.decision_note, r.ended_at FROM limit_requests r "
    "LEFT JOIN customers c ON c.id = r.customer_id"
)


_MONEY = ("current_limit", "amount", "recommended_limit", "credit_limit", "fallback")


def show(store: Store, req_id: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = store.query(_SHOW + " WHERE r.id = ?", (req_id,))
    if not rows:
        raise InputError(f"no limit request {req_id}")
    return money_fields(rows[0], *_MONEY)


def list_requests(
    store: Store,
    *,
    pending: bool = False,
    customer: str | None = None,
    group: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    where = (
        Where()
        .add_if(pending, "r.status = 'pending'")
        .add_if(customer, "c.external_id = ?", customer)
        .add_if(group, "r.group_id = ?", group)
    )
    sql = _SHOW + where.sql + " ORDER BY r.id LIMIT ?"
    return [money_fields(r, *_MONEY) for r in store.query(sql, (*where.params, limit))]


def expiring(store: Store, days: int, *, today: date | None = None) -> list[dict[str, Any]]:
    """Temporary limits ending within `days` (with the limit they fall back to), and those that
    fell back in the last `days`."""
    today = today or date.today()
    until = (today + timedelta(days=days)).isoformat()
    since = (today - timedelta(days=days)).isoformat()
    rows = store.query(
        "SELECT c.external_id AS customer_id, NULL AS group_id, c.credit_limit, "
        "c.limit_fallback AS fallback, c.limit_expires AS expires, 'active' AS state, "
        "c.limit_request AS request FROM customers c "
        "WHERE c.limit_expires IS NOT NULL AND c.limit_expires <= ? "
        "UNION ALL SELECT NULL, g.group_id, g.credit_limit, g.limit_fallback, g.limit_expires, "
        "'active', g.limit_request FROM group_limits g "
        "WHERE g.limit_expires IS NOT NULL AND g.limit_expires <= ? "
        "UNION ALL SELECT c.external_id, r.group_id, NULL, r.current_limit, r.expires, "
        "'fell back', r.id FROM limit_requests r LEFT JOIN customers c ON c.id = r.customer_id "
        "WHERE r.ended_at IS NOT NULL AND substr(r.ended_at, 1, 10) >= ? "
        "ORDER BY 5, 1, 2",
        (until, until, since),
    )
    return [money_fields(r, *_MONEY) for r in rows]

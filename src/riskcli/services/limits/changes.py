"""Before and after values in the audit trail: one event per changed field of a customer (or
group).

Each event (action `customers.change`, or `groups.change` for a group's own limit) names the
customer id, the field, the old and the new value, the user who made the change take effect,
the request id and who asked for it. Values only: names, phones and national ids never go in.
`audit log --customer ID` finds them because they name the customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskcli.domain.money import from_cents
from riskcli.storage.audit import append_events
from riskcli.storage.store import Store

#: fields whose changes are recorded, and whether the value is money in cents
TRACKED: dict[str, bool] = {
    "credit_limit": True,
    "status": False,
    "group_id": False,
    "parent_id": False,
    "legal_hold": False,
    "limit_expires": False,
}


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any
    customer: str | None = None  # external id
    group: str | None = None
    request: int | None = None
    requested_by: str | None = None
    why: str | None = None  # e.g. "temporary limit expired", "import --limits apply"


def shown(field: str, value: Any) -> Any:
    """A stored value as the trail shows it (money as a decimal text, exact)."""
    if value is None:
        return None
    if TRACKED.get(field) and not isinstance(value, Decimal):
        return str(from_cents(int(value)))
    return str(value)


def record_changes(store: Store, changes: Iterable[Change], *, command: str) -> int:
    """Append one audit event per change inside the caller's transaction; returns the count."""
    events: list[dict[str, Any]] = []
    for ch in changes:
        affected: dict[str, Any] = {
            "field": ch.field,
            "old": shown(ch.field, ch.old),
            "new": shown(ch.field, ch.new),
        }
        if ch.customer is not None:
            affected["customer"] = ch.customer
        if ch.group is not None:
            affected["group"] = ch.group
        if ch.request is not None:
            affected["request"] = ch.request
        if ch.requested_by is not None:
            affected["requested_by"] = ch.requested_by
        if ch.why is not None:
            affected["why"] = ch.why
        events.append(
            {
                "user": store.user,
                "role": store.role,
                "action": "customers.change" if ch.customer is not None else "groups.change",
                "command": f"riskcli {command}",
                "args": {},
                "affected": affected,
                "outcome": "ok",
            }
        )
    append_events(store.conn, events)
    return len(events)

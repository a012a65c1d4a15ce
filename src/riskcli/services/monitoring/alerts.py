"""Reading and handling alerts: list, acknowledge, resolve, run history, per-customer view."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from riskcli.domain.errors import InputError, UsageError
from riskcli.domain.money import optional_cents_text
from riskcli.services.monitoring.severity import SEVERITIES, SEVERITY_RANK
from riskcli.services.queries import customers
from riskcli.storage.sqlwhere import Where
from riskcli.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ("open", "acknowledged", "resolved")
#: `--status active` means open or acknowledged
ACTIVE = "active"

ALERT_COLUMNS = """
a.id, a.priority, a.severity, a.status, a.rule, cu.external_id AS customer, a.subject, a.title,
a.action, a.assignee, a.evidence, fr.started_at AS first_seen, lr.started_at AS last_seen,
a.escalations, a.resolution
"""

#: `monitor alerts --sort`: money at risk (default), severity, or age (oldest first)
SORTS = {
    "priority": "a.priority DESC, a.severity_rank DESC, a.id",
    "severity": "a.severity_rank DESC, a.priority DESC, a.id DESC",
    "age": "a.id",
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _alert(store: Store, alert_id: int) -> dict[str, Any]:
    rows = store.query("SELECT * FROM alerts WHERE id = ?", (alert_id,))
    if not rows:
        raise InputError(f"no alert with id {alert_id}")
    return rows[0]


def _change(
    store: Store, alert_id: int, *, event: str, to_status: str, note: str | None, user: str
) -> dict[str, Any]:
    with store.transaction():
        row = _alert(store, alert_id)
        if row["status"] == "resolved":
            raise InputError(f"alert {alert_id} is already resolved")
        if row["status"] == to_status:
            raise InputError(f"alert {alert_id} is already {to_status}")
        now = _now()
        if to_status == "acknowledged":
            store.execute(
                "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?, "
                "acknowledged_by = ?, updated_at = ? WHERE id = ?",
                (now, user, now, alert_id),
            )
        else:
            store.execute(
                "UPDATE alerts SET status = 'resolved', resolution = 'manual', resolved_at = ?, "
                "resolved_by = ?, updated_at = ? WHERE id = ?",
                (now, user, now, alert_id),
            )
        store.execute(
            "INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, "
            "from_status, to_status, from_severity, to_severity, note) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                alert_id, row["customer_id"], now, user, event, row["status"], to_status,
                row["severity"], row["severity"], (note or None),
            ),
        )  # fmt: skip
        return _alert(store, alert_id)


def acknowledge(store: Store, alert_id: int, *, note: str | None, user: str) -> dict[str, Any]:
    """Open -> acknowledged: someone is on it. A later escalation opens it again."""
    return _change(store, alert_id, event="acknowledged", to_status="acknowledged", note=note,
                   user=user)  # fmt: skip


def resolve(store: Store, alert_id: int, *, note: str | None, user: str) -> dict[str, Any]:
    """Open or acknowledged -> resolved by hand. While the condition persists it stays quiet;
    if it gets worse the alert is reopened."""
    return _change(store, alert_id, event="resolved", to_status="resolved", note=note, user=user)


def list_alerts(
    store: Store,
    *,
    status: str | None = ACTIVE,
    severity: str | None = None,
    rule: str | None = None,
    customer: str | None = None,
    limit: int | None = None,
    sort: str = "priority",
    assignee: str | None = None,
) -> pd.DataFrame:
    """Alerts as a DataFrame (see `alert_rows`)."""
    import pandas as pd

    rows = alert_rows(
        store, status=status, severity=severity, rule=rule, customer=customer, limit=limit,
        sort=sort, assignee=assignee,
    )  # fmt: skip
    return pd.DataFrame(rows, columns=[c.split()[-1].split(".")[-1] for c in _ALERT_NAMES])


_ALERT_NAMES = [c.strip() for c in ALERT_COLUMNS.replace("\n", " ").split(",") if c.strip()]


def alert_rows(
    store: Store,
    *,
    status: str | None = ACTIVE,
    severity: str | None = None,
    rule: str | None = None,
    customer: str | None = None,
    limit: int | None = None,
    alert_id: int | None = None,
    sort: str = "priority",
    assignee: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts, highest money at risk first (`sort`: priority, severity, age). `severity`
    keeps that level and above; `status` is open, acknowledged, resolved, active (open or
    acknowledged) or all; `assignee` keeps one user's alerts."""
    if sort not in SORTS:
        raise UsageError(f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
    where = Where().add_if(assignee, "a.assignee = ?", assignee)
    if status and status != "all":
        if status == ACTIVE:
            where.add("a.status != 'resolved'")
        elif status in STATUSES:
            where.add("a.status = ?", status)
        else:
            raise UsageError(f"--status must be one of {', '.join((*STATUSES, ACTIVE, 'all'))}")
    if severity:
        where.add("a.severity_rank >= ?", severity_rank(severity))
    where.add_if(rule, "a.rule = ?", rule)
    where.add_if(customer, f"a.customer_id = ({customers.PK_SQL})", customer)
    where.add_if(alert_id is not None, "a.id = ?", alert_id)
    # filter, order and cut the alerts alone, then join what each row shows: `--limit 20` reads
    # 20 runs and customers, not one per alert in the store
    order = f" ORDER BY {SORTS[sort]}"
    chosen = (
        "SELECT * FROM alerts a" + where.sql + order + (f" LIMIT {int(limit)}" if limit else "")
    )
    sql = (
        f"SELECT {ALERT_COLUMNS} FROM ({chosen}) a "
        "LEFT JOIN monitor_runs fr ON fr.id = a.first_run_id "
        "LEFT JOIN monitor_runs lr ON lr.id = a.last_run_id "
        "LEFT JOIN customers cu ON cu.id = a.customer_id" + order
    )
    rows = store.query(sql, tuple(where.params))
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
        row["priority"] = optional_cents_text(row["priority"])
    return rows


QUEUE_SQL = """
SELECT a.id, a.priority, a.severity, a.rule, cu.external_id AS customer, cu.name, a.grade,
  a.exposure, a.overdue, a.action, a.assignee, a.status
FROM alerts a LEFT JOIN customers cu ON cu.id = a.customer_id
WHERE a.status != 'resolved' AND (a.assignee IS NULL {mine})
ORDER BY a.priority DESC, a.severity_rank DESC, a.id
LIMIT ?
"""


def queue(store: Store, *, user: str | None = None, limit: int = 50) -> pd.DataFrame:
    """Today's worklist: open and acknowledged alerts that are unassigned (or assigned to
    `user`), highest money at risk first, with the customer's name, grade, exposure and
    overdue amount as of the run that last saw the alert, and the recommended action."""
    mine = "OR a.assignee = ?" if user else ""
    params: tuple[Any, ...] = (user, limit) if user else (limit,)
    frame = store.query_df(QUEUE_SQL.format(mine=mine), params)
    for column in ("priority", "exposure", "overdue"):
        frame[column] = [optional_cents_text(c) for c in frame[column]]
    return frame


def assign(store: Store, alert_id: int, *, to: str | None, user: str) -> dict[str, Any]:
    """Give an active alert to a user of the store (`to`), or take it back (`to=None`);
    recorded in the alert's history."""
    if to is not None and to not in {slot.user for slot in store.keyfile.slots}:
        raise InputError(f"no user {to!r} (see `riskcli user list`)")
    with store.transaction():
        row = _alert(store, alert_id)
        if row["status"] == "resolved":
            raise InputError(f"alert {alert_id} is resolved")
        if row["assignee"] == to:
            raise InputError(
                f"alert {alert_id} is already assigned to {to}"
                if to
                else f"alert {alert_id} is not assigned"
            )
        now = _now()
        store.execute(
            "UPDATE alerts SET assignee = ?, assigned_at = ?, updated_at = ? WHERE id = ?",
            (to, now if to else None, now, alert_id),
        )
        note = f"to {to}" if to else f"from {row['assignee']}"
        store.execute(
            "INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, "
            "from_status, to_status, from_severity, to_severity, note) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                alert_id, row["customer_id"], now, user, "assigned" if to else "unassigned",
                row["status"], row["status"], row["severity"], row["severity"], note,
            ),
        )  # fmt: skip
        return _alert(store, alert_id)


def severity_rank(name: str) -> int:
    try:
        return SEVERITY_RANK[name.lower()]
    except KeyError:
        raise UsageError(f"severity must be one of {', '.join(SEVERITIES)}") from None


def alert_history(store: Store, alert_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One alert and every change of its status or severity, oldest first."""
    _alert(store, alert_id)
    alert = alert_rows(store, status="all", alert_id=alert_id)[0]
    events = store.query(
        "SELECT at, event, user, run_id, from_status, to_status, from_severity, to_severity, "
        "note FROM alert_events WHERE alert_id = ? ORDER BY id",
        (alert_id,),
    )
    return alert, events


def list_runs(store: Store, *, limit: int = 20) -> pd.DataFrame:
    """Monitor run history, newest first."""
    frame = store.query_df(
        "SELECT id, started_at, duration_ms, as_of, user, customers_scanned, alerts_new, "
        "alerts_escalated, alerts_resolved, alerts_open, rules_run, rules_skipped, lock_note "
        "FROM monitor_runs ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    if frame.empty:
        return frame
    frame.insert(2, "duration_s", (frame.pop("duration_ms") / 1000).round(2))
    frame["rules_run"] = [len(json.loads(v)) for v in frame["rules_run"]]
    frame["rules_skipped"] = [len(json.loads(v)) for v in frame["rules_skipped"]]
    return frame


def open_alerts_for(store: Store, customer_ids: list[int]) -> list[dict[str, Any]]:
    """Active alerts of the given customers (internal ids), for `customers show`."""
    if not customer_ids or not store.has_table("alerts"):
        return []
    marks = ",".join("?" * len(customer_ids))
    return store.query(
        "SELECT customer_id, id, severity, status, rule, title FROM alerts "
        f"WHERE status != 'resolved' AND customer_id IN ({marks}) "
        "ORDER BY severity_rank DESC, id",
        tuple(customer_ids),
    )

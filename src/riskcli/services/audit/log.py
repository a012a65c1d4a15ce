"""Searching the audit trail: times and periods as the commands take them, the log filter,
the events it selects, and each user's last activity."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from riskcli.domain.errors import UsageError
from riskcli.storage.sqlwhere import Where
from riskcli.storage.store import Store

_RELATIVE = re.compile(r"(\d+)([dhw])")


def parse_instant(text: str, *, end: bool = False) -> datetime:
    """`2026-11-01`, `2026-11-01T08:00`, `7d`, `12h`, `2w` (ago) -> an aware UTC datetime.

    With `end=True` a bare date means the end of that day (an inclusive `--until`).
    """
    text = text.strip()
    rel = _RELATIVE.fullmatch(text)
    if rel:
        amount, unit = int(rel.group(1)), rel.group(2)
        delta = {"d": timedelta(days=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(weeks=amount)
        )
        return datetime.now(UTC) - delta
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"cannot read the time {text!r}: use YYYY-MM-DD, an ISO time, or 7d / 12h / 2w"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_period(text: str) -> tuple[datetime, datetime]:
    """`2026`, `2026-Q4`, `2026-11`, `2026-11-29`, `30d` -> [start, end) in UTC."""
    text = text.strip().upper()
    now = datetime.now(UTC)
    if _RELATIVE.fullmatch(text.lower()):
        return parse_instant(text.lower()), now
    if text in {"TODAY", "DAY"}:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    m = re.fullmatch(r"(\d{4})(?:-(?:Q([1-4])|(\d{2}))(?:-(\d{2}))?)?", text)
    if m is None or (m.group(4) and not m.group(3)):
        raise UsageError(
            f"cannot read the period {text!r}: use YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD or 30d"
        )
    year = int(m.group(1))
    try:
        if m.group(4):
            start = datetime(year, int(m.group(3)), int(m.group(4)), tzinfo=UTC)
            return start, start + timedelta(days=1)
        if m.group(3):
            month = int(m.group(3))
            start = datetime(year, month, 1, tzinfo=UTC)
        elif m.group(2):
            month = 3 * (int(m.group(2)) - 1) + 1
            start = datetime(year, month, 1, tzinfo=UTC)
        else:
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    except ValueError:
        raise UsageError(f"cannot read the period {text!r}: no such date") from None
    span = 1 if m.group(3) else 3
    month_end = start.month + span
    end = datetime(start.year + (month_end - 1) // 12, (month_end - 1) % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LogFilter:
    user: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    action: str | None = None  # exact or a glob such as `customers.*`
    customer: str | None = None
    outcome: str | None = None
    limit: int | None = None


LOG_COLUMNS = (
    "seq",
    "ts",
    "user",
    "role",
    "action",
    "outcome",
    "command",
    "args",
    "affected",
)


def _customer_match(event: dict[str, Any], customer: str) -> bool:
    for column in ("affected", "args"):
        try:
            data = json.loads(event[column] or "{}")
        except ValueError:
            continue
        if _mentions(data, customer):
            return True
    return False


def _mentions(data: Any, customer: str) -> bool:
    if isinstance(data, dict):
        return any(_mentions(v, customer) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, customer) for v in data)
    return data is not None and str(data) == customer


def select_events(
    store: Store, flt: LogFilter, *, newest: int | None = None
) -> Iterator[dict[str, Any]]:
    """Matching events oldest first; with `newest`, only the newest that many."""
    where = Where().add_if(flt.user, "user = ?", flt.user)
    if flt.since:
        where.add("ts >= ?", _iso(flt.since))
    if flt.until:
        where.add("ts < ?", _iso(flt.until))
    where.add_if(flt.outcome, "outcome = ?", flt.outcome)
    if flt.action:
        where.add(
            "action GLOB ?" if any(c in flt.action for c in "*?[") else "action = ?", flt.action
        )
    sql = f"SELECT {', '.join(LOG_COLUMNS)} FROM audit_events" + where.sql
    if newest is not None:  # read back from the end: a long trail costs `--limit 20` nothing
        sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT {int(newest)})"
    cur = store.conn.execute(sql + " ORDER BY seq", where.params)
    names = [d[0] for d in cur.description or ()]
    while True:
        batch = cur.fetchmany(2000)
        if not batch:
            return
        for row in batch:
            yield dict(zip(names, row, strict=True))


def log(store: Store, flt: LogFilter) -> list[dict[str, Any]]:
    """Events matching the filter, oldest first (the newest `limit` when a limit is set)."""
    if flt.limit is not None and flt.limit > 0 and not flt.customer:
        return list(select_events(store, flt, newest=flt.limit))
    rows = [
        e for e in select_events(store, flt) if not flt.customer or _customer_match(e, flt.customer)
    ]
    if flt.limit is not None and flt.limit >= 0:
        rows = rows[-flt.limit :] if flt.limit else []
    return rows


def last_activity(store: Store) -> dict[str, str]:
    """user -> time of their newest event (any outcome)."""
    rows = store.conn.execute("SELECT user, max(ts) FROM audit_events GROUP BY user").fetchall()
    return {str(u): str(ts) for u, ts in rows}

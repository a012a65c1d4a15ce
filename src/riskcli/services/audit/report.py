"""The audit report: events of a period sorted into sections (access, personal data, changes,
denied attempts, backups, alerts), one row per section, user, action and outcome."""

from __future__ import annotations

import json
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from riskcli.services.audit.log import LogFilter, select_events
from riskcli.storage.store import Store

REPORT_SECTIONS = ("access", "pii", "changes", "denied", "backups", "alerts")
SECTION_TITLES = {
    "access": "who accessed what",
    "pii": "exports and reveals of personal data",
    "changes": "imports and changes",
    "denied": "denied attempts",
    "backups": "backups, drills and restores",
    "alerts": "alerts handled",
}
_CHANGE_PATTERNS = (
    "import.*",
    "customers.erase",
    "customers.hold",
    "customers.write",
    "customers.change",
    "groups.change",
    "limits.request",
    "limits.approve",
    "tier.run",
    "score.train",
    "score.run",
    "monitor.run",
    "users.*",
    "key.*",
    "restore.*",
    "config.*",
)
_BACKUP_PATTERNS = ("backup.*", "restore.*", "drill.*")


def _args(event: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(event.get("args") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _affected_count(event: dict[str, Any]) -> int:
    try:
        data = json.loads(event.get("affected") or "{}")
    except ValueError:
        return 0
    if not isinstance(data, dict):
        return 0
    count = data.get("count")
    if isinstance(count, int):
        return count
    ids = data.get("ids")
    return len(ids) if isinstance(ids, list) else 0


def is_pii_event(event: dict[str, Any]) -> bool:
    """A reveal of personal data or an export of customer data."""
    action = str(event["action"])
    args = _args(event)
    if args.get("reveal") is True or action == "pii.reveal":
        return True
    try:
        affected = json.loads(event.get("affected") or "{}")
    except ValueError:
        affected = {}
    if isinstance(affected, dict) and affected.get("pii_revealed") is True:
        return True
    return action.endswith(".export") or bool(args.get("output") or args.get("export"))


def sections_of(event: dict[str, Any]) -> list[str]:
    action = str(event["action"])
    outcome = str(event["outcome"])
    if outcome == "denied":
        return ["denied"]
    found = ["access"]
    if is_pii_event(event):
        found.append("pii")
    if any(fnmatchcase(action, p) for p in _CHANGE_PATTERNS):
        found.append("changes")
    if any(fnmatchcase(action, p) for p in _BACKUP_PATTERNS):
        found.append("backups")
    if action == "monitor.handle":
        found.append("alerts")
    return found


REPORT_COLUMNS = (
    "section",
    "user",
    "action",
    "outcome",
    "events",
    "records",
    "first",
    "last",
)


def report(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """One row per section, user, action and outcome in [since, until), counts and time span."""
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for event in select_events(store, LogFilter(since=since, until=until)):
        for section in sections_of(event):
            key = (section, str(event["user"]), str(event["action"]), str(event["outcome"]))
            row = groups.get(key)
            if row is None:
                row = groups[key] = {
                    "section": section,
                    "user": key[1],
                    "action": key[2],
                    "outcome": key[3],
                    "events": 0,
                    "records": 0,
                    "first": event["ts"],
                    "last": event["ts"],
                }
            row["events"] += 1
            row["records"] += _affected_count(event)
            row["last"] = event["ts"]
    order = {s: i for i, s in enumerate(REPORT_SECTIONS)}
    return sorted(groups.values(), key=lambda r: (order[r["section"]], r["user"], r["action"]))

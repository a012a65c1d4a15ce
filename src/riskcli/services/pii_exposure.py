"""After a leak: whose personal data did a user reveal or export, and when (`audit exposure`).

Read from the audit trail: every successful event that revealed personal data (`--reveal`) or
exported customer data, one row per customer it covered, with when, which fields and which
command — the list a notification under the Personal Information Protection Law (art. 57)
starts from. Commands record the customer ids (and the fields) of a reveal in the event's
`affected`; an event that does not (a whole-list export, or a list revealed before riskcli
kept the ids) is listed once with the customer left blank and a note saying so.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from riskcli.domain.pii import PII_COLUMNS
from riskcli.services.audit.log import LogFilter, log
from riskcli.services.audit.report import is_pii_event
from riskcli.storage.store import Store

COLUMNS = ("customer_id", "user", "ts", "kind", "fields", "command", "seq", "note")
UNKNOWN_NOTE = (
    "the trail does not say which customers this covered ({count} rows): treat every customer "
    "the command could show as affected"
)


def _json(text: Any) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def exposure(
    store: Store,
    *,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per (event, customer) revealed or exported; sorted by customer, then time."""
    rows: list[dict[str, Any]] = []
    for event in log(store, LogFilter(user=user, since=since, until=until, outcome="ok")):
        if not is_pii_event(event):
            continue
        args, affected = _json(event["args"]), _json(event["affected"])
        revealed = args.get("reveal") is True or affected.get("pii_revealed") is True
        fields = affected.get("pii_fields") or (list(PII_COLUMNS) if revealed else [])
        base = {
            "user": event["user"],
            "ts": event["ts"],
            "kind": "reveal" if revealed else "export",
            "fields": ", ".join(str(f) for f in fields) if fields else "as exported",
            "command": event["command"],
            "seq": event["seq"],
        }
        ids = affected.get("ids")
        if isinstance(ids, list) and ids:
            rows += [{"customer_id": str(i), **base, "note": ""} for i in ids]
        else:
            count = affected.get("count", "?")
            rows.append({"customer_id": "", **base, "note": UNKNOWN_NOTE.format(count=count)})
    rows.sort(key=lambda r: (r["customer_id"] == "", r["customer_id"], r["ts"]))
    return [{c: r[c] for c in COLUMNS} for r in rows]


def customers(rows: list[dict[str, Any]]) -> list[str]:
    """The distinct customer ids of an exposure listing."""
    return sorted({r["customer_id"] for r in rows if r["customer_id"]})

"""How a monitor run's candidates become alerts: set-based SQL over a temporary table of them.

- a candidate whose key has an active alert (open or acknowledged) refreshes its evidence; if it
  is more severe, the alert is escalated (and an acknowledged one is opened again);
- a candidate whose key was resolved by hand while the condition persisted stays quiet unless it
  got worse, which reopens that alert;
- any other candidate opens a new alert;
- an active alert of a condition rule that ran and no longer found it is auto-resolved.

Every status or severity change is a row in `alert_events`.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from riskcli.services.monitoring.rules import RULES_BY_ID
from riskcli.storage.store import Store

_ESCALATE_EVENTS = """
INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, from_status, to_status,
                          from_severity, to_severity)
SELECT a.id, a.customer_id, :run, :now, :user, 'escalated', a.status, 'open', a.severity,
       c.severity
FROM alerts a JOIN temp.mon_cand c ON c.key = a.dedup_key
WHERE a.status != 'resolved' AND c.rank > a.severity_rank
"""
_MONEY = "priority = c.priority, exposure = c.exposure, overdue = c.overdue, grade = c.grade"
_ESCALATE = f"""
UPDATE alerts SET severity = c.severity, severity_rank = c.rank, status = 'open',
    title = c.title, evidence = c.evidence, action = c.action, condition_active = 1,
    escalations = escalations + 1, last_run_id = :run, updated_at = :now, {_MONEY}
FROM temp.mon_cand AS c
WHERE c.key = alerts.dedup_key AND alerts.status != 'resolved' AND c.rank > alerts.severity_rank
"""
_REFRESH = f"""
UPDATE alerts SET title = c.title, evidence = c.evidence, action = c.action, condition_active = 1,
    last_run_id = :run, {_MONEY}
FROM temp.mon_cand AS c
WHERE c.key = alerts.dedup_key AND alerts.status != 'resolved' AND alerts.last_run_id != :run
"""
# a hand-resolved alert whose condition never cleared, now worse: reopen it
_REOPEN_TARGETS = """
CREATE TEMP TABLE mon_reopen AS
SELECT max(a.id) AS id, c.key AS key
FROM temp.mon_cand c JOIN alerts a ON a.dedup_key = c.key
WHERE a.status = 'resolved' AND a.resolution = 'manual' AND a.condition_active = 1
  AND c.rank > a.severity_rank
  AND NOT EXISTS (SELECT 1 FROM alerts x WHERE x.dedup_key = c.key AND x.status != 'resolved')
GROUP BY c.key
"""
_REOPEN_EVENTS = """
INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, from_status, to_status,
                          from_severity, to_severity)
SELECT a.id, a.customer_id, :run, :now, :user, 'reopened', a.status, 'open', a.severity,
       c.severity
FROM temp.mon_reopen t JOIN alerts a ON a.id = t.id JOIN temp.mon_cand c ON c.key = t.key
"""
_REOPEN = f"""
UPDATE alerts SET severity = c.severity, severity_rank = c.rank, status = 'open',
    resolution = NULL, resolved_at = NULL, resolved_by = NULL,
    title = c.title, evidence = c.evidence, action = c.action, condition_active = 1,
    escalations = escalations + 1, last_run_id = :run, updated_at = :now, {_MONEY}
FROM temp.mon_reopen AS t JOIN temp.mon_cand AS c ON c.key = t.key
WHERE alerts.id = t.id
"""
_INSERT_NEW = """
INSERT INTO alerts (dedup_key, rule, customer_id, subject, severity, severity_rank, status,
                    title, evidence, action, condition_active, escalations, first_run_id,
                    last_run_id, created_at, updated_at, priority, exposure, overdue, grade)
SELECT c.key, c.rule, c.customer_id, c.subject, c.severity, c.rank, 'open', c.title,
       c.evidence, c.action, 1, 0, :run, :run, :now, :now, c.priority, c.exposure, c.overdue,
       c.grade
FROM temp.mon_cand c
WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.dedup_key = c.key AND a.status != 'resolved')
  AND NOT EXISTS (
    SELECT 1 FROM alerts q WHERE q.dedup_key = c.key
      AND q.status = 'resolved' AND q.resolution = 'manual' AND q.condition_active = 1
)
ORDER BY c.key
"""
_NEW_EVENTS = """
INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, from_status, to_status,
                          from_severity, to_severity)
SELECT id, customer_id, :run, :now, :user, 'opened', NULL, 'open', NULL, severity
FROM alerts WHERE id > :before
"""
_AUTO_RESOLVE_EVENTS = """
INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, from_status, to_status,
                          from_severity, to_severity)
SELECT id, customer_id, :run, :now, :user, 'auto_resolved', status, 'resolved', severity,
       severity
FROM alerts
WHERE status != 'resolved' AND last_run_id != :run
  AND rule IN (SELECT rule FROM temp.mon_rules WHERE auto = 1)
"""
_AUTO_RESOLVE = """
UPDATE alerts SET status = 'resolved', resolution = 'auto', resolved_at = :now,
    resolved_by = :user, condition_active = 0, updated_at = :now
WHERE status != 'resolved' AND last_run_id != :run
  AND rule IN (SELECT rule FROM temp.mon_rules WHERE auto = 1)
"""
# event alerts left open, and hand-resolved alerts, whose condition is gone: a recurrence is new
_CLEAR = """
UPDATE alerts SET condition_active = 0
WHERE condition_active = 1 AND last_run_id != :run
  AND rule IN (SELECT rule FROM temp.mon_rules)
  AND NOT EXISTS (SELECT 1 FROM temp.mon_cand c WHERE c.key = alerts.dedup_key)
"""


def write_candidates(
    store: Store,
    cands: pd.DataFrame,
    ran: list[str],
    *,
    run_id: int,
    now: str,
    user: str,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Apply the run's candidates to the alerts (see the module docstring): how many alerts
    were opened (`new`), escalated or reopened (`escalated`) and auto-resolved (`resolved`).
    The candidates stay in temp.mon_cand for `engine.output_alerts`."""
    _stage(store, cands, ran, timings)
    conn = store.conn
    p = {"run": run_id, "now": now, "user": user}
    before = int(store.scalar("SELECT coalesce(max(id), 0) FROM alerts"))
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("escalate_events", _ESCALATE_EVENTS, p),
        ("escalate", _ESCALATE, p),
        ("refresh", _REFRESH, {"run": run_id}),
        ("reopen_targets", _REOPEN_TARGETS, {}),
        ("reopen_events", _REOPEN_EVENTS, p),
        ("reopen", _REOPEN, p),
        ("insert_new", _INSERT_NEW, {"run": run_id, "now": now}),
        ("new_events", _NEW_EVENTS, {**p, "before": before}),
        ("auto_resolve_events", _AUTO_RESOLVE_EVENTS, p),
        ("auto_resolve", _AUTO_RESOLVE, p),
        ("clear", _CLEAR, {"run": run_id}),
    ]
    for name, sql, params in steps:
        started = time.perf_counter()
        conn.execute(sql, params)
        if timings is not None:
            timings[f"write:{name}"] = time.perf_counter() - started
    counts = dict(
        store.execute(
            "SELECT event, count(*) FROM alert_events WHERE run_id = ? GROUP BY event", (run_id,)
        ).fetchall()
    )
    # temp.mon_cand stays for `output_alerts`
    for table in ("mon_rules", "mon_reopen"):
        conn.execute(f"DROP TABLE temp.{table}")
    return {
        "new": int(counts.get("opened", 0)),
        "escalated": int(counts.get("escalated", 0)) + int(counts.get("reopened", 0)),
        "resolved": int(counts.get("auto_resolved", 0)),
    }


def _stage(
    store: Store, cands: pd.DataFrame, ran: list[str], timings: dict[str, float] | None
) -> None:
    """The run's candidates in temp.mon_cand (`pos`: their row in `cands`) and the rules that
    ran in temp.mon_rules."""
    conn = store.conn
    conn.execute("DROP TABLE IF EXISTS temp.mon_cand")
    conn.execute("DROP TABLE IF EXISTS temp.mon_rules")
    conn.execute("DROP TABLE IF EXISTS temp.mon_reopen")
    conn.execute(
        "CREATE TEMP TABLE mon_cand (key TEXT NOT NULL, rule TEXT, customer_id INTEGER, "
        "subject TEXT, severity TEXT, rank INTEGER, title TEXT, evidence TEXT, action TEXT, "
        "pos INTEGER, priority INTEGER, exposure INTEGER, overdue INTEGER, grade TEXT)"
    )
    conn.execute("CREATE TEMP TABLE mon_rules (rule TEXT PRIMARY KEY, auto INTEGER)")
    conn.executemany(
        "INSERT INTO temp.mon_rules VALUES (?, ?)",
        [(r, int(RULES_BY_ID[r].auto_resolve)) for r in ran],
    )
    started = time.perf_counter()
    if not cands.empty:
        cid = cands["customer_id"].astype(object).where(cands["customer_id"].notna(), None)
        # plain lists: iterating an arrow-backed string column costs a Python call per value
        rows = zip(
            *(cands[c].tolist() for c in ("key", "rule")), cid.tolist(),
            *(cands[c].tolist() for c in ("subject", "severity")),
            cands["rank"].astype(int).tolist(),
            *(cands[c].tolist() for c in ("title", "evidence", "action")),
            range(len(cands)), cands["priority"].astype(int).tolist(),
            *(list(cands[c]) for c in ("exposure", "overdue", "grade")), strict=True,
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO temp.mon_cand VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    # one sort after the bulk insert is cheaper than keeping the index up to date row by row
    conn.execute("CREATE UNIQUE INDEX temp.mon_cand_key ON mon_cand(key)")
    if timings is not None:
        timings["write:candidates"] = time.perf_counter() - started

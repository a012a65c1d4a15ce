"""A monitor run: lock, read, evaluate every enabled rule, then write in one transaction.

How candidates become alerts (new, escalated, reopened, auto-resolved) is `monitoring.write`.
The run record, the alerts and their history commit together or not at all: a run killed
midway leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import UsageError
from riskcli.failpoints import failpoint
from riskcli.services import book
from riskcli.services.monitoring import load as loader
from riskcli.services.monitoring import priority
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.frames import (
    CANDIDATE_COLUMNS,
    SEVERITY_RANK,
    day_number,
    empty_candidates,
)
from riskcli.services.monitoring.frames import money as money_text
from riskcli.services.monitoring.lock import LockInfo, run_lock
from riskcli.services.monitoring.rules import RULES, RULES_BY_ID, Rule
from riskcli.services.monitoring.write import write_candidates
from riskcli.storage.store import DatabaseError, Store, connect_raw

MONITOR_USER = "monitor"

#: how long the load waits for the write lock that pins its two readers to one snapshot
#: before it falls back to reading on the store's own connection alone
PIN_WAIT_MS = 2_000

ProgressFn = Callable[[int], None]

#: frames every run reads, whatever the rules: see `evaluate`
ALWAYS = frozenset({"customers", "receivables", "scores", "defaults"})


@dataclass
class RunResult:
    run_id: int
    as_of: str
    started_at: str
    duration_s: float
    customers_scanned: int
    rules_run: list[str]
    rules_skipped: dict[str, str]
    candidates: int
    new: int
    escalated: int
    resolved: int
    open_total: int
    #: the new, escalated and reopened alerts of this run, most severe first
    alerts: pd.DataFrame
    lock_note: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def max_severity_rank(self) -> int:
        if self.alerts.empty:
            return -1
        return int(self.alerts["severity"].map(SEVERITY_RANK).max())


def select_rules(config: MonitoringConfig, only: list[str] | None = None) -> list[Rule]:
    """The enabled rules, or the named ones (which must exist) when `only` is given."""
    if only:
        unknown = [r for r in only if r not in RULES_BY_ID]
        if unknown:
            raise UsageError(f"unknown rule {', '.join(unknown)} (see `riskcli monitor rules`)")
        return [RULES_BY_ID[r] for r in only]
    return [rule for rule in RULES if config.rule(rule.id).enabled]


def _empty_reason(frames: loader.Frames, name: str) -> str | None:
    if name in frames.missing:
        return frames.missing[name]
    if frames.frames.get(name) is None:
        return f"no {name} data"
    return None


def evaluate(
    frames: loader.Frames,
    rules: list[Rule],
    config: MonitoringConfig,
    *,
    progress: ProgressFn | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Run the rules over the frames: (candidates, rules run, {rule skipped: why}).

    Customers in default keep only their default case (and new adverse flags), closed and
    suspended ones only overdue and default cases; every candidate gets its priority in
    money and its customer's exposure, overdue amount and grade (`priority`)."""
    parts: list[pd.DataFrame] = []
    ran: list[str] = []
    skipped: dict[str, str] = {}
    for rule in rules:
        reasons = list(dict.fromkeys(r for n in rule.needs if (r := _empty_reason(frames, n))))
        if reasons:
            skipped[rule.id] = "; ".join(reasons)
        else:
            started = time.perf_counter()
            parts.append(rule.func(frames, config.rule(rule.id)))
            ran.append(rule.id)
            if timings is not None:
                timings[f"rule:{rule.id}"] = time.perf_counter() - started
        if progress is not None:
            progress(1)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return priority.attach(empty_candidates(), pd.DataFrame()), ran, skipped
    cands = priority.suppress(pd.concat(parts, ignore_index=True), frames, config)
    cands = priority.attach(cands, priority.customer_money(frames, config))
    cands["rank"] = cands["severity"].map(SEVERITY_RANK).astype("int64")
    cands = cands.sort_values("rank", ascending=False, kind="stable").drop_duplicates("key")
    return cands.reset_index(drop=True), ran, skipped


@contextmanager
def _page_cache(store: Store, mib: int) -> Iterator[None]:
    previous = store.scalar("PRAGMA cache_size")
    store.execute(f"PRAGMA cache_size = -{int(mib) * 1024}")
    try:
        yield
    finally:
        store.execute(f"PRAGMA cache_size = {int(previous)}")


def _pinned_readers(store: Store, cache_mb: int) -> tuple[Store, Store] | None:
    """Two new connections in read transactions on one and the same snapshot, or None when
    that cannot be had at once (another process is writing).

    While the store's own connection holds the write lock (BEGIN IMMEDIATE, nothing written)
    no commit can land, so both readers start their snapshot at the same point; the lock is
    released before any reading starts."""
    readers: list[Store] = []
    try:
        for _ in range(2):
            conn = connect_raw(store.path, store.master_key, check_same_thread=False)
            readers.append(
                Store(store.path, conn, store.keyfile, store.user, store.role, store.master_key)
            )
            conn.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
            conn.execute("PRAGMA temp_store = MEMORY")
        previous = int(store.scalar("PRAGMA busy_timeout"))
        store.execute(f"PRAGMA busy_timeout = {PIN_WAIT_MS}")
        try:
            store.execute("BEGIN IMMEDIATE")
        finally:
            store.execute(f"PRAGMA busy_timeout = {previous}")
        try:
            for reader in readers:
                reader.execute("BEGIN")
                reader.scalar("SELECT count(*) FROM sqlite_master")
        finally:
            store.execute("ROLLBACK")
    except DatabaseError:
        for reader in readers:
            reader.close()
        return None
    return readers[0], readers[1]


@contextmanager
def _read_snapshot(store: Store, cache_mb: int) -> Iterator[tuple[Store, Store | None]]:
    """(reader, side reader) on one snapshot for the load phase; when another process holds
    the write lock, the store's own connection in a read transaction and no side reader."""
    readers = _pinned_readers(store, cache_mb)
    if readers is None:
        store.execute("BEGIN")
        try:
            yield store, None
        finally:
            store.execute("COMMIT")
        return
    try:
        yield readers
    finally:
        for reader in readers:
            reader.execute("ROLLBACK")
            reader.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# `pos` is the candidate's row in the run's candidate frame (which holds what was written)
OUTPUT_SQL = """
SELECT c.pos, a.id, e.event AS change, a.status
FROM alert_events e JOIN alerts a ON a.id = e.alert_id
JOIN temp.mon_cand c ON c.key = a.dedup_key
WHERE e.run_id = ? AND e.event IN ('opened', 'escalated', 'reopened')
"""
OUTPUT_COLUMNS = ["id", "change", "priority", "severity", "rule", "customer", "subject", "title",
                  "action", "evidence", "status"]  # fmt: skip


def output_alerts(store: Store, run_id: int, cands: pd.DataFrame) -> pd.DataFrame:
    """The alerts this run opened, escalated or reopened, most severe first, built from the
    candidates (which hold what was written; `write_candidates` leaves them in temp.mon_cand)
    and the ids the store gave them. `evidence` stays JSON text: see `parse_evidence`."""
    rows = store.execute(OUTPUT_SQL, (run_id,)).fetchall()
    if not rows:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    pos, ids, change, status = zip(*rows, strict=True)
    frame = cands.iloc[list(pos)].reset_index(drop=True)
    frame["id"] = np.array(ids, dtype=np.int64)
    frame["change"] = pd.Series(change, dtype="str").replace({"opened": "new"})
    frame["status"] = pd.Series(status, dtype="str")
    known = external_ids(store, frame["customer_id"].dropna().unique())
    frame["customer"] = frame["customer_id"].map(known).astype("str")
    frame = frame.sort_values(["priority", "rank", "id"], ascending=[False, False, True],
                              kind="stable")  # fmt: skip
    frame["priority"] = money_text(frame["priority"])
    out: pd.DataFrame = frame[OUTPUT_COLUMNS].reset_index(drop=True)
    return out


#: above this many customers `external_ids` reads them all from the external_id index
#: (one packed string) instead of looking each one up
FEW_CUSTOMERS = 10_000
_SEP = "\x1f"


def external_ids(store: Store, customer_ids: Any) -> pd.Series:
    """customer id -> external id for the given customers (internal ids)."""
    wanted = [int(i) for i in customer_ids]
    if not wanted:
        return pd.Series(dtype="str")
    if len(wanted) <= FEW_CUSTOMERS:
        rows = store.execute(
            "SELECT id, external_id FROM customers WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        ).fetchall()
        return pd.Series({int(i): str(e) for i, e in rows}, dtype="str")
    # every customer, from the covering external_id index: one scan inside SQLite, one split
    ids_text, names_text = store.execute(
        "SELECT group_concat(id, ','), group_concat(external_id, char(31)) FROM customers"
    ).fetchone()
    ids = np.fromstring(ids_text or "", dtype=np.int64, sep=",")
    names = names_text.split(_SEP) if names_text else []
    if len(names) != len(ids):  # an external id holding the separator: read them plainly
        rows = store.execute("SELECT id, external_id FROM customers").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        names = [str(r[1]) for r in rows]
    return pd.Series(names, index=ids, dtype="str").reindex(wanted)


def parse_evidence(alerts: pd.DataFrame) -> pd.DataFrame:
    """`evidence` JSON text -> dicts (one parse for all rows), for JSON output."""
    if alerts.empty:
        return alerts
    out = alerts.copy()
    out["evidence"] = json.loads("[" + ",".join(out["evidence"]) + "]")
    return out


def _read(
    store: Store,
    config: MonitoringConfig,
    rules: list[Rule],
    as_of: dt.date,
    credit: book.CreditConfig | None,
    timings: dict[str, float],
) -> tuple[loader.Frames, int]:
    """The frames the rules need and the number of customers, from one read snapshot."""
    # customers always (the output names each customer by its external id, closed
    # accounts are filtered); receivables, scores and the default state for the priority
    wanted = {name for rule in rules for name in rule.needs} | ALWAYS
    plan = loader.LoadPlan.build(day_number(as_of), config, {r.id for r in rules})
    t0, c0 = time.perf_counter(), time.process_time()
    # one read snapshot for every table, without holding the write lock while reading
    with _read_snapshot(store, config.cache_mb) as (reader, side):
        frames = loader.load(reader, plan, wanted, side=side, credit=credit)
        customers = int(reader.scalar("SELECT count(*) FROM customers"))
    timings["load"] = time.perf_counter() - t0
    timings["cpu:load"] = time.process_time() - c0
    if "cpu:load_side" in frames.facts:  # of which the side reader's thread
        timings["cpu:load_side"] = float(frames.facts["cpu:load_side"])
    return frames, customers


@dataclass
class _Written:
    """What the write phase of a run gives back."""

    run_id: int
    counts: dict[str, int]
    open_total: int
    alerts: pd.DataFrame


def _record(
    store: Store,
    cands: pd.DataFrame,
    ran: list[str],
    skipped: dict[str, str],
    *,
    as_of: dt.date,
    started: float,
    started_at: str,
    customers: int,
    takeover: str | None,
    timings: dict[str, float],
) -> _Written:
    """The run record, the alerts and their events, in one transaction."""
    with store.transaction():
        now = _now()
        cur = store.execute(
            "INSERT INTO monitor_runs (started_at, finished_at, duration_ms, as_of, user, "
            "pid, customers_scanned, rules_run, rules_skipped, candidates, lock_note) "
            "VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                started_at, now, as_of.isoformat(), store.user, os.getpid(), customers,
                json.dumps(ran), json.dumps(skipped), len(cands), takeover,
            ),
        )  # fmt: skip
        run_id = int(cur.lastrowid)
        counts = write_candidates(
            store, cands, ran, run_id=run_id, now=now, user=MONITOR_USER, timings=timings
        )
        open_total = int(store.scalar("SELECT count(*) FROM alerts WHERE status != 'resolved'"))
        t1 = time.perf_counter()
        alerts = output_alerts(store, run_id, cands)
        store.execute("DROP TABLE temp.mon_cand")
        timings["write:output"] = time.perf_counter() - t1
        failpoint("monitor:alerts-written")
        duration = time.perf_counter() - started
        store.execute(
            "UPDATE monitor_runs SET finished_at = ?, duration_ms = ?, alerts_new = ?, "
            "alerts_escalated = ?, alerts_resolved = ?, alerts_open = ? WHERE id = ?",
            (
                _now(), int(duration * 1000), counts["new"], counts["escalated"],
                counts["resolved"], open_total, run_id,
            ),
        )  # fmt: skip
    return _Written(run_id, counts, open_total, alerts)


def run_monitor(
    store: Store,
    config: MonitoringConfig,
    *,
    as_of: dt.date | None = None,
    only: list[str] | None = None,
    progress: ProgressFn | None = None,
    lock: LockInfo | None = None,
    credit: book.CreditConfig | None = None,
) -> RunResult:
    """One monitor run over the whole store; see `monitoring.write` for the write rules.

    The run takes the store's monitor lock itself, unless the caller already holds it and
    passes its `LockInfo` (the CLI does, so that a refused run never opens the store).
    """
    rules = select_rules(config, only)
    as_of = as_of or dt.date.today()
    started = time.perf_counter()
    started_at = _now()
    timings: dict[str, float] = {}
    with (
        nullcontext(lock) if lock is not None else run_lock(store.path) as held,
        _page_cache(store, config.cache_mb),
    ):
        frames, customers = _read(store, config, rules, as_of, credit, timings)
        t0, c0 = time.perf_counter(), time.process_time()
        cands, ran, skipped = evaluate(frames, rules, config, progress=progress, timings=timings)
        timings["rules"] = time.perf_counter() - t0
        timings["cpu:rules"] = time.process_time() - c0
        del frames
        t0, c0 = time.perf_counter(), time.process_time()
        written = _record(
            store, cands, ran, skipped, as_of=as_of, started=started, started_at=started_at,
            customers=customers, takeover=held.takeover, timings=timings,
        )  # fmt: skip
        timings["write"] = time.perf_counter() - t0
        timings["cpu:write"] = time.process_time() - c0
    return RunResult(
        run_id=written.run_id,
        as_of=as_of.isoformat(),
        started_at=started_at,
        duration_s=time.perf_counter() - started,
        customers_scanned=customers,
        rules_run=ran,
        rules_skipped=skipped,
        candidates=len(cands),
        new=written.counts["new"],
        escalated=written.counts["escalated"],
        resolved=written.counts["resolved"],
        open_total=written.open_total,
        alerts=written.alerts,
        lock_note=held.takeover,
        timings=timings,
    )


__all__ = ["CANDIDATE_COLUMNS", "RunResult", "run_monitor", "select_rules"]

"""Tiering against the store: read transactions fast, store runs, answer the reading commands.

Every function takes an open Store (a unit of work). `run_tiering` writes one run and its
results in one transaction; everything else only reads. Nothing here prints.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services import book
from riskcli.services.tiering import lookup
from riskcli.services.tiering.compute import TierResult, compute_tiers
from riskcli.services.tiering.config import TieringConfig, load_tiering_config, parse_window
from riskcli.services.tiering.lookup import (  # re-exported: the reading side lives there
    RESULT_SELECT as _RESULT_SELECT,
)
from riskcli.services.tiering.lookup import (
    get_run,
    latest_tier,
    service_policy,
)
from riskcli.services.tiering.transactions import IntArray, Transactions
from riskcli.storage.store import Store

Progress = Callable[[int], None] | None

#: rows per chunk when reading transactions; bounds the size of one concatenated text
READ_CHUNK = 1_000_000
#: result rows converted to Python objects at a time when writing a run
WRITE_CHUNK = 100_000
RESULT_COLUMNS = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "interval_days",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "tier",
    "stage",
    "cluster",
)
TIER_ORDER = "ABCDEFGH"


@dataclass
class RunOutcome:
    run_id: int
    result: TierResult


# ---- reading the inputs ---------------------------------------------------------------------
def read_customer_ids(store: Store, as_of: date | None = None) -> IntArray:
    """The customers known on the as-of date: registered by then (or with no date)."""
    day = (as_of or date.max).isoformat()
    text = store.conn.execute(
        "SELECT group_concat(id, ' ') FROM customers "
        "WHERE registered_date IS NULL OR registered_date <= ?",
        (day,),
    ).fetchone()[0]
    if not text:
        return np.zeros(0, dtype=np.int64)
    ids: IntArray = np.fromstring(text, dtype=np.int64, sep=" ")
    return ids


def read_transactions(store: Store, progress: Progress = None) -> Transactions:
    """Orders and refunds as arrays (payments are not read).

    Speed matters at ten million rows, so there is no Python object per row: for each chunk
    of rows (a rowid range, so memory stays bounded) SQLite joins every column into one text
    that numpy parses in C. Dates are fixed-width `YYYY-MM-DD`, concatenated without a
    separator and read as datetime64; the amount carries the kind in its lowest bit
    (2 * amount + 1 for an order, -2 * amount for a refund).
    """
    conn = store.conn
    lo_hi = conn.execute("SELECT min(id), max(id) FROM transactions").fetchone()
    if lo_hi is None or lo_hi[0] is None:
        return Transactions.empty()
    lo, hi = int(lo_hi[0]), int(lo_hi[1])
    sql = (
        "SELECT group_concat(customer_id, ' '), group_concat(date, ''), "
        "group_concat(iif(kind = 'order', 2 * amount + 1, -2 * amount), ' ') "
        "FROM transactions WHERE id BETWEEN ? AND ? AND kind <> 'payment'"
    )
    cust_parts: list[IntArray] = []
    day_parts: list[IntArray] = []
    amount_parts: list[IntArray] = []
    for start in range(lo, hi + 1, READ_CHUNK):
        ids, dates, amounts = conn.execute(sql, (start, start + READ_CHUNK - 1)).fetchone()
        if ids:
            cust = np.fromstring(ids, dtype=np.int64, sep=" ")
            cust_parts.append(cust)
            day_parts.append(_parse_day_block(dates, len(cust)))
            amount_parts.append(np.fromstring(amounts, dtype=np.int64, sep=" "))
        if progress:
            progress(1)
    if not cust_parts:
        return Transactions.empty()
    coded = np.concatenate(amount_parts)
    return Transactions(
        customer_id=np.concatenate(cust_parts),
        day=np.concatenate(day_parts),
        is_order=(coded & 1) == 1,
        amount=coded >> 1,
    )


def read_chunks(store: Store) -> int:
    """How many progress steps `read_transactions` reports (one per chunk)."""
    lo_hi = store.conn.execute("SELECT min(id), max(id) FROM transactions").fetchone()
    if lo_hi is None or lo_hi[0] is None:
        return 0
    return (int(lo_hi[1]) - int(lo_hi[0])) // READ_CHUNK + 1


def _parse_day_block(text: str, count: int) -> IntArray:
    """`count` dates written back to back as YYYY-MM-DD -> day numbers."""
    raw = text.encode("ascii", errors="replace")
    if len(raw) != 10 * count:
        raise InputError("a transaction date is not a YYYY-MM-DD date")
    block = np.frombuffer(raw, dtype="S10")
    try:
        days: IntArray = block.astype("datetime64[D]").astype(np.int64)
    except ValueError:
        raise InputError("a transaction date is not a YYYY-MM-DD date") from None
    return days


# ---- running ----------------------------------------------------------------------------------
def parse_as_of(text: str | date | None) -> date:
    """`YYYY-MM-DD` (default: today) -> date; a one-line InputError otherwise."""
    if text is None:
        return date.today()
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"as-of date {text!r} is not a YYYY-MM-DD date") from None


def run_tiering(
    store: Store,
    *,
    config: dict[str, Any] | TieringConfig | None = None,
    as_of: str | date | None = None,
    window: str | None = None,
    method: str | None = None,
    progress: Progress = None,
) -> RunOutcome:
    """Tier every customer and store the run (as-of date, parameters, results) as history.

    Raises InputError for an empty store, an as-of date before every transaction, or bad
    parameters. The run and all its rows are written in one transaction.
    """
    cfg = config if isinstance(config, TieringConfig) else load_tiering_config(config)
    day = parse_as_of(as_of)
    window_text = window or cfg.window
    window_days = parse_window(window_text)
    chosen = method or cfg.method
    if chosen not in ("rfm", "kmeans"):
        raise InputError(f"unknown method {chosen!r}: use rfm or kmeans")
    clock = _Clock()
    # one transaction: a consistent snapshot to read, and the run is stored whole or not at all
    with store.transaction():
        ids = read_customer_ids(store, day)
        if len(ids) == 0:
            raise InputError("nothing to tier: the store has no customers (import some first)")
        txns = read_transactions(store, progress)
        clock.lap("read")
        result = compute_tiers(
            ids, txns, day, cfg, method=chosen, window_days=window_days, progress=progress
        )
        del txns
        clock.lap("compute")
        params = cfg.model_dump()
        params.update({"as_of": day.isoformat(), "window": window_text, "method": chosen})
        cur = store.execute(
            "INSERT INTO tier_runs(created_at, created_by, as_of, method, window_days, customers, "
            "params, stats) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                datetime.now(UTC).isoformat(timespec="seconds"),
                store.user,
                day.isoformat(),
                chosen,
                window_days,
                len(result.frame),
                json.dumps(params, sort_keys=True),
                "{}",
            ),
        )
        run_id = int(cur.lastrowid)
        store.executemany(
            "INSERT INTO tier_results(run_id, customer_id, "
            + ", ".join(RESULT_COLUMNS)
            + ") VALUES (?, ?"
            + ", ?" * len(RESULT_COLUMNS)
            + ")",
            _result_rows(run_id, result.frame),
        )
        clock.lap("write")
        result.stats["timings"] = clock.laps
        store.execute(
            "UPDATE tier_runs SET stats = ? WHERE id = ?",
            (json.dumps(result.stats, sort_keys=True), run_id),
        )
    if progress:
        progress(1)
    return RunOutcome(run_id=run_id, result=result)


class _Clock:
    """Wall and CPU seconds per phase, kept in the run's stats for benchmarks."""

    def __init__(self) -> None:
        self.laps: dict[str, dict[str, float]] = {}
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.laps[name] = {"wall": round(wall - self._wall, 2), "cpu": round(cpu - self._cpu, 2)}
        self._wall, self._cpu = wall, cpu


def _column_values(frame: pd.DataFrame, name: str) -> list[Any]:
    """Python values for SQLite: NA/NaN become None, numpy scalars become int/float/str."""
    col = frame[name]
    values: list[Any] = col.tolist()
    missing = col.isna().to_numpy()
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            values[i] = None
    return values


def _result_rows(run_id: int, frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Rows to insert, converted to Python objects a slice at a time to bound memory."""
    for lo in range(0, len(frame), WRITE_CHUNK):
        part = frame.iloc[lo : lo + WRITE_CHUNK]
        cols = [part["customer_id"].tolist()] + [_column_values(part, c) for c in RESULT_COLUMNS]
        yield from zip(itertools.repeat(run_id), *cols)


# ---- reading runs -----------------------------------------------------------------------------
def list_runs(store: Store) -> pd.DataFrame:
    """Every run, newest first, with its tier counts and warnings count."""
    rows = store.query(
        "SELECT id AS run, as_of, method, window_days, customers, created_at, created_by, stats "
        "FROM tier_runs ORDER BY id DESC"
    )
    out = []
    for row in rows:
        stats = json.loads(row.pop("stats"))
        tiers = stats.get("tiers", {})
        row.update({f"tier_{k}": v for k, v in tiers.items()})
        row["silhouette"] = stats.get("silhouette")
        row["warnings"] = len(stats.get("warnings", []))
        out.append(row)
    return pd.DataFrame(out)


def _previous_run(store: Store, run_id: int) -> int | None:
    value = store.scalar("SELECT max(id) FROM tier_runs WHERE id < ?", (run_id,))
    return None if value is None else int(value)


def _money(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """Cents -> currency units (two decimals) for display; the store keeps exact cents."""
    for col in cols:
        if col in frame.columns:
            frame[col] = (pd.to_numeric(frame[col], errors="coerce") / 100).round(2)
    return frame


def results(
    store: Store,
    run: int | None = None,
    *,
    tier: str | None = None,
    segment: str | None = None,
    stage: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Per-customer results of a run (latest by default), filtered, best tier first."""
    run_id = int(get_run(store, run)["id"])
    where = ["r.run_id = ?"]
    params: list[Any] = [run_id]
    for name, value in (("tier", tier), ("segment", segment), ("stage", stage)):
        if value is not None:
            where.append(f"lower(r.{name}) = lower(?)")
            params.append(value)
    sql = _RESULT_SELECT + "WHERE " + " AND ".join(where) + " ORDER BY r.tier, r.monetary DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return _money(store.query_df(sql, params), "monetary")


def customer_history(store: Store, ref: str | int) -> pd.DataFrame:
    """One customer's results in every run, newest first (as a DataFrame)."""
    frame = pd.DataFrame(lookup.customer_history(store, ref))
    frame["monetary"] = pd.to_numeric(frame["monetary"]).astype(float)
    return frame


def policies(config: dict[str, Any] | TieringConfig | None) -> pd.DataFrame:
    """The service policy of every tier (configurable text)."""
    cfg = config if isinstance(config, TieringConfig) else load_tiering_config(config)
    labels = sorted(set(cfg.policies) | set("ABCD"))
    return pd.DataFrame([{"tier": t, "policy": cfg.policy(t)} for t in labels])


# ---- summary and changes ----------------------------------------------------------------------
def _overdue(store: Store, as_of: str) -> pd.DataFrame:
    """Outstanding past due per customer, as the book knew it on the run's date."""
    return store.query_df(
        f"SELECT customer_id, sum({book.outstanding()}) AS overdue FROM receivables "
        f"WHERE due_date < :a AND {book.ISSUED} AND {book.outstanding()} > 0 "
        "GROUP BY customer_id",
        book.params(date.fromisoformat(as_of)),
    )


def summary(store: Store, run: int | None = None) -> pd.DataFrame:
    """Per tier and per segment: customers, shares of customers and value, overdue amounts.

    Overdue = the unpaid part of receivables due before the run's as-of date.
    """
    info = get_run(store, run)
    run_id, as_of = int(info["id"]), str(info["as_of"])
    frame = store.query_df(
        "SELECT customer_id, tier, segment, stage, monetary FROM tier_results WHERE run_id = ?",
        (run_id,),
    )
    over = _overdue(store, as_of)
    frame = frame.merge(over, on="customer_id", how="left")
    frame["overdue"] = frame["overdue"].fillna(0).astype(np.int64)
    frame["value"] = frame["monetary"].clip(lower=0)
    n = max(len(frame), 1)
    total_value = max(int(frame["value"].sum()), 1)
    parts = []
    for group in ("tier", "segment", "stage"):
        g = frame.groupby(group, sort=False).agg(
            customers=("customer_id", "size"),
            value=("value", "sum"),
            overdue_total=("overdue", "sum"),
        )
        g = g.reset_index().rename(columns={group: "name"})
        g.insert(0, "group", group)
        parts.append(_order_groups(g, group))
    out = pd.concat(parts, ignore_index=True)
    out["share_customers"] = (out["customers"] / n).round(4)
    out["share_value"] = (out["value"] / total_value).round(4)
    avg = (out["overdue_total"] / out["customers"]).round().astype(np.int64)
    out["overdue_avg"] = avg
    out = out[
        [
            "group",
            "name",
            "customers",
            "share_customers",
            "value",
            "share_value",
            "overdue_total",
            "overdue_avg",
        ]
    ]
    return _money(out, "value", "overdue_total", "overdue_avg")


def _order_groups(g: pd.DataFrame, group: str) -> pd.DataFrame:
    from riskcli.services.tiering.scores import SEGMENTS
    from riskcli.services.tiering.stages import STAGES

    order = {"tier": list(TIER_ORDER), "segment": list(SEGMENTS), "stage": list(STAGES)}[group]
    rank = {name: i for i, name in enumerate(order)}
    return g.sort_values("name", key=lambda s: s.map(lambda v: rank.get(v, len(rank))))


def _pick_pair(store: Store, from_run: int | None, to_run: int | None) -> tuple[int, int]:
    to_id = int(get_run(store, to_run)["id"])
    if from_run is None:
        prev = _previous_run(store, to_id)
        if prev is None:
            raise InputError("tier changes needs two runs: only one run so far")
        return prev, to_id
    from_id = int(get_run(store, from_run)["id"])
    if from_id == to_id:
        raise InputError("--from and --to name the same run")
    return from_id, to_id


def changes(
    store: Store, from_run: int | None = None, to_run: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(movers, transition matrix, info) between two runs (default: the last two).

    Movers are customers whose tier differs, `up` towards A. The matrix counts customers by
    tier in the first run (rows) and the second (columns); `-` means not in that run.
    """
    a, b = _pick_pair(store, from_run, to_run)
    sql = "SELECT customer_id, tier, segment, stage FROM tier_results WHERE run_id = ?"
    left = store.query_df(sql, (a,))
    right = store.query_df(sql, (b,))
    both = left.merge(right, on="customer_id", how="outer", suffixes=("_from", "_to"))
    both["tier_from"] = both["tier_from"].fillna("-")
    both["tier_to"] = both["tier_to"].fillna("-")
    labels = sorted((set(both["tier_from"]) | set(both["tier_to"])) - {"-"})
    cats = [*labels, "-"]
    matrix = pd.crosstab(
        pd.Categorical(both["tier_from"], categories=cats),
        pd.Categorical(both["tier_to"], categories=cats),
        dropna=False,
    )
    matrix.index.name = None
    matrix.columns.name = None
    matrix = matrix.reset_index().rename(columns={"index": "from \\ to"})
    moved = both[(both["tier_from"] != both["tier_to"])].copy()
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    before = moved["tier_from"].map(rank)
    after = moved["tier_to"].map(rank)
    moved["direction"] = np.select(
        [moved["tier_from"] == "-", moved["tier_to"] == "-", after < before],
        ["entered", "left", "up"],
        default="down",
    )
    names = store.query_df("SELECT id AS customer_id, external_id, name FROM customers")
    moved = moved.merge(names, on="customer_id", how="left")
    moved = moved[
        [
            "external_id",
            "name",
            "tier_from",
            "tier_to",
            "direction",
            "segment_from",
            "segment_to",
            "stage_from",
            "stage_to",
        ]
    ].rename(columns={"external_id": "customer_id"})
    moved = moved.sort_values(["direction", "tier_to", "customer_id"], ignore_index=True)
    counts = moved["direction"].value_counts().to_dict() if len(moved) else {}
    info: dict[str, Any] = {"from_run": a, "to_run": b}
    info.update({str(k): int(v) for k, v in counts.items()})
    return moved, matrix, info


__all__ = [
    "RunOutcome",
    "changes",
    "customer_history",
    "get_run",
    "latest_tier",
    "list_runs",
    "policies",
    "read_transactions",
    "results",
    "run_tiering",
    "service_policy",
    "summary",
]

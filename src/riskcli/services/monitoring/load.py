"""Read what the rules need from the store into frames, fast and in bounded memory.

Fetching a row into Python costs about a microsecond, so at ten million transactions the
reading, not the rules, is the bill. Two things keep it small:

- SQLite filters out rows no enabled rule can use (a `LoadPlan` derived from the config): only
  the transactions inside the longest window plus the earlier history of customers who have a
  recent transaction, only open or recently settled invoices, only the latest contact per
  customer plus the recent ones. The rules still filter for themselves, so a frame with extra
  rows gives the same alerts;
- dates become day numbers and kinds small codes in SQL, and the big tables are fetched in
  chunks straight into numpy arrays.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskcli.services import book
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.frames import Frames, iso_date
from riskcli.storage.store import Store

__all__ = ["CORE", "SIDE", "Frames", "LoadPlan", "load"]

CHUNK_ROWS = 500_000
TX_KINDS = ("order", "payment", "refund")
INTERACTION_KINDS = ("call", "email", "visit", "survey", "complaint")
CORE = {"customers", "receivables", "transactions", "credit_reports", "contracts", "interactions"}
#: read on the side connection when there is one: nearly all their work is inside SQLite
#: (`_packed_ints`), so it overlaps the Python-bound reading of the rest
SIDE = {"transactions", "customers"}


@dataclass(frozen=True)
class LoadPlan:
    """Which rows can matter, as day numbers relative to the scan date."""

    as_of: int
    #: transactions after this day are loaded for every customer
    tx_since: int
    #: anomaly: customers with a transaction of these kinds after `anomaly_since` bring their
    #: whole earlier history (None: the anomaly rule is off)
    anomaly_since: int | None
    anomaly_kinds: tuple[str, ...]
    #: receivables settled after this day (fully paid earlier ones fire nothing)
    paid_since: int
    #: interactions after this day, plus each customer's latest one
    contact_since: int
    #: tiers watched by the churn and no-contact rules
    tiers: tuple[str, ...] = ("A", "B")

    @classmethod
    def build(cls, as_of: int, config: MonitoringConfig, rule_ids: set[str]) -> LoadPlan:
        windows = [1]
        if "behaviour_churn" in rule_ids:
            windows.append(2 * config.behaviour_churn.window_days)
        if "contract_uncovered_business" in rule_ids:
            windows.append(config.contract_uncovered_business.window_days)
        anomaly = "behaviour_anomaly" in rule_ids
        if anomaly:
            windows.append(config.behaviour_anomaly.window_days)
        contact = max(
            config.relationship_complaint.window_days,
            config.relationship_satisfaction.window_days,
        )
        return cls(
            as_of=as_of,
            tx_since=as_of - max(windows),
            anomaly_since=as_of - config.behaviour_anomaly.window_days if anomaly else None,
            anomaly_kinds=tuple(config.behaviour_anomaly.kinds),
            paid_since=as_of - config.payment_overdue_growth.window_days,
            contact_since=as_of - contact,
            tiers=tuple(
                sorted({*config.behaviour_churn.tiers, *config.relationship_no_contact.tiers})
            ),
        )


def day_sql(column: str) -> str:
    """SQL for an ISO date column as days since 1970-01-01 (NULL stays NULL)."""
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _kind_sql(column: str, kinds: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(kinds))
    return f"CASE {column} {whens} ELSE -1 END"


def _matrix(
    store: Store, sql: str, width: int, dtype: type, params: tuple[Any, ...] = ()
) -> np.ndarray:
    """Fetch a numeric result in chunks into one matrix of `dtype` (NULL -> NaN for floats)."""
    cur = store.conn.execute(sql, params)
    parts: list[np.ndarray] = []
    while rows := cur.fetchmany(CHUNK_ROWS):
        parts.append(np.array(rows, dtype=dtype).reshape(-1, width))
    return np.concatenate(parts) if parts else np.empty((0, width), dtype=dtype)


def _int_matrix(store: Store, sql: str, width: int, params: tuple[Any, ...] = ()) -> np.ndarray:
    """An all-integer, never-NULL result as one int64 matrix."""
    return _matrix(store, sql, width, np.int64, params)


#: rows of `_packed_ints` per chunk at most (bounds the size of one packed string)
PACK_SPAN = 2_000_000
#: what a NULL integer becomes in `_packed_ints` (outside any window of day numbers)
NULL_INT = -(2**62)


def _packed_ints(
    store: Store,
    exprs: list[str],
    source: str,
    where: str = "1",
    params: tuple[Any, ...] | dict[str, Any] = (),
    *,
    key: str,
    lo: int,
    hi: int,
    span: int = PACK_SPAN,
) -> np.ndarray:
    """Integer columns as one int64 matrix without a Python object per value: SQLite joins
    each chunk of rows into one comma-separated string (inside `sqlite3_step`, so without the
    GIL) and numpy parses it. Rows come from `source` (a table or subquery) filtered by
    `where`, in ranges of `key` (an indexed integer, e.g. the rowid) from `lo` to `hi`,
    `span` values at a time. A NULL becomes `NULL_INT`. `params` may be named (a dict)."""
    m, _ = _packed(store, exprs, [], source, where, params, key=key, lo=lo, hi=hi, span=span)
    return m


def _packed(
    store: Store,
    exprs: list[str],
    texts: list[str],
    source: str,
    where: str,
    params: tuple[Any, ...] | dict[str, Any],
    *,
    key: str,
    lo: int,
    hi: int,
    span: int = PACK_SPAN,
) -> tuple[np.ndarray, list[list[str]]]:
    """`_packed_ints` plus NOT NULL text columns, each joined by the unit separator into one
    string per chunk (same row order) and split in Python. Raises `_Collision` when a text
    holds the separator (the caller then reads plainly)."""
    cells = ", ".join(f"coalesce({e}, {NULL_INT})" for e in exprs)
    aggs = [f"group_concat(concat_ws(',', {cells}), ',')"]
    aggs += [f"group_concat(coalesce({t}, ''), char(31))" for t in texts]
    named = isinstance(params, dict)
    bounds = "AND {k} >= :_lo AND {k} < :_hi" if named else "AND {k} >= ? AND {k} < ?"
    sql = f"SELECT count(*), {', '.join(aggs)} FROM {source} WHERE ({where}) " + bounds.format(
        k=key
    )
    width = len(exprs)
    parts: list[np.ndarray] = []
    columns: list[list[str]] = [[] for _ in texts]
    for start in range(lo, hi + 1, span):
        args = (
            {**params, "_lo": start, "_hi": start + span}
            if isinstance(params, dict)
            else (*params, start, start + span)
        )
        count, numbers, *joined = store.execute(sql, args).fetchone()
        if not count:
            continue
        parts.append(np.fromstring(numbers, dtype=np.int64, sep=",").reshape(-1, width))
        for column, text in zip(columns, joined, strict=True):
            values = text.split(SEP)
            if len(values) != count:
                raise _Collision
            column.extend(values)
    m = np.concatenate(parts) if parts else np.empty((0, width), dtype=np.int64)
    return m, columns


#: joins the text values of a chunk in `_packed` (the ASCII unit separator, char(31))
SEP = "\x1f"


class _Collision(Exception):
    """A text value holds the separator `_packed` joins with."""


def _id_range(store: Store, table: str, column: str = "id") -> tuple[int, int]:
    lo, hi = store.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
    return (0, -1) if lo is None else (int(lo), int(hi))


def _float_matrix(store: Store, sql: str, width: int, params: tuple[Any, ...] = ()) -> np.ndarray:
    """A numeric result that may hold NULL as one float64 matrix (NULL becomes NaN)."""
    return _matrix(store, sql, width, np.float64, params)


def _codes(values: np.ndarray, kinds: tuple[str, ...]) -> pd.Categorical:
    codes = np.where(values < 0, -1, values).astype(np.int8)
    dtype = pd.CategoricalDtype(categories=list(kinds))
    out: pd.Categorical = pd.Categorical.from_codes(codes, dtype=dtype)
    return out


def _tx_frame(m: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "customer_id": m[:, 1],
            "kind": _codes(m[:, 2], TX_KINDS),
            "date": m[:, 3].astype(np.int32),
            "amount": m[:, 4],
        }
    )


def _temp_ids(store: Store, name: str, ids: np.ndarray) -> None:
    store.execute(f"DROP TABLE IF EXISTS temp.{name}")
    store.execute(f"CREATE TEMP TABLE {name} (id INTEGER PRIMARY KEY)")
    store.executemany(f"INSERT INTO temp.{name} VALUES (?)", ((int(i),) for i in ids))


def load_transactions(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """Two passes: every transaction inside the longest window (one table scan), then, through
    the (customer_id, date) index, the earlier history of the customers with a recent
    transaction of an anomaly kind."""
    cols = ["id", "customer_id", _kind_sql("kind", TX_KINDS), day_sql("date"), "amount"]
    since, as_of = iso_date(plan.tx_since), iso_date(plan.as_of)
    lo, hi = _id_range(store, "transactions")
    recent = _packed_ints(
        store, cols, "transactions", "date > ? AND date <= ?", (since, as_of),
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    if plan.anomaly_since is None or not plan.anomaly_kinds:
        return _tx_frame(recent)
    codes = [TX_KINDS.index(k) for k in plan.anomaly_kinds if k in TX_KINDS]
    active = np.unique(
        recent[(recent[:, 3] > plan.anomaly_since) & np.isin(recent[:, 2], codes), 1]
    )
    _temp_ids(store, "mon_tx_customers", active)
    marks = ",".join("?" * len(plan.anomaly_kinds))
    history = _packed_ints(
        store,
        cols,
        "transactions",
        f"customer_id IN temp.mon_tx_customers AND date <= ? AND kind IN ({marks})",
        (since, *plan.anomaly_kinds),
        key="customer_id",
        lo=int(active.min()) if len(active) else 0,
        hi=int(active.max()) if len(active) else -1,
        span=PACK_SPAN // 20,
    )
    store.execute("DROP TABLE temp.mon_tx_customers")
    return _tx_frame(np.concatenate([recent, history]))


def _frame(
    store: Store, sql: str, columns: list[str], params: tuple[Any, ...] | dict[str, Any] = ()
) -> pd.DataFrame:
    cur = store.conn.execute(sql, params)
    parts = []
    while True:
        rows = cur.fetchmany(CHUNK_ROWS)
        if not rows:
            break
        parts.append(pd.DataFrame.from_records(rows, columns=columns))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _days(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        values = frame[column]
        frame[column] = values.astype("Int64") if values.isna().any() else values.astype("int64")
    return frame


def _load_side(store: Store, wanted: set[str], plan: LoadPlan) -> Frames:
    started = time.thread_time()
    frames = Frames(as_of=plan.as_of)
    load_core(store, frames, wanted, plan)
    frames.facts["cpu:load_side"] = time.thread_time() - started
    return frames


def load_core(store: Store, frames: Frames, wanted: set[str], plan: LoadPlan) -> None:
    """The m001_core tables the enabled rules need, pre-filtered by `plan`."""
    if "customers" in wanted:
        frames.frames["customers"] = load_customers(store)
    if "receivables" in wanted:
        frames.frames["receivables"] = load_receivables(store, plan)
    if "transactions" in wanted:
        frames.frames["transactions"] = load_transactions(store, plan)
    if "credit_reports" in wanted:
        frames.frames["credit_reports"] = load_credit_reports(store, plan)
    if "contracts" in wanted:
        frames.frames["contracts"] = load_contracts(store, plan)
    if "interactions" in wanted:
        frames.frames["interactions"] = load_interactions(store, plan)


def _nullable_days(column: np.ndarray) -> np.ndarray:
    """Day numbers from `_packed` as the plain fetch gives them: int64 when none is NULL,
    else float64 with NaN."""
    missing = column == NULL_INT
    if not missing.any():
        return column
    out = column.astype(np.float64)
    out[missing] = np.nan
    return out


def load_receivables(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """Invoices issued by the as-of date that are unpaid on it or were settled inside the
    growth window, as known on the as-of date (`book`): `paid_amount` is what was paid by
    then, `paid_date` is blank for a payment that came later."""
    columns = ["invoice_number", "customer_id", "issue_date", "due_date", "amount",
               "paid_amount", "paid_date"]  # fmt: skip
    paid_date = "CASE WHEN paid_date <= :a THEN paid_date END"
    days = [day_sql("issue_date"), day_sql("due_date"), day_sql(paid_date)]
    where = f"{book.ISSUED} AND ({book.outstanding()} > 0 OR (paid_date > :ps AND paid_date <= :a))"
    params = {"a": iso_date(plan.as_of), "ps": iso_date(plan.paid_since)}
    lo, hi = _id_range(store, "receivables")
    try:
        m, (numbers,) = _packed(
            store, ["customer_id", *days, "amount", book.paid_by()], ["invoice_number"],
            "receivables", where, params, key="id", lo=lo, hi=hi,
        )  # fmt: skip
    except _Collision:
        plain = _frame(
            store,
            f"SELECT invoice_number, customer_id, {', '.join(days[:2])}, amount, "
            f"{book.paid_by()}, {days[2]} FROM receivables WHERE {where}",
            columns,
            params,
        )
        return _days(plain, "issue_date", "due_date")
    frame = pd.DataFrame(
        {
            "invoice_number": pd.Series(numbers, dtype="str"),
            "customer_id": m[:, 0],
            "issue_date": m[:, 1],
            "due_date": m[:, 2],
            "amount": m[:, 4],
            "paid_amount": m[:, 5],
            "paid_date": _nullable_days(m[:, 3]),
        }
    )
    for column in ("issue_date", "due_date"):  # NOT NULL dates: as `_days` gives them
        if (frame[column] == NULL_INT).any():
            frame[column] = frame[column].astype("Int64").mask(frame[column] == NULL_INT)
    return frame


#: a contract is known from the day it was signed (or started, when no signing date is kept)
CONTRACT_KNOWN = "coalesce(signed_date, start_date, '0000') <= ?"


def load_contracts(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """Every contract known on the as-of date: number, customer, end date and status."""
    columns = ["contract_number", "customer_id", "end_date", "status"]
    lo, hi = _id_range(store, "contracts")
    params = (iso_date(plan.as_of),)
    try:
        m, (numbers, statuses) = _packed(
            store, ["customer_id", day_sql("end_date")], ["contract_number", "status"],
            "contracts", CONTRACT_KNOWN, params, key="id", lo=lo, hi=hi,
        )  # fmt: skip
    except _Collision:
        return _frame(
            store,
            f"SELECT contract_number, customer_id, {day_sql('end_date')}, status FROM contracts "
            f"WHERE {CONTRACT_KNOWN}",
            columns,
            params,
        )
    return pd.DataFrame(
        {
            "contract_number": pd.Series(numbers, dtype="str"),
            "customer_id": m[:, 0],
            "end_date": _nullable_days(m[:, 1]),
            "status": pd.Series(statuses, dtype="str"),
        }
    )


def _labels(store: Store, table: str, column: str) -> tuple[list[str], str]:
    """The distinct values of a text column (from its index when it has one) and SQL that
    turns the column into their position (NULL and anything else: -1)."""
    values = [
        str(r[0])
        for r in store.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1"
        )
    ]
    whens = " ".join(f"WHEN {_quote(v)} THEN {i}" for i, v in enumerate(values))
    return values, (f"CASE {column} {whens} ELSE -1 END" if values else "-1")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _decode(codes: np.ndarray, values: list[str]) -> np.ndarray:
    """Codes from `_labels` back to an object array of strings (None for -1)."""
    table = np.array([*values, None], dtype=object)
    out: np.ndarray = table[np.where(codes < 0, len(values), codes)]
    return out


def load_customers(store: Store) -> pd.DataFrame:
    """Every customer's limit, industry, region and status, fetched as numbers (the text
    columns as codes of their distinct values). The external id is not loaded: only the
    output needs it, for far fewer customers (see `engine.output_alerts`)."""
    industries, industry_sql = _labels(store, "customers", "industry")
    regions, region_sql = _labels(store, "customers", "region")
    statuses, status_sql = _labels(store, "customers", "status")
    lo, hi = _id_range(store, "customers")
    m = _packed_ints(
        store, ["id", "credit_limit", industry_sql, region_sql, status_sql], "customers",
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "industry": _decode(m[:, 2], industries),
            "region": _decode(m[:, 3], regions),
            "credit_limit": m[:, 1],
            "status": _decode(m[:, 4], statuses),
        }
    )


def load_credit_reports(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """The reports dated on or before the as-of date, fetched as numbers: the provider
    becomes a code in SQL."""
    providers = [
        str(r[0]) for r in store.execute("SELECT DISTINCT provider FROM credit_reports ORDER BY 1")
    ]
    whens = " ".join(f"WHEN ? THEN {i}" for i in range(len(providers)))
    flags = ("lawsuit", "bankruptcy", "tax_violation", "dishonest_debtor")
    lo, hi = _id_range(store, "credit_reports")
    m = _packed_ints(
        store,
        ["customer_id", f"CASE provider {whens} ELSE -1 END", day_sql("report_date"), *flags],
        "credit_reports",
        "report_date <= ?",
        (*providers, iso_date(plan.as_of)),
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    # the score is REAL: fetched as floats (exact), in the same rowid order
    score = _float_matrix(
        store,
        "SELECT score FROM credit_reports WHERE report_date <= ? ORDER BY id",
        1,
        (iso_date(plan.as_of),),
    )[:, 0]
    return pd.DataFrame(
        {
            "customer_id": m[:, 0],
            "provider": pd.Categorical.from_codes(
                m[:, 1], dtype=pd.CategoricalDtype(categories=providers)
            ),
            "report_date": m[:, 2],
            "score": score,
            **{flag: m[:, 3 + i] for i, flag in enumerate(flags)},
        }
    )


def load_interactions(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """The recent interactions in full, plus one row per customer carrying only the date of
    their latest contact (read from the (customer_id, date) index alone; id -1, no kind)."""
    as_of = iso_date(plan.as_of)
    lo, hi = _id_range(store, "interactions")
    recent = _packed_ints(
        store,
        ["id", "customer_id", _kind_sql("kind", INTERACTION_KINDS), day_sql("date"),
         "satisfaction"],
        "interactions",
        "date > ? AND date <= ?",
        (iso_date(plan.contact_since), as_of),
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    lo, hi = _id_range(store, "customers")
    latest = _packed_ints(
        store,
        ["-1", "customer_id", "-1", day_sql("last"), "NULL"],
        "(SELECT customer_id, max(date) AS last FROM interactions WHERE date <= ? "
        "GROUP BY customer_id)",
        "1",
        (as_of,),
        key="customer_id", lo=lo, hi=hi,
    )  # fmt: skip
    m = np.concatenate([recent, latest])
    satisfaction = m[:, 4].astype(np.float64)
    satisfaction[m[:, 4] == NULL_INT] = np.nan
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "customer_id": m[:, 1],
            "kind": _codes(m[:, 2], INTERACTION_KINDS),
            "date": m[:, 3],
            "satisfaction": satisfaction,
        }
    )


def load(
    store: Store,
    plan: LoadPlan,
    wanted: set[str],
    *,
    side: Store | None = None,
    credit: book.CreditConfig | None = None,
) -> Frames:
    """Frames for the `wanted` sources; optional sources absent from the store are recorded
    in `frames.missing` with the reason.

    With `side` (a second connection reading the same snapshot as `store`), the `SIDE`
    tables are read on it in a thread while `store` reads the rest: SQLite releases the GIL
    while it steps, and `_packed_ints` does nearly all of their work inside the step."""
    from riskcli.services.monitoring import sources

    frames = Frames(as_of=plan.as_of)
    core = wanted & CORE
    for table in sorted(core):
        # an empty source is absent: e.g. no interactions at all must not read as "no contact"
        if not store.scalar(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            frames.frames[table] = None
            frames.missing[table] = f"no rows in {table}"
            core.discard(table)
    aside = core & SIDE if side is not None else set()

    def optional() -> None:
        sources.load_optional(
            store, frames, wanted - CORE, tiers=plan.tiers, credit=credit or book.CreditConfig()
        )

    if aside and side is not None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-load") as pool:
            done = pool.submit(_load_side, side, aside, plan)
            load_core(store, frames, core - aside, plan)
            optional()  # while the side reader still reads the transactions
            side_frames = done.result()
            frames.frames.update(side_frames.frames)
            frames.facts.update(side_frames.facts)
    else:
        load_core(store, frames, core, plan)
        optional()
    return frames

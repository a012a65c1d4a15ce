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
from riskcli.services.monitoring import fetch, sources
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.fetch import day_sql
from riskcli.services.monitoring.frames import Frames, iso_date
from riskcli.storage.store import Store

__all__ = ["CORE", "SIDE", "Frames", "LoadPlan", "load"]

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


def _tx_frame(m: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "customer_id": m[:, 1],
            "kind": fetch.codes(m[:, 2], TX_KINDS),
            "date": m[:, 3].astype(np.int32),
            "amount": m[:, 4],
        }
    )


def load_transactions(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """Two passes: every transaction inside the longest window (one table scan), then, through
    the (customer_id, date) index, the earlier history of the customers with a recent
    transaction of an anomaly kind."""
    cols = ["id", "customer_id", fetch.kind_sql("kind", TX_KINDS), day_sql("date"), "amount"]
    since, as_of = iso_date(plan.tx_since), iso_date(plan.as_of)
    lo, hi = fetch.id_range(store, "transactions")
    recent = fetch.packed_ints(
        store, cols, "transactions", "date > ? AND date <= ?", (since, as_of),
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    if plan.anomaly_since is None or not plan.anomaly_kinds:
        return _tx_frame(recent)
    codes = [TX_KINDS.index(k) for k in plan.anomaly_kinds if k in TX_KINDS]
    active = np.unique(
        recent[(recent[:, 3] > plan.anomaly_since) & np.isin(recent[:, 2], codes), 1]
    )
    fetch.temp_ids(store, "mon_tx_customers", active)
    marks = ",".join("?" * len(plan.anomaly_kinds))
    history = fetch.packed_ints(
        store,
        cols,
        "transactions",
        f"customer_id IN temp.mon_tx_customers AND date <= ? AND kind IN ({marks})",
        (since, *plan.anomaly_kinds),
        key="customer_id",
        lo=int(active.min()) if len(active) else 0,
        hi=int(active.max()) if len(active) else -1,
        span=fetch.PACK_SPAN // 20,
    )
    store.execute("DROP TABLE temp.mon_tx_customers")
    return _tx_frame(np.concatenate([recent, history]))


def _frame(
    store: Store, sql: str, columns: list[str], params: tuple[Any, ...] | dict[str, Any] = ()
) -> pd.DataFrame:
    cur = store.conn.execute(sql, params)
    parts = []
    while True:
        rows = cur.fetchmany(fetch.CHUNK_ROWS)
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
    lo, hi = fetch.id_range(store, "receivables")
    try:
        m, (numbers,) = fetch.packed(
            store, ["customer_id", *days, "amount", book.paid_by()], ["invoice_number"],
            "receivables", where, params, key="id", lo=lo, hi=hi,
        )  # fmt: skip
    except fetch.Collision:
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
            "paid_date": fetch.nullable_days(m[:, 3]),
        }
    )
    for column in ("issue_date", "due_date"):  # NOT NULL dates: as `_days` gives them
        if (frame[column] == fetch.NULL_INT).any():
            frame[column] = frame[column].astype("Int64").mask(frame[column] == fetch.NULL_INT)
    return frame


#: a contract is known from the day it was signed (or started, when no signing date is kept)
CONTRACT_KNOWN = "coalesce(signed_date, start_date, '0000') <= ?"


def load_contracts(store: Store, plan: LoadPlan) -> pd.DataFrame:
    """Every contract known on the as-of date: number, customer, end date and status."""
    columns = ["contract_number", "customer_id", "end_date", "status"]
    lo, hi = fetch.id_range(store, "contracts")
    params = (iso_date(plan.as_of),)
    try:
        m, (numbers, statuses) = fetch.packed(
            store, ["customer_id", day_sql("end_date")], ["contract_number", "status"],
            "contracts", CONTRACT_KNOWN, params, key="id", lo=lo, hi=hi,
        )  # fmt: skip
    except fetch.Collision:
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
            "end_date": fetch.nullable_days(m[:, 1]),
            "status": pd.Series(statuses, dtype="str"),
        }
    )


def load_customers(store: Store) -> pd.DataFrame:
    """Every customer's limit, industry, region and status, fetched as numbers (the text
    columns as codes of their distinct values). The external id is not loaded: only the
    output needs it, for far fewer customers (see `engine.output_alerts`)."""
    industries, industry_sql = fetch.text_codes(store, "customers", "industry")
    regions, region_sql = fetch.text_codes(store, "customers", "region")
    statuses, status_sql = fetch.text_codes(store, "customers", "status")
    lo, hi = fetch.id_range(store, "customers")
    m = fetch.packed_ints(
        store, ["id", "credit_limit", industry_sql, region_sql, status_sql], "customers",
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "industry": fetch.decode(m[:, 2], industries),
            "region": fetch.decode(m[:, 3], regions),
            "credit_limit": m[:, 1],
            "status": fetch.decode(m[:, 4], statuses),
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
    lo, hi = fetch.id_range(store, "credit_reports")
    m = fetch.packed_ints(
        store,
        ["customer_id", f"CASE provider {whens} ELSE -1 END", day_sql("report_date"), *flags],
        "credit_reports",
        "report_date <= ?",
        (*providers, iso_date(plan.as_of)),
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    # the score is REAL: fetched as floats (exact), in the same rowid order
    score = fetch.float_matrix(
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
    lo, hi = fetch.id_range(store, "interactions")
    recent = fetch.packed_ints(
        store,
        ["id", "customer_id", fetch.kind_sql("kind", INTERACTION_KINDS), day_sql("date"),
         "satisfaction"],
        "interactions",
        "date > ? AND date <= ?",
        (iso_date(plan.contact_since), as_of),
        key="id", lo=lo, hi=hi,
    )  # fmt: skip
    lo, hi = fetch.id_range(store, "customers")
    latest = fetch.packed_ints(
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
    satisfaction[m[:, 4] == fetch.NULL_INT] = np.nan
    return pd.DataFrame(
        {
            "id": m[:, 0],
            "customer_id": m[:, 1],
            "kind": fetch.codes(m[:, 2], INTERACTION_KINDS),
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

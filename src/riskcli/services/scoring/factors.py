"""The factor frame read from the store as of a date (by one process, or by two on a large
store), and the outcome that follows it, for training.

The factors and their definitions are in `factor_columns`; every query is the book's
(`riskcli.services.book`, the one definition of what was known on a day).

Outcome ("bad"): by default the customer enters default (book.default_state) within the
horizon after the as-of date; `dpd90` is the older target: an invoice reaches 90 days past due
(not fully paid by then) within the horizon. Customers in default at the as-of date are left
out of training.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError, RiskError
from riskcli.services import book
from riskcli.services.queries import customers
from riskcli.services.scoring.factor_columns import FRAME_COLUMNS, assemble
from riskcli.services.scoring.query_arrays import numeric_rows, rows_and_texts
from riskcli.storage.activity import latest_activity
from riskcli.storage.store import Store, open_with_key

Progress = Callable[[str], None]


def parse_horizon(text: str) -> int:
    """'12m' -> 365 days, '6m' -> 183, '90d' -> 90, '1y' -> 365."""
    t = text.strip().lower()
    try:
        if t.endswith("m"):
            return round(int(t[:-1]) * 365 / 12)
        if t.endswith("y"):
            return int(t[:-1]) * 365
        if t.endswith("d"):
            return int(t[:-1])
        return int(t)
    except ValueError:
        raise InputError(f"--horizon must look like 12m, 1y or 90d, not {text!r}") from None


def _iso(d: date) -> str:
    return d.isoformat()


_CUST_SQL = """
SELECT id, credit_limit, :ja - julianday(registered_date) {texts} FROM customers
WHERE (registered_date IS NULL OR registered_date <= :a) {filter} ORDER BY id
"""
# (progress label, query, its numeric output columns after customer_id, the frame columns
# that need it); every query is the book's (riskcli.services.book), as of the date
_POSITION_USERS = {
    "worst_dpd_12m",
    "avg_dpd_12m",
    "late_invoices_12m",
    "oldest_open_dpd",
    "overdue_share",
    "utilisation",
    "tenure_months",
    "in_default",
    "exposure",
    "overdue",
    "invoicing_12m",
    "terms",
    "peak_not_due",
    "history_months",
}
_PARTS: list[tuple[str, str, list[str], set[str]]] = [
    ("receivables", book.POSITIONS_SQL, book.POSITION_COLUMNS, _POSITION_USERS),
    ("orders", book.ORDERS_SQL, ["orders_recent", "orders_prior"], {"orders_12m", "order_trend"}),
    ("transactions", book.FIRST_TXN_SQL, ["txn_days"], {"tenure_months"}),
    ("revenue", book.FINANCIALS_SQL, ["revenue", "prev_revenue", "total_assets",
                                      "total_liabilities", "current_assets",
                                      "current_liabilities"],
     {"net_assets", "debt_ratio", "current_ratio", "revenue_trend"}),
    ("bureau", book.REPORTS_SQL, ["bureau_score", "adverse_flags", "bankruptcy",
                                  "dishonest_debtor"],
     {"bureau_score", "adverse_flags", "bankruptcy", "dishonest_debtor"}),
]  # fmt: skip


def _customers(
    store: Store, params: dict[str, Any], where: str, texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Ids, credit limits, days since registration and the wanted text columns, in id order:
    one pass over `customers` (a wide table)."""
    sql = _CUST_SQL.format(
        texts="".join(f", {c}" for c in texts), filter=where.replace("customer_id", "id")
    )
    matrix, strings = rows_and_texts(store, sql, params, 3, len(texts))
    text = {c: np.array(strings[j], dtype=object) for j, c in enumerate(texts)}
    return matrix[:, 0], matrix[:, 1], matrix[:, 2], text


def _frame(
    store: Store,
    params: dict[str, Any],
    where: str,
    say: Progress,
    needed: frozenset[str] | None = None,
    policy: book.DefaultPolicy | None = None,
) -> pd.DataFrame:
    """The factor frame of the customers that `where` (a filter on customer_id) selects.

    With `needed`, only the queries those columns need run; the other columns are missing
    (NaN, None) for every customer.
    """
    want = set(FRAME_COLUMNS) if needed is None else set(needed)
    # a 256 MB page cache for this connection: the grouped scans re-read the same pages
    store.execute("PRAGMA cache_size = -262144")
    say("customers")
    texts = [c for c in ("industry", "region", "status") if c in want]
    ids, credit_limit, age_days, text = _customers(store, params, where, texts)
    col: dict[str, np.ndarray] = {"credit_limit": credit_limit, "age_days": age_days}
    said = ""
    for label, sql, names, users in _PARTS:
        if not users & want:
            for name in names:
                col[name] = np.full(len(ids), np.nan)
            continue
        if label != said:
            say(label)
            said = label
        part = numeric_rows(store, sql.format(filter=where), params, len(names) + 1)
        pos = np.searchsorted(ids, part[:, 0])
        ok = pos < len(ids)
        ok[ok] = ids[pos[ok]] == part[ok, 0]
        for j, name in enumerate(names):
            values = np.full(len(ids), np.nan)
            values[pos[ok]] = part[ok, j + 1]
            col[name] = values
    in_default = np.zeros(len(ids), dtype=np.int64)
    default_amount = np.zeros(len(ids))
    if want & {"in_default", "default_amount"}:
        state = book.default_state(store, _as_of(params), policy or book.DefaultPolicy(),
                                   where=where, extra=params)  # fmt: skip
        pos = np.searchsorted(ids, state.ids)
        ok = pos < len(ids)
        ok[ok] = ids[pos[ok]] == state.ids[ok]
        in_default[pos[ok]] = state.in_default[ok]
        default_amount[pos[ok]] = state.amount[ok]
    if want & {"terms"}:
        col["terms"] = book.median_terms(store, params, ids, col["terms_min"], col["terms_max"])
    else:
        col["terms"] = col["terms_min"]
    return assemble(ids, col, text, in_default, default_amount)


def _as_of(params: dict[str, Any]) -> date:
    return date.fromisoformat(params["a"])


def build_factors(
    store: Store,
    as_of: date,
    *,
    customer: str | None = None,
    progress: Progress | None = None,
    needed: frozenset[str] | None = None,
    policy: book.DefaultPolicy | None = None,
) -> pd.DataFrame:
    """One row per customer known at the as-of date: context columns + every store factor.

    `needed` (column names) skips the queries no needed column uses; the other columns are then
    missing for every customer.

    One grouped query per table and need, aligned on the customers' ids in numpy (so its rows
    may come in any order); NULLs travel as a sentinel so the numbers go straight into arrays,
    with no Python object kept per cell and no per-customer Python.
    """
    say = progress or (lambda _m: None)
    params = book.params(as_of, policy)
    where = ""
    if customer is not None:
        cid = customers.pk(store, customer)
        if cid is None:
            raise InputError(f"no customer {customer!r}")
        params["cid"] = int(cid)
        where = "AND customer_id = :cid"
    df = _frame(store, params, where, say, needed, policy)
    if customer is not None and df.empty:
        raise InputError(f"no customer {customer!r} known at {as_of.isoformat()}")
    return df


# ---- the same frame from two processes --------------------------------------------------------

#: below this many customers a second process costs more than it saves
PARALLEL_MIN_CUSTOMERS = 50_000
#: share of the customers (by id range) read here; the second process reads the rest meanwhile,
#: in CHUNKS parts sent one by one. This process also writes every row, so it reads the smaller
#: share; reasons stored as codes made the write cheaper, so that share grew from 0.40 to 0.45
#: (tuned with benchmarks/bench_scoring.py, alternating the two values on an idle machine).
LOCAL_SHARE = 0.45
CHUNKS = 6


def _can_fork() -> bool:
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) >= 2


def _pack(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categories: a few hundred strings cross the pipe, not millions."""
    out = df.copy()
    for c in ("industry", "region"):
        out[c] = out[c].astype("category")
    return out


def _unpack(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("industry", "region"):
        values = df[c].astype(object)
        df[c] = values.where(values.notna(), None)
    return df


_RANGE = "AND customer_id > :lo AND customer_id <= :hi"


def _read_ranges(
    store: Store,
    params: dict[str, Any],
    bounds: list[int],
    needed: frozenset[str] | None,
    then: Callable[[pd.DataFrame], Any] | None,
    sender: Any,
    policy: book.DefaultPolicy | None = None,
) -> None:
    """In the forked process: read each id range on a connection of its own, send it back.

    The master key is in this process's memory by inheritance (fork): it never touches a pipe,
    a file, argv or the environment. The parent's connection is left alone.
    """
    try:
        other = open_with_key(
            store.path, store.master_key, store.keyfile, store.user, store.role, migrate=False
        )
        try:
            for lo, hi in itertools.pairwise(bounds):
                part = {**params, "lo": lo, "hi": hi}
                frame = _frame(other, part, _RANGE, lambda _m: None, needed, policy)
                _send(sender, ("ok", _pack(frame) if then is None else then(frame)))
        finally:
            other.close()
        _send(sender, ("end", None))
    except BaseException as exc:  # reported to the parent, which raises it
        error = exc if isinstance(exc, RiskError) else InputError(f"reading factors: {exc}")
        with suppress(BaseException):  # the parent may have stopped listening (its own error)
            _send(sender, ("error", error))
    finally:
        with suppress(BaseException):
            sender.close()


@contextmanager
def factor_parts(
    store: Store,
    as_of: date,
    *,
    progress: Progress | None = None,
    needed: frozenset[str] | None = None,
    then: Callable[[pd.DataFrame], Any] | None = None,
    policy: book.DefaultPolicy | None = None,
) -> Iterator[Iterator[Any]]:
    """The frame of `build_factors(store, as_of)` as consecutive parts in customer order.

    On a large store with two or more CPUs a forked process reads the upper customers on its
    own connection while this one reads the lower ones. The rows, and their order, equal
    `build_factors(store, as_of, needed=needed)`. With `then`, each part arrives as
    `then(part)`, computed in the process that read it (so row-wise work such as scoring is
    shared too).
    """
    say = progress or (lambda _m: None)
    apply = then or (lambda frame: frame)
    params = book.params(as_of, policy)
    count = int(store.scalar("SELECT count(*) FROM customers"))
    # Fork only from an idle connection: the child then inherits no SQLite lock bookkeeping
    # beyond the shared locks this process really holds for the child's whole life (it waits
    # for the child below), and it never touches this connection, only one of its own.
    if count < PARALLEL_MIN_CUSTOMERS or store.conn.in_transaction or not _can_fork():
        yield iter([apply(_frame(store, params, "", say, needed, policy))])
        return
    lo, hi = (int(v) for v in store.execute("SELECT MIN(id), MAX(id) FROM customers").fetchone())
    span = hi - lo + 1
    split = lo - 1 + round(span * LOCAL_SHARE)
    bounds = [split + round((hi - split) * k / CHUNKS) for k in range(CHUNKS + 1)]
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    worker = ctx.Process(
        target=_read_ranges, args=(store, params, bounds, needed, then, sender, policy), daemon=True
    )
    worker.start()
    sender.close()
    # A thread drains the pipe as parts arrive: a part is larger than the pipe's buffer, so
    # without it the second process would wait in `send` until this one had finished its own
    # share, and the two would take turns instead of running side by side.
    arrived: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    drainer = threading.Thread(
        target=_drain, args=(receiver, arrived), name="score-parts", daemon=True
    )
    drainer.start()
    finished = False

    def parts() -> Iterator[Any]:
        nonlocal finished
        mine = {**params, "lo": lo - 1, "hi": split}
        yield apply(_frame(store, mine, _RANGE, say, needed, policy))
        say("the rest from the second process")
        while True:
            status, payload = arrived.get()
            if status == "eof":  # it died without a word (killed, out of memory)
                finished = True
                worker.join()
                raise InputError(
                    f"the second scoring process stopped (exit code {worker.exitcode})"
                ) from None
            if status == "end":
                finished = True
                return
            if status != "ok":
                finished = True
                raise payload
            yield _unpack(payload) if then is None else payload

    try:
        yield parts()
    finally:
        if not finished:  # stopped early (an error here): the rest is not wanted
            worker.terminate()
        worker.join()
        drainer.join()  # the pipe's far end is closed now: the thread has seen the end
        receiver.close()


def _send(sender: Any, message: tuple[str, Any]) -> None:
    """To the parent, through its pipe (nothing is stored pickled). Protocol 5, not the pipe's
    default 4: it writes the many small bytearrays of a scored part (bins, reason codes)
    directly, where 4 reduces each one in Python (several times the CPU)."""
    sender.send_bytes(pickle.dumps(message, protocol=5))


def _drain(receiver: Any, arrived: queue.SimpleQueue[tuple[str, Any]]) -> None:
    """Move every message from the pipe to `arrived` until the end, an error, or EOF."""
    while True:
        try:
            message = pickle.loads(receiver.recv_bytes())
        except (EOFError, OSError):
            arrived.put(("eof", None))
            return
        except Exception as exc:  # a message that does not unpickle: report, never hang
            arrived.put(("error", InputError(f"reading factors: {exc}")))
            return
        arrived.put(message)
        if message[0] != "ok":
            return


TARGETS = ("default", "dpd90")


def build_outcome(
    store: Store,
    as_of: date,
    horizon_days: int,
    *,
    target: str = "default",
    policy: book.DefaultPolicy | None = None,
) -> pd.DataFrame:
    """customer_id, bad: 1 when the customer enters default in the horizon (`default`), or
    when an invoice first reaches 90 days past due in it (`dpd90`)."""
    if target == "default":
        end_day = as_of + timedelta(days=horizon_days)
        state = book.default_state(store, end_day, policy or book.DefaultPolicy(), since=as_of)
        return pd.DataFrame({"customer_id": state.ids, "bad": state.in_default.astype(np.int8)})
    if target != "dpd90":
        raise InputError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")
    a = _iso(as_of)
    end = _iso(as_of + timedelta(days=horizon_days))
    sql = """
    SELECT customer_id, MAX(
      CASE WHEN date(due_date, '+90 days') > :a AND date(due_date, '+90 days') <= :end
        AND NOT (paid_date IS NOT NULL AND paid_amount >= amount
                 AND paid_date <= date(due_date, '+90 days'))
      THEN 1 ELSE 0 END) AS bad
    FROM receivables WHERE issue_date <= :end GROUP BY customer_id
    """
    return store.query_df(sql, {"a": a, "end": end})


def training_frame(
    store: Store,
    as_of: date,
    horizon_days: int,
    *,
    snapshots: int = 1,
    step_days: int = 91,
    progress: Progress | None = None,
    target: str = "default",
    policy: book.DefaultPolicy | None = None,
) -> tuple[pd.DataFrame, np.ndarray, pd.Series, dict[str, Any]]:
    """Factors at one or more as-of dates (3 months apart) with the outcome after each.

    Returns (factors, outcome, snapshot date per row, notes). With two or more snapshots the
    latest is the out-of-time validation sample.
    """
    latest = latest_activity(store)
    if latest is None:
        raise InputError("the store holds no transactions or receivables to train on")
    notes: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon_days,
        "target": target,
    }
    if as_of + timedelta(days=horizon_days) > latest:
        notes["warning"] = (
            f"the outcome window ends {as_of + timedelta(days=horizon_days)} but the data ends "
            f"{latest}: outcomes after that are not yet observed"
        )
    frames: list[pd.DataFrame] = []
    ys: list[np.ndarray] = []
    dates: list[pd.Series] = []
    excluded = 0
    for k in range(snapshots):
        at = as_of - timedelta(days=step_days * (snapshots - 1 - k))
        f = build_factors(store, at, progress=progress, policy=policy)
        out = build_outcome(store, at, horizon_days, target=target, policy=policy)
        f = f.merge(out, on="customer_id", how="left")
        f["bad"] = f["bad"].fillna(0).astype(np.int8)
        excluded += int(f["in_default"].sum())
        f = f[f["in_default"] == 0]
        frames.append(f)
        ys.append(f["bad"].to_numpy(dtype=np.int8))
        dates.append(pd.Series([pd.Timestamp(at)] * len(f)))
    frame = pd.concat(frames, ignore_index=True)
    notes["already_in_default_excluded"] = excluded
    notes["snapshots"] = snapshots
    y = np.concatenate(ys)
    return frame, y, pd.concat(dates, ignore_index=True), notes

"""Factors from the store as of a date, and the outcome from receivables.

Every factor reads the book as of the date through `riskcli.services.book` (the one definition
of what was known on a day), documented in docs/credit.md:

| factor | definition |
|---|---|
| debt_ratio | total liabilities / total assets, latest financial period ended by the as-of date |
| current_ratio | current assets / current liabilities, same period |
| revenue_trend | revenue of that period / revenue of the period before - 1 |
| years_in_business | years from registered_date to the as-of date |
| worst_dpd_12m | worst days past due over the invoices due in the 12 months to the as-of date |
|   | and every invoice still open and past due, whatever its age (a paid invoice |
|   | counts until its paid date, an open one until the as-of date) |
| avg_dpd_12m | average days past due of the same invoices |
| late_invoices_12m | count of those invoices 30 or more days late |
| oldest_open_dpd | days past due of the oldest open invoice (0 when none is overdue) |
| overdue_share | outstanding past due / outstanding (0 with nothing outstanding) |
| utilisation | receivables outstanding at the as-of date / current credit limit |
| tenure_months | months since the first transaction or invoice |
| order_trend | orders in the last 6 months / orders in the 6 months before - 1 (capped at 3) |
| industry, region | as recorded on the customer |
| bureau_score | latest third-party score reported by the as-of date |
| adverse_flags | lawsuit + tax violation + other flag on that latest report |
| bankruptcy, dishonest_debtor | 0/1 on that latest report (overrides to the worst grade) |

The payment factors are missing only for a customer with no invoice at all.

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
from riskcli.storage.activity import latest_activity
from riskcli.storage.store import Store, open_with_key

FACTOR_DESCRIPTIONS: dict[str, str] = {
    "debt_ratio": "debt ratio (liabilities / assets)",
    "current_ratio": "current ratio (current assets / current liabilities)",
    "revenue_trend": "revenue change on the previous period",
    "years_in_business": "years in business",
    "worst_dpd_12m": "worst days past due in the last 12 months",
    "avg_dpd_12m": "average days past due in the last 12 months",
    "late_invoices_12m": "invoices 30+ days late in the last 12 months",
    "oldest_open_dpd": "days past due of the oldest open invoice",
    "overdue_share": "share of the outstanding amount that is past due",
    "utilisation": "credit limit utilisation",
    "tenure_months": "months as a customer",
    "order_trend": "order volume change, last 6 months on the 6 before",
    "industry": "industry",
    "region": "region",
    "bureau_score": "third-party bureau score",
    "adverse_flags": "adverse third-party flags (lawsuit, tax, other)",
    "bankruptcy": "bankruptcy on a third-party report",
    "dishonest_debtor": "on the dishonest-debtor list",
}
STORE_FACTORS = list(FACTOR_DESCRIPTIONS)
#: recorded for every customer beside the factors: what the credit limit policy needs
CONTEXT_COLUMNS = [
    "customer_id",
    "credit_limit",
    "status",
    "orders_12m",
    "net_assets",
    "exposure",
    "overdue",
    "invoicing_12m",
    "terms",
    "peak_not_due",
    "history_months",
    "default_amount",
]
#: the columns of a factor frame
FRAME_COLUMNS = [*CONTEXT_COLUMNS, *STORE_FACTORS, "in_default"]
DEFAULT_EXCLUDE = ("bankruptcy", "dishonest_debtor")  # override flags, not points

Progress = Callable[[str], None]


def parse_date(text: str | date | None, what: str = "--as-of") -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InputError(f"{what} must be a date YYYY-MM-DD, not {text!r}") from None


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


_MISSING = -9.87654321e300  # stands for NULL on the way from SQL to numpy

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


def _wrapped(sql: str, k: int, texts: int = 0) -> str:
    """Wrap a query so each of its first k columns arrives as a number, NULL as the sentinel;
    the `texts` columns after them pass as they are."""
    names = [f"c{i}" for i in range(k + texts)]
    cols = [f"COALESCE({c}, {_MISSING!r})" for c in names[:k]] + names[k:]
    return f"WITH q({', '.join(names)}) AS ({sql}) SELECT {', '.join(cols)} FROM q"


def _rows(
    store: Store, sql: str, params: dict[str, Any], k: int, texts: int = 0
) -> tuple[np.ndarray, list[list[Any]]]:
    """A result's first k columns as a float matrix (NULL as NaN, no Python object kept per
    cell), and its `texts` columns after them as lists."""
    cur = store.execute(_wrapped(sql, k, texts), params)
    chunks: list[np.ndarray] = [np.empty((0, k))]
    strings: list[list[Any]] = [[] for _ in range(texts)]
    while rows := cur.fetchmany(200_000):
        numbers = (r[:k] for r in rows) if texts else rows
        flat = np.fromiter(
            itertools.chain.from_iterable(numbers), dtype=np.float64, count=len(rows) * k
        )
        chunks.append(flat.reshape(len(rows), k))
        for j, column in enumerate(strings):
            column.extend([r[k + j] for r in rows])
    out = np.concatenate(chunks)
    out[out == _MISSING] = np.nan
    return out, strings


def _numeric_rows(store: Store, sql: str, params: dict[str, Any], k: int) -> np.ndarray:
    """A numeric result as a float matrix, NULL as NaN."""
    return _rows(store, sql, params, k)[0]


def _customers(
    store: Store, params: dict[str, Any], where: str, texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Ids, credit limits, days since registration and the wanted text columns, in id order:
    one pass over `customers` (a wide table)."""
    sql = _CUST_SQL.format(
        texts="".join(f", {c}" for c in texts), filter=where.replace("customer_id", "id")
    )
    matrix, strings = _rows(store, sql, params, 3, len(texts))
    text = {c: np.array(strings[j], dtype=object) for j, c in enumerate(texts)}
    return matrix[:, 0], matrix[:, 1], matrix[:, 2], text


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


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
        part = _numeric_rows(store, sql.format(filter=where), params, len(names) + 1)
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
    return _assemble(ids, col, text, in_default, default_amount)


def _as_of(params: dict[str, Any]) -> date:
    return date.fromisoformat(params["a"])


def _assemble(
    ids: np.ndarray,
    col: dict[str, np.ndarray],
    text: dict[str, np.ndarray],
    in_default: np.ndarray,
    default_amount: np.ndarray,
) -> pd.DataFrame:
    """The frame's columns from the query columns (numpy, no per-customer Python)."""
    df = pd.DataFrame({"customer_id": ids.astype(np.int64)})
    df["credit_limit"] = col["credit_limit"]
    df["orders_12m"] = np.nan_to_num(col["orders_recent"]) + np.nan_to_num(col["orders_prior"])
    df["net_assets"] = col["total_assets"] - col["total_liabilities"]
    has_invoices = ~np.isnan(col["invoice_days"])
    exposure = np.nan_to_num(col["exposure"])
    df["exposure"] = exposure
    df["overdue"] = np.nan_to_num(col["overdue"])
    df["invoicing_12m"] = np.nan_to_num(col["invoicing_12m"])
    df["terms"] = col["terms"]
    df["peak_not_due"] = np.nan_to_num(col["peak_not_due"])
    # months since the first invoice: the history the limit policy sizes invoicing over
    df["history_months"] = np.round(col["invoice_days"] / 30.4375, 1)
    df["default_amount"] = default_amount
    df["debt_ratio"] = np.round(_ratio(col["total_liabilities"], col["total_assets"]), 6)
    df["current_ratio"] = np.round(_ratio(col["current_assets"], col["current_liabilities"]), 6)
    df["revenue_trend"] = np.round(
        np.clip(_ratio(col["revenue"], col["prev_revenue"]) - 1, -1, 5), 6
    )
    df["years_in_business"] = np.round(col["age_days"] / 365.25, 2)
    # a customer with invoices but none in the window has a clean 12 months (0, not missing)
    clean = has_invoices & np.isnan(col["worst_dpd_12m"])
    df["worst_dpd_12m"] = np.where(clean, 0, col["worst_dpd_12m"])
    df["avg_dpd_12m"] = np.round(np.where(clean, 0, col["avg_dpd_12m"]), 2)
    df["late_invoices_12m"] = np.where(clean, 0, col["late_invoices_12m"])
    df["oldest_open_dpd"] = np.where(has_invoices, np.nan_to_num(col["oldest_open_dpd"]), np.nan)
    share = np.nan_to_num(_ratio(np.nan_to_num(col["overdue"]), exposure))
    df["overdue_share"] = np.where(has_invoices, np.round(share, 4), np.nan)
    df["utilisation"] = np.round(_ratio(exposure, col["credit_limit"]), 4)
    first = np.fmax(col["invoice_days"], col["txn_days"])
    df["tenure_months"] = np.round(first / 30.4375, 1)
    recent = np.nan_to_num(col["orders_recent"])
    prior = np.nan_to_num(col["orders_prior"])
    trend = np.where(prior > 0, _ratio(recent, prior) - 1, np.where(recent > 0, 3.0, np.nan))
    df["order_trend"] = np.round(np.clip(trend, -1, 3), 4)
    for c in ("industry", "region", "status"):
        values = text[c] if c in text else np.full(len(ids), None, dtype=object)
        df[c] = pd.Series(values, dtype=object)  # objects, None where missing (not str dtype)
    df["bureau_score"] = col["bureau_score"]
    df["adverse_flags"] = col["adverse_flags"]
    df["bankruptcy"] = col["bankruptcy"]
    df["dishonest_debtor"] = col["dishonest_debtor"]
    df["in_default"] = in_default.astype(int)
    return df[FRAME_COLUMNS]


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
        cid = store.scalar("SELECT id FROM customers WHERE external_id = ?", (customer,))
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
#: share. 0.45 since reasons are stored as codes (a cheaper write): at 1,000,000 customers on an
#: idle 2-core machine, 13.0 s median against 13.6 s at 0.40 (3 runs each, alternating).
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
    directly, where 4 reduces each one in Python (4x the CPU: 3.1 s for 400,000 customers)."""
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

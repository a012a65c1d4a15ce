"""Month-end receivables figures from the book at many dates (pure numpy, no store).

Per month-end t and group g (the book, a tier, a grade ...): receivables R, current (not yet
due) receivables C, credit sales S of the period ending at t, the aging buckets, and from them
DSO (countback and simple), best-possible DSO, average days delinquent and the collection
effectiveness index; the roll-rate matrix follows each invoice from one month-end to the next.
Formulas: docs/receivables.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from riskcli.services.book import BookAtDates, month_ends
from riskcli.services.receivables.settings import Buckets

#: the roll-rate matrix's columns after the buckets
COLLECTED = "collected"
WRITTEN_OFF = "written_off"


@dataclass(frozen=True)
class Grouping:
    """Customers split by one label: `codes[customer_id]` is the group's index in `labels`."""

    name: str
    labels: list[str]
    codes: np.ndarray


@dataclass(frozen=True)
class Sales:
    """Credit sales per calendar month: month 0 is the as-of date's month (cut at the date)."""

    customer_id: np.ndarray
    month: np.ndarray
    amount: np.ndarray
    days: np.ndarray  # days of each month index (month 0: up to the as-of date)

    @classmethod
    def of(
        cls, as_of: date, customer: np.ndarray, month: np.ndarray, amount: np.ndarray, months: int
    ) -> Sales:
        ends = month_ends(as_of, months + 1)
        days = np.array([(ends[j] - ends[j + 1]).days for j in range(months)], dtype=np.float64)
        return cls(customer, month, amount, days)

    def matrix(self, grouping: Grouping) -> np.ndarray:
        """Sales (cents) per group and month index."""
        n, months = len(grouping.labels), len(self.days)
        code = grouping.codes[self.customer_id]
        flat = np.bincount(code * months + self.month, weights=self.amount, minlength=n * months)
        return flat.reshape(n, months)


@dataclass(frozen=True)
class Aged:
    """The open invoices of each date of a book, aged once for every grouping: per date k the
    rows open on it (`rows[k]`), their aging bucket and balance; and the written-off rows."""

    rows: list[np.ndarray]
    bucket: list[np.ndarray]
    balance: list[np.ndarray]
    written: np.ndarray  # rows written off inside the book's dates

    @classmethod
    def of(cls, book: BookAtDates, buckets: Buckets) -> Aged:
        rows, bucket, balance = [], [], []
        for k, day in enumerate(book.dates):
            on = np.flatnonzero(book.balance[:, k] > 0)
            rows.append(on.astype(np.int32))
            due = book.due_day[on]
            bucket.append(buckets.index(np.maximum(day.toordinal() - due, 0)).astype(np.int8))
            balance.append(book.balance[on, k])
        return cls(rows, bucket, balance, np.flatnonzero(book.wo_day >= 0))


def balances(aged: Aged, k: int, codes: np.ndarray, groups: int, nb: int) -> np.ndarray:
    """Outstanding (cents) per group and aging bucket on the book's dates[k]; `codes` is the
    group of each invoice."""
    index = codes[aged.rows[k]] * nb + aged.bucket[k]
    flat = np.bincount(index, weights=aged.balance[k], minlength=groups * nb)
    return flat.reshape(groups, nb)


def written_off_between(book: BookAtDates, start: date, end: date) -> np.ndarray:
    """Which invoices were written off in (start, end]."""
    return (book.wo_day > start.toordinal()) & (book.wo_day <= end.toordinal())


def countback(
    receivables: np.ndarray, sales: np.ndarray, days: np.ndarray, first: int
) -> np.ndarray:
    """Days of sales in the receivables, walking back month by month from month index `first`:
    a month whose sales the balance covers counts in full, the last one pro rata. When the
    sales history runs out first, the days walked (a floor)."""
    left = receivables.astype(np.float64).copy()
    out = np.zeros(len(left))
    for j in range(first, sales.shape[1]):
        s = sales[:, j]
        full = left > s
        part = (left > 0) & ~full
        out += np.where(full, days[j], 0.0)
        out += np.where(part, days[j] * np.divide(left, s, out=np.zeros_like(left), where=s > 0), 0)
        left = np.where(full, left - s, 0.0)
        if not left.any():
            break
    return out


def simple_dso(receivables: np.ndarray, sales: np.ndarray, days: float) -> np.ndarray:
    """Receivables / the period's credit sales x the period's days (NaN without sales)."""
    r = receivables.astype(np.float64)
    out = np.full(len(r), np.nan)
    np.divide(r * days, sales, out=out, where=sales > 0)
    return np.where((r == 0) & ~(sales > 0), 0.0, out)


@dataclass(frozen=True)
class Series:
    """Per group (rows) and report month-end (columns, oldest first), amounts in cents."""

    dates: list[date]
    receivables: np.ndarray
    current: np.ndarray
    sales: np.ndarray
    written_off: np.ndarray
    buckets: np.ndarray  # (groups, dates, buckets)
    dso: np.ndarray
    dso_simple: np.ndarray
    bpdso: np.ndarray
    bpdso_simple: np.ndarray
    cei: np.ndarray

    @property
    def add(self) -> np.ndarray:
        """Average days delinquent: DSO - best-possible DSO (countback)."""
        return np.asarray(self.dso - self.bpdso)


def series(
    book: BookAtDates, sales: Sales, grouping: Grouping, buckets: Buckets, aged: Aged | None = None
) -> Series:
    """The month-end figures of every group. book.dates are the opening date and the report's
    month-ends, ascending (the last is the as-of date, month index 0 of `sales`)."""
    aged = aged or Aged.of(book, buckets)
    n, nb = len(grouping.labels), len(buckets)
    codes = grouping.codes[book.customer_id]
    months = len(book.dates) - 1
    by_month = sales.matrix(grouping)
    bal = np.stack([balances(aged, k, codes, n, nb) for k in range(months + 1)], axis=1)
    total = bal.sum(axis=2)
    current = bal[:, :, 0]
    wo = np.zeros((n, months))
    shape = (n, months)
    dso, dso_s, bp, bp_s, cei = (np.zeros(shape) for _ in range(5))
    sold = np.zeros(shape)
    for c in range(months):
        k = c + 1  # the month-end of report column c
        j = months - k  # its sales month index
        sold[:, c] = by_month[:, j]
        w = aged.written
        hit = w[written_off_between(book, book.dates[k - 1], book.dates[k])[w]]
        wo[:, c] = np.bincount(codes[hit], weights=book.written_off[hit], minlength=n)
        days = float(sales.days[j])
        dso[:, c] = countback(total[:, k], by_month, sales.days, j)
        bp[:, c] = countback(current[:, k], by_month, sales.days, j)
        dso_s[:, c] = simple_dso(total[:, k], by_month[:, j], days)
        bp_s[:, c] = simple_dso(current[:, k], by_month[:, j], days)
        opening = total[:, k - 1] + by_month[:, j]
        collected = opening - total[:, k] - wo[:, c]
        collectible = opening - current[:, k]
        out = np.full(n, np.nan)
        np.divide(collected * 100.0, collectible, out=out, where=collectible > 0)
        cei[:, c] = out
    return Series(
        dates=book.dates[1:],
        receivables=total[:, 1:],
        current=current[:, 1:],
        sales=sold,
        written_off=wo,
        buckets=bal[:, 1:, :],
        dso=dso,
        dso_simple=dso_s,
        bpdso=bp,
        bpdso_simple=bp_s,
        cei=cei,
    )


def roll_flows(book: BookAtDates, k: int, buckets: Buckets) -> np.ndarray:
    """Where the balance of each bucket on dates[k] sits on dates[k + 1] (cents): one row per
    bucket; columns: each bucket, collected, written off. A row sums to the bucket's balance."""
    on = np.flatnonzero(book.balance[:, k] > 0)
    now = book.balance[on, k]
    start, end = book.dates[k], book.dates[k + 1]
    wo_day = book.wo_day[on]
    wo = (wo_day > start.toordinal()) & (wo_day <= end.toordinal())
    written = np.where(wo, np.minimum(book.written_off[on], now), 0)
    stays = np.where(wo, 0, np.minimum(book.balance[on, k + 1], now))
    collected = now - stays - written
    due = book.due_day[on]
    b0 = buckets.index(np.maximum(start.toordinal() - due, 0))
    b1 = buckets.index(np.maximum(end.toordinal() - due, 0))
    nb = len(buckets)
    out = np.zeros((nb, nb + 2))
    out[:, :nb] = np.bincount(b0 * nb + b1, weights=stays, minlength=nb * nb).reshape(nb, nb)
    out[:, nb] = np.bincount(b0, weights=collected, minlength=nb)
    out[:, nb + 1] = np.bincount(b0, weights=written, minlength=nb)
    return out


def shares(flows: np.ndarray) -> np.ndarray:
    """Each row of a flow matrix as shares of its total (rows sum to 1; NaN for empty rows)."""
    total = flows.sum(axis=1, keepdims=True)
    out = np.full(flows.shape, np.nan)
    np.divide(flows, total, out=out, where=total > 0)
    return out

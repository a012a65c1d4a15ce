"""Orders, their invoices (the receivables file) and the transactions they make: orders,
payments paid early, on time, late, partly or never, and refunds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskcli.services.synthetic.arrays import (
    BoolArr,
    FloatArr,
    IntArr,
    expand,
    round_to,
    sigmoid,
)
from riskcli.services.synthetic.config import MAX_ORDERS_PER_CUSTOMER
from riskcli.services.synthetic.csvbytes import date_col, id_col, lut, money_col, rows
from riskcli.services.synthetic.drivers import History, Population, Profile


@dataclass(frozen=True)
class Orders:
    """One entry per order, sorted by customer and day, plus the per-customer order figures."""

    owner: IntArr  # the customer's position in the chunk
    rank: IntArr  # the order's rank among its customer's orders
    day: IntArr
    is_default: BoolArr  # the order that is never paid
    cents: IntArr
    per_customer: IntArr  # orders per customer
    size: FloatArr  # the customer's typical order, in yuan
    span: IntArr  # days the customer was active
    annual_volume: FloatArr  # yearly order value in cents at the customer's pace


@dataclass(frozen=True)
class Invoices:
    """One invoice per order (same order as Orders), plus who paid late and who defaulted."""

    due: IntArr
    paid_cents: IntArr
    paid_day: IntArr
    unpaid: BoolArr
    late_payer: BoolArr  # per customer: an invoice 31+ days past due (paid that late or open)
    defaulted: BoolArr  # per customer: an invoice 91+ days past due


def draw_orders(
    rng: np.random.Generator, pop: Population, transactions_per_customer: float
) -> Orders:
    """Pareto-like order sizes, frequency rising with size, spread over the active periods."""
    n, as_of, profile, history = len(pop), pop.as_of, pop.profile, pop.history
    size, span, counts = _order_counts(rng, profile, history, transactions_per_customer)
    owner, rank = expand(counts)
    day, is_default = _order_days(rng, history, owner, rank, counts, span, as_of)
    order = np.lexsort((day, owner))
    owner, day, is_default = owner[order], day[order], is_default[order]
    amount = (
        size[owner]
        * rng.lognormal(-0.18, 0.6, owner.shape[0])
        * np.exp(profile.order_trend[owner] * (day - as_of) / 365.0)
        * np.where(is_default, 2.0, 1.0)
    )
    cents = np.where(
        rng.random(owner.shape[0]) < 0.7, round_to(amount * 100, 100), round_to(amount * 100, 1)
    )
    cents = np.maximum(cents, 100)
    return Orders(
        owner=owner,
        rank=rank,
        day=day,
        is_default=is_default,
        cents=cents,
        per_customer=np.bincount(owner, minlength=n).astype(np.int64),
        size=size,
        span=span,
        annual_volume=np.bincount(owner, weights=cents, minlength=n) / np.maximum(span, 90) * 365,
    )


def _order_counts(
    rng: np.random.Generator, profile: Profile, history: History, transactions_per_customer: float
) -> tuple[FloatArr, IntArr, IntArr]:
    """(typical order size, active days, number of orders) per customer."""
    n = len(profile.company)
    company, h = profile.company, history
    size = np.where(
        company,
        np.minimum(6_000.0 * (1.0 + rng.pareto(1.6, n)), 1_500_000.0),
        np.minimum(400.0 * (1.0 + rng.pareto(2.0, n)), 50_000.0),
    )
    span = (h.b1 - h.a1 + 1) + np.where(h.a2 >= 0, h.b2 - h.a2 + 1, 0)
    freq_weight = np.clip((size / np.where(company, 6_000.0, 400.0)) ** 0.3, 1.0, 8.0)
    freq_weight = freq_weight * rng.lognormal(-0.125, 0.5, n)
    k_orders = max(transactions_per_customer / 1.95 / 0.94 - 1.0, 0.0)
    lam = k_orders * freq_weight / 1.25 * (span / 620.0)
    counts = np.where(h.prospect, 0, 1 + rng.poisson(np.minimum(lam, MAX_ORDERS_PER_CUSTOMER)))
    if transactions_per_customer == 0:
        counts[:] = 0
    counts = counts + (h.defaulter & (counts > 0))  # the order that is never paid
    return size, span, counts


def _order_days(
    rng: np.random.Generator,
    history: History,
    owner: IntArr,
    rank: IntArr,
    counts: IntArr,
    span: IntArr,
    as_of: int,
) -> tuple[IntArr, BoolArr]:
    """(day, is the default order) per order: spread over the active periods, the defaulter's
    last order on the default day."""
    h = history
    len1 = (h.b1 - h.a1 + 1)[owner]
    u = (rng.random(owner.shape[0]) * span[owner]).astype(np.int64)
    day = np.where(u < len1, h.a1[owner] + u, h.a2[owner] + (u - len1))
    is_default = h.defaulter[owner] & (rank == counts[owner] - 1)
    day = np.where(is_default, h.t_def[owner], day)
    # the first and last regular orders mark the ends of the active period
    regular = (counts - h.defaulter)[owner]
    ends = np.where(h.a2 >= 0, h.b2, h.b1)[owner]
    day = np.where((regular >= 2) & (rank == 0), h.a1[owner], day)
    day = np.where((regular >= 2) & (rank == regular - 1), ends, day)
    return np.minimum(day, as_of), is_default


def draw_invoices(rng: np.random.Generator, pop: Population, orders: Orders) -> Invoices:
    """One invoice per order, due after the customer's terms: paid early, on time, late, partly
    or never, the late ones more often for riskier customers and near a default."""
    n, as_of, profile, history = len(pop), pop.as_of, pop.profile, pop.history
    owner, cents = orders.owner, orders.cents
    due = orders.day + history.terms[owner]
    paid_day = due + _delays(rng, profile, history, orders)
    paid_cents, paid_day = _shortfalls(rng, profile, history, orders, due, paid_day, as_of)
    paid_cents = np.minimum(paid_cents, cents)
    future = paid_day > as_of
    paid_cents[future] = 0
    unpaid = paid_cents == 0
    paid_day = np.maximum(paid_day, orders.day)
    open_cents = cents - paid_cents
    dpd = np.where(open_cents > 0, as_of - due, paid_day - due)
    return Invoices(
        due=due,
        paid_cents=paid_cents,
        paid_day=paid_day,
        unpaid=unpaid,
        late_payer=np.bincount(owner, weights=(dpd > 30), minlength=n) > 0,
        defaulted=np.bincount(owner, weights=(dpd > 90), minlength=n) > 0,
    )


def _delays(rng: np.random.Generator, profile: Profile, history: History, orders: Orders) -> IntArr:
    """Days paid after the due date (negative: early), at most 85."""
    n = len(profile.company)
    owner = orders.owner
    terms = history.terms
    risk_o = profile.risk[owner]
    late_p = sigmoid(1.35 * risk_o - 1.4 + 0.6 * rng.normal(0.0, 1.0, n)[owner])
    late_mean = 7.0 + 16.0 * sigmoid(risk_o)
    near_default = orders.day >= history.t_def[owner] - 150
    late_p = np.where(near_default, np.maximum(late_p, 0.5), late_p)
    late_mean = np.where(near_default, late_mean + 20.0, late_mean)
    late = rng.random(owner.shape[0]) < late_p
    delay = np.where(
        late,
        1 + rng.exponential(late_mean),
        -rng.random(owner.shape[0]) * terms[owner] * 0.5,
    ).astype(np.int64)
    too_late = delay > 85
    delay[too_late] = 31 + rng.integers(0, 55, int(too_late.sum()))
    return delay


def _shortfalls(
    rng: np.random.Generator,
    profile: Profile,
    history: History,
    orders: Orders,
    due: IntArr,
    paid_day: IntArr,
    as_of: int,
) -> tuple[IntArr, IntArr]:
    """(paid cents, paid day) once defaults and distress have left invoices unpaid or partly
    paid; paid_day is updated in place."""
    owner, cents = orders.owner, orders.cents
    risk_o = profile.risk[owner]
    paid_cents = cents.copy()
    # defaulted: invoices issued from shortly before the default day stay (mostly) unpaid
    gone = orders.day >= history.t_def[owner] - 25
    partial_default = gone & (rng.random(owner.shape[0]) < 0.2)
    paid_cents[gone] = 0
    paid_cents[partial_default] = round_to(
        cents[partial_default] * rng.uniform(0.1, 0.6, int(partial_default.sum())), 100
    )
    paid_day[gone] = due[gone] + rng.integers(10, 120, int(gone.sum()))
    # distress near the as-of date: partial payments on recent invoices of risky customers
    recent = (~gone) & (due > as_of - 75)
    partial = recent & (rng.random(owner.shape[0]) < 0.25 * sigmoid(2.0 * risk_o - 2.0))
    paid_cents[partial] = round_to(cents[partial] * rng.uniform(0.3, 0.9, int(partial.sum())), 100)
    paid_day[partial] = due[partial] + rng.integers(0, 20, int(partial.sum()))
    return paid_cents, paid_day


def transactions_csv(
    rng: np.random.Generator, pop: Population, orders: Orders, invoices: Invoices
) -> tuple[bytes, int]:
    """The transactions file's rows (orders, payments and refunds by customer and day) and
    their count."""
    n, as_of, cust_no, cust_id = len(pop), pop.as_of, pop.cust_no, pop.cust_id
    owner, cents, unpaid = orders.owner, orders.cents, invoices.unpaid
    refund = (rng.random(owner.shape[0]) < 0.03) & (~orders.is_default)
    refund_day = orders.day + rng.integers(3, 41, owner.shape[0])
    refund &= refund_day <= as_of
    refund_cents = round_to(cents * rng.uniform(0.05, 1.0, owner.shape[0]), 100)
    refund_cents = np.clip(refund_cents, 100, cents)
    t_owner = np.concatenate([owner, owner[~unpaid], owner[refund]])
    t_day = np.concatenate([orders.day, invoices.paid_day[~unpaid], refund_day[refund]])
    t_kind = np.concatenate(
        [
            np.zeros(owner.shape[0], np.int64),
            np.ones(int((~unpaid).sum()), np.int64),
            np.full(int(refund.sum()), 2, np.int64),
        ]
    )
    t_cents = np.concatenate([cents, invoices.paid_cents[~unpaid], refund_cents[refund]])
    t_order = np.lexsort((t_kind, t_day, t_owner))
    t_owner, t_day, t_kind, t_cents = (
        t_owner[t_order],
        t_day[t_order],
        t_kind[t_order],
        t_cents[t_order],
    )
    _, t_rank = expand(np.bincount(t_owner, minlength=n).astype(np.int64))
    data = rows(
        [
            id_col("T", cust_no[t_owner] * 10_000 + t_rank + 1, 12),
            cust_id[t_owner],
            lut(["order", "payment", "refund"])[t_kind],
            date_col(t_day),
            money_col(t_cents),
        ]
    )
    return data, int(t_owner.shape[0])


def receivables_csv(pop: Population, orders: Orders, invoices: Invoices) -> bytes:
    """The receivables file's rows: one invoice per order."""
    owner, cust_no, cust_id = orders.owner, pop.cust_no, pop.cust_id
    return rows(
        [
            id_col("INV", cust_no[owner] * 10_000 + orders.rank + 1, 12),
            cust_id[owner],
            date_col(orders.day),
            date_col(invoices.due),
            money_col(orders.cents),
            money_col(invoices.paid_cents),
            date_col(invoices.paid_day, invoices.unpaid),
        ]
    )

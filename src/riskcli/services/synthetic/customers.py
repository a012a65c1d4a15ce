"""The customers file: each customer's identity, kind, industry, region, registration, credit
limit, account owner and status."""

from __future__ import annotations

import numpy as np

from riskcli.services.synthetic.arrays import IntArr, round_to
from riskcli.services.synthetic.csvbytes import date_col, lut, money_col, rows
from riskcli.services.synthetic.drivers import History, Population, Profile
from riskcli.services.synthetic.identity import emails, ids, names, phones
from riskcli.services.synthetic.orders import Invoices, Orders
from riskcli.services.synthetic.vocab import (
    ACCOUNT_OWNERS,
    BRANDS,
    CITIES,
    GIVEN,
    INDUSTRIES,
    REGIONS,
    SURNAMES,
)


def customers_csv(
    rng: np.random.Generator, pop: Population, orders: Orders, invoices: Invoices
) -> bytes:
    """The customers file's rows, one per customer of the chunk."""
    n, cust_no, profile, history = len(pop), pop.cust_no, pop.profile, pop.history
    company, industry, city = profile.company, profile.industry, profile.city
    credit_limit = _credit_limits(rng, profile, history, orders)
    surname = rng.integers(0, len(SURNAMES), n)
    given = rng.integers(0, len(GIVEN), n)
    brand = rng.integers(0, len(BRANDS), n)
    status = _statuses(rng, history, invoices)
    return rows(  # the columns below draw from rng left to right: keep their order
        [
            pop.cust_id,
            names(rng, company, industry, city, CITIES, surname, given, brand),
            lut(["company", "individual"])[np.where(company, 0, 1)],
            lut([name for name, _, _ in INDUSTRIES])[industry],
            lut([name for name, _, _, _ in REGIONS])[profile.region],
            phones(rng, cust_no),
            emails(rng, company, cust_no, surname, given, brand),
            ids(company, city, CITIES, cust_no, pop.as_of),
            date_col(history.reg_day),
            money_col(credit_limit),
            lut(ACCOUNT_OWNERS)[rng.integers(0, len(ACCOUNT_OWNERS), n)],
            lut(["active", "suspended", "closed"])[status],
        ]
    )


def _credit_limits(
    rng: np.random.Generator, profile: Profile, history: History, orders: Orders
) -> IntArr:
    """Limits in cents, rounded down to 10,000 yuan (companies) or 1,000 yuan (individuals).

    A limit covers the open invoices of the payment terms plus headroom; customers who like to
    buy up to their limit (use_propensity) get less headroom.
    """
    n = len(profile.company)
    size = orders.size
    monthly = np.where(orders.per_customer > 0, orders.annual_volume, size * 100 * 4) / 12
    need = np.maximum(monthly * (history.terms / 30 + 1.0), size * 100 * 1.5)
    headroom = np.exp(0.75 - 1.5 * (profile.use_propensity - 0.4) + rng.normal(0.0, 0.25, n))
    step = np.where(profile.company, 1_000_000, 100_000)  # 10,000 or 1,000 yuan
    limit: IntArr = np.maximum(round_to(need * headroom, 1) // step * step, step)
    return limit


def _statuses(rng: np.random.Generator, history: History, invoices: Invoices) -> IntArr:
    """0 active, 1 suspended (most defaulters, a few others), 2 closed (some churned)."""
    n = len(history.pattern)
    status = np.zeros(n, dtype=np.int64)  # active
    status[invoices.defaulted & (rng.random(n) < 0.6)] = 1  # suspended
    status[(history.pattern == 5) & (rng.random(n) < 0.35)] = 2  # closed
    status[(status == 0) & (rng.random(n) < 0.01)] = 1
    return status

"""The hidden drivers of each customer's book: who they are, the observable and hidden parts of
their risk, their lifecycle (when they were active) and whether and when they default.

One latent risk per customer drives what a credit team would see: weaker balance sheets,
shrinking revenue and orders, younger businesses, riskier industries and regions go with late
payments and defaults. A hidden part of the risk is never observable, so a scorecard learns it
well but not perfectly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskcli.services.synthetic.arrays import BoolArr, Bytes2D, FloatArr, IntArr, choice, sigmoid
from riskcli.services.synthetic.config import HISTORY_DAYS
from riskcli.services.synthetic.csvbytes import id_col
from riskcli.services.synthetic.vocab import (
    INDUSTRIES,
    REGION_CITY_COUNT,
    REGION_CITY_START,
    REGIONS,
)


@dataclass(frozen=True)
class Profile:
    """Who each customer is and what drives their risk (one entry per customer)."""

    company: BoolArr  # a company, else an individual
    industry: IntArr  # index into INDUSTRIES
    region: IntArr  # index into REGIONS
    city: IntArr  # index into CITIES
    years: FloatArr  # years in business
    debt_ratio: FloatArr
    current_ratio: FloatArr
    growth: FloatArr  # yearly revenue growth
    order_trend: FloatArr  # yearly drift of order sizes
    use_propensity: FloatArr  # how close to the credit limit the customer likes to buy
    risk: FloatArr  # the latent risk, about N(0, 1)
    default_probability: FloatArr


@dataclass(frozen=True)
class History:
    """When each customer registered, was active and, for defaulters, defaulted (day numbers)."""

    pattern: IntArr  # 0 prospect, 1 new, 2 active, 3 at risk, 4 dormant, 5 churned, 6 won back
    prospect: BoolArr
    reg_day: IntArr
    a1: IntArr  # first active period [a1, b1]
    b1: IntArr
    a2: IntArr  # a second active period [a2, b2] of the won back; -1 when none
    b2: IntArr
    last_active: IntArr  # end of the last active period, before a default cut it short
    terms: IntArr  # payment terms in days
    defaulter: BoolArr
    t_def: IntArr  # the default day; far past the as-of date for those who never default


@dataclass(frozen=True)
class Population:
    """A chunk's customers: their numbers and ids, the as-of day, profiles and histories."""

    cust_no: IntArr
    cust_id: Bytes2D  # C00000001, ...
    as_of: int  # day number
    profile: Profile
    history: History

    def __len__(self) -> int:
        return len(self.cust_no)


@dataclass(frozen=True)
class _Periods:
    pattern: IntArr
    reg_day: IntArr
    a1: IntArr
    b1: IntArr
    a2: IntArr
    b2: IntArr


def draw_population(rng: np.random.Generator, first: int, n: int, as_of: int) -> Population:
    """Customers first+1 .. first+n: who they are, then what happens to them."""
    cust_no = np.arange(first + 1, first + n + 1, dtype=np.int64)
    profile = draw_profile(rng, n)
    history = draw_history(rng, profile, as_of)
    return Population(cust_no, id_col("C", cust_no, 8), as_of, profile, history)


def draw_profile(rng: np.random.Generator, n: int) -> Profile:
    """Kind, industry, region, age of the business, financial ratios and the latent risk."""
    company = rng.random(n) < 0.68
    industry = choice(rng, n, [s for _, _, s in INDUSTRIES])
    region = choice(rng, n, [s for _, _, s, _ in REGIONS])
    city_of_region = rng.integers(0, 6, n)
    city = REGION_CITY_START[region] + city_of_region % REGION_CITY_COUNT[region]
    years = np.where(
        company, rng.lognormal(np.log(8.0), 0.75, n), rng.lognormal(np.log(4.0), 0.7, n)
    )
    years = np.clip(years, 0.3, 45.0)

    debt_ratio = 0.08 + 0.9 * rng.beta(2.5, 2.5, n)
    current_ratio = rng.lognormal(np.log(1.4), 0.35, n)
    growth = rng.normal(0.05, 0.15, n)
    order_trend = 0.5 * growth + rng.normal(-0.02, 0.12, n)
    use_propensity = rng.beta(2.0, 3.0, n)
    ind_risk = np.array([r for _, r, _ in INDUSTRIES])[industry]
    reg_risk = np.array([r for _, r, _, _ in REGIONS])[region]
    observable = (
        ind_risk
        + reg_risk
        - 0.40 * np.log(years / 8.0)
        - 1.6 * order_trend
        + 1.6 * (use_propensity - 0.4)
        + np.where(
            company,
            2.6 * (debt_ratio - 0.53) - 1.0 * np.log(current_ratio / 1.4) - 2.2 * (growth - 0.05),
            0.35 * rng.normal(0.0, 1.0, n),  # individuals have no statements to read
        )
    )
    hidden = rng.normal(0.0, 1.0, n)
    risk = (observable / 0.95 + 0.75 * hidden) / 1.25  # ~N(0, 1), about 64% of it observable
    return Profile(
        company=company,
        industry=industry,
        region=region,
        city=city,
        years=years,
        debt_ratio=debt_ratio,
        current_ratio=current_ratio,
        growth=growth,
        order_trend=order_trend,
        use_propensity=use_propensity,
        risk=risk,
        default_probability=sigmoid(-3.35 + 1.35 * risk),
    )


def draw_history(rng: np.random.Generator, profile: Profile, as_of: int) -> History:
    """Each customer's lifecycle pattern and active periods, then who defaults and when."""
    return _defaults(rng, profile, _active_periods(rng, profile, as_of), as_of)


def _active_periods(rng: np.random.Generator, profile: Profile, as_of: int) -> _Periods:
    n = len(profile.company)
    company = profile.company
    w0 = as_of - HISTORY_DAYS
    pattern = choice(rng, n, [0.06, 0.05, 0.52, 0.08, 0.09, 0.13, 0.07])
    reg_day = (as_of - profile.years * 365.25).astype(np.int64)
    person_new = (~company) & ((pattern == 0) | (pattern == 1))
    reg_day = np.where(person_new, as_of - rng.integers(20, 200, n), reg_day)
    s0 = np.maximum(w0, reg_day + 7)
    room = np.maximum(as_of - 120 - s0, 0)
    a1 = s0 + np.minimum(rng.exponential(160.0, n), room).astype(np.int64)
    b1 = as_of - rng.exponential(20.0, n).astype(np.int64)
    a2 = np.full(n, -1, dtype=np.int64)
    b2 = np.full(n, -1, dtype=np.int64)
    m = pattern == 1
    a1[m] = as_of - rng.integers(5, 91, int(m.sum()))
    b1[m] = np.maximum(a1[m], as_of - rng.integers(0, 10, int(m.sum())))
    m = pattern == 3
    b1[m] = as_of - rng.integers(60, 180, int(m.sum()))
    m = pattern == 4
    b1[m] = as_of - rng.integers(180, 365, int(m.sum()))
    m = pattern == 5
    b1[m] = as_of - rng.integers(365, HISTORY_DAYS - 60, int(m.sum()))
    a1[m] = s0[m] + (rng.random(int(m.sum())) * np.maximum(b1[m] - s0[m], 0) * 0.6).astype(np.int64)
    m = pattern == 6
    k = int(m.sum())
    b1[m] = a1[m] + rng.integers(60, 400, k)
    a2[m] = b1[m] + rng.integers(200, 450, k)
    b2[m] = as_of - rng.integers(0, 30, k)
    fits = a2 < as_of - 30
    a2[m & ~fits], b2[m & ~fits] = -1, -1
    a1 = np.minimum(np.maximum(a1, s0), as_of - 1)  # never before registration
    b1 = np.clip(b1, a1, as_of)
    return _Periods(pattern=pattern, reg_day=reg_day, a1=a1, b1=b1, a2=a2, b2=b2)


def _defaults(rng: np.random.Generator, profile: Profile, periods: _Periods, as_of: int) -> History:
    """Defaulters drawn from their probability, the default day early enough to be 90+ days
    late by the as-of date; a default ends the customer's active periods."""
    n = len(profile.company)
    company = profile.company
    a1, b1, a2, b2 = periods.a1, periods.b1, periods.a2, periods.b2
    prospect = periods.pattern == 0
    terms = np.where(
        company,
        np.array([30, 45, 60, 90])[choice(rng, n, [0.4, 0.2, 0.3, 0.1])],
        np.array([7, 15, 30])[choice(rng, n, [0.3, 0.3, 0.4])],
    )
    last_active = np.where(a2 >= 0, b2, b1)
    latest_default = np.minimum(last_active, as_of - 92 - terms)
    can_default = (~prospect) & (latest_default > a1 + 30)
    defaulter = can_default & (rng.random(n) < profile.default_probability)
    t_def = a1 + 30 + (rng.random(n) * np.maximum(latest_default - a1 - 30, 0)).astype(np.int64)
    t_def = np.where(defaulter, t_def, as_of + 10_000)
    b1 = np.where(defaulter, np.minimum(b1, t_def), b1)
    second = (a2 >= 0) & (a2 < t_def)
    a2 = np.where(second, a2, -1)
    b2 = np.where(second, np.minimum(b2, t_def), -1)
    return History(
        pattern=periods.pattern,
        prospect=prospect,
        reg_day=periods.reg_day,
        a1=a1,
        b1=b1,
        a2=a2,
        b2=b2,
        last_active=last_active,
        terms=terms,
        defaulter=defaulter,
        t_def=t_def,
    )

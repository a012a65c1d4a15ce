"""The customer's other records: credit bureau reports, contracts, interactions and financial
statements, each following the customer's risk and history."""

from __future__ import annotations

import numpy as np

from riskcli.services.synthetic.arrays import (
    BoolArr,
    Bytes2D,
    FloatArr,
    IntArr,
    choice,
    expand,
    round_to,
    sigmoid,
)
from riskcli.services.synthetic.config import HISTORY_DAYS
from riskcli.services.synthetic.csvbytes import date_col, digits, id_col, lut, money_col, rows
from riskcli.services.synthetic.drivers import Population
from riskcli.services.synthetic.orders import Orders
from riskcli.services.synthetic.vocab import (
    COMPANY_PROVIDERS,
    INTERACTION_KINDS,
    NOTES,
    PERSON_PROVIDERS,
    RATING_CUTS,
    RATINGS,
)


def credit_reports(rng: np.random.Generator, pop: Population) -> tuple[bytes, int]:
    """Bureau reports, about one a year: scores that see most of the risk, a rating, adverse
    flags, all worse after a default. Returns the rows and their count."""
    profile, history, as_of, cust_id = pop.profile, pop.history, pop.as_of, pop.cust_id
    company, risk, reg_day = profile.company, profile.risk, history.reg_day
    defaulter, t_def = history.defaulter, history.t_def
    n = len(company)
    count = np.where(
        company,
        choice(rng, n, [0.15, 0.35, 0.3, 0.2]),
        choice(rng, n, [0.45, 0.4, 0.15]),
    )
    count = np.minimum(count, 1 + (as_of - reg_day) // 365)  # none before registration
    owner, rank = expand(count)
    back = count[owner] - 1 - rank  # 0 = latest report
    day = as_of - rng.integers(0, 330, n)[owner] - back * 365 - rng.integers(-45, 45, owner.size)
    # one report per provider and day: a customer's reports are kept a day apart at least
    # (clipping to registration and as-of day could otherwise put two on one day)
    day = np.clip(day, reg_day[owner] + rank, as_of - back)
    after = defaulter[owner] & (day > t_def[owner])
    # the bureau sees most of the risk, including part a scorecard cannot see elsewhere
    bureau = 0.8 * risk + 0.6 * rng.normal(0.0, 1.0, n)
    score = 660 - 70 * bureau[owner] + rng.normal(0.0, 15.0, owner.size) - 50 * after
    score = np.clip(np.round(score), 300, 900).astype(np.int64)
    rating = np.searchsorted(-np.array(RATING_CUTS), -score, side="right")
    r = risk[owner]
    flags = [
        rng.random(owner.size) < sigmoid(-3.3 + 1.1 * r + 1.5 * after),  # lawsuit
        rng.random(owner.size) < 0.0005 + 0.07 * after,  # bankruptcy
        rng.random(owner.size) < sigmoid(-4.6 + 0.9 * r),  # tax violation
        rng.random(owner.size) < sigmoid(-6.0 + 1.0 * r) + 0.15 * after,  # dishonest debtor
        rng.random(owner.size) < 0.01,  # other
    ]
    provider = np.where(
        company,
        rng.integers(0, len(COMPANY_PROVIDERS), n),
        len(COMPANY_PROVIDERS) + rng.integers(0, len(PERSON_PROVIDERS), n),
    )
    zero_one = lut(["0", "1"])
    data = rows(
        [
            cust_id[owner],
            lut(COMPANY_PROVIDERS + PERSON_PROVIDERS)[provider[owner]],
            date_col(day),
            digits(score, 3),
            lut(RATINGS)[rating],
            *(zero_one[f.astype(np.int64)] for f in flags),
        ]
    )
    return data, int(owner.size)


def contracts(rng: np.random.Generator, pop: Population, orders: Orders) -> tuple[bytes, int]:
    """Supply contracts over the active periods, drafts for prospects, a renewal wave due soon.
    Returns the rows and their count."""
    history, as_of, cust_no, cust_id = pop.history, pop.as_of, pop.cust_no, pop.cust_id
    company, annual_volume = pop.profile.company, orders.annual_volume
    prospect, a1, last_active = history.prospect, history.a1, history.last_active
    t_def, reg_day = history.t_def, history.reg_day
    n = len(company)
    count = np.where(company, choice(rng, n, [0.25, 0.45, 0.2, 0.1]), choice(rng, n, [0.7, 0.3]))
    count = np.where(prospect, (rng.random(n) < 0.1).astype(np.int64), count)
    owner, rank = expand(count)
    k = owner.size
    lo = np.maximum(np.minimum(a1[owner] - 30, as_of - 40), reg_day[owner])
    hi = np.maximum(lo + 1, np.minimum(last_active[owner], as_of - 10))
    signed = lo + (rng.random(k) * (hi - lo)).astype(np.int64)
    draft = prospect[owner] | (rng.random(k) < 0.02)
    signed = np.where(draft, as_of - rng.integers(0, 20, k), signed)
    start = signed + rng.integers(0, 21, k) + np.where(draft, 20, 0)
    years = np.array([1, 2, 3])[choice(rng, k, [0.5, 0.3, 0.2])]
    end = start + years * 365 - 1
    # a renewal wave: some live contracts end within the next three months
    soon_end = as_of + rng.integers(5, 91, k)
    soon_start = soon_end - years * 365 + 1
    soon_signed = soon_start - rng.integers(0, 21, k)
    soon = (~draft) & (end >= as_of) & (rng.random(k) < 0.2) & (soon_signed >= reg_day[owner])
    signed = np.where(soon, soon_signed, signed)
    start = np.where(soon, soon_start, start)
    end = np.where(soon, soon_end, end)
    order = np.lexsort((signed, owner))
    owner, signed, start, end, years, draft = (
        owner[order],
        signed[order],
        start[order],
        end[order],
        years[order],
        draft[order],
    )
    status = _contract_statuses(rng, end, draft, t_def[owner], as_of)
    volume = np.maximum(annual_volume[owner], 5_000_000.0)
    value = round_to(volume * years * rng.uniform(0.6, 1.4, k), 10_000)
    data = rows(
        [
            id_col("HT", cust_no[owner] * 100 + rank + 1, 10),
            cust_id[owner],
            date_col(signed),
            date_col(start),
            date_col(end),
            money_col(value),
            lut(["draft", "active", "amended", "terminated", "expired"])[status],
        ]
    )
    return data, int(k)


def _contract_statuses(
    rng: np.random.Generator, end: IntArr, draft: BoolArr, t_def: IntArr, as_of: int
) -> IntArr:
    """0 draft, 1 active, 2 amended, 3 terminated (some after a default), 4 expired."""
    k = len(end)
    status = np.where(end < as_of, 4, 1)
    status = np.where((status == 4) & (rng.random(k) < 0.15), 3, status)
    defaulted_live = (status == 1) & (t_def < as_of) & (rng.random(k) < 0.5)
    status = np.where(defaulted_live, 3, status)
    status = np.where((status == 1) & (rng.random(k) < 0.1), 2, status)
    out: IntArr = np.where(draft, 0, status)
    return out


def interactions(rng: np.random.Generator, pop: Population) -> tuple[bytes, int]:
    """Calls, emails, visits, surveys and complaints, with a satisfaction that falls with risk
    and churn. Returns the rows and their count."""
    history, as_of, cust_no, cust_id = pop.history, pop.as_of, pop.cust_no, pop.cust_id
    company, risk = pop.profile.company, pop.profile.risk
    pattern, a1, reg_day = history.pattern, history.a1, history.reg_day
    count = np.minimum(rng.poisson(np.where(company, 2.6, 1.2)), 30).astype(np.int64)
    owner, rank = expand(count)
    k = owner.size
    churny = np.isin(pattern, (3, 4, 5))[owner]
    complaint_share = 0.06 + 0.06 * sigmoid(risk[owner]) + 0.06 * churny
    shares = np.stack(
        [
            np.full(k, 0.36),
            np.full(k, 0.26),
            np.where(company[owner], 0.16, 0.04),
            np.full(k, 0.14),
            complaint_share,
        ],
        axis=1,
    )
    cum = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    kind = (rng.random(k)[:, None] > cum).sum(axis=1).astype(np.int64)
    kind = np.minimum(kind, 4)
    start = np.maximum(np.minimum(a1[owner], reg_day[owner]), as_of - HISTORY_DAYS) - 30
    start = np.minimum(start, as_of - 1)
    day = start + (rng.random(k) * (as_of - start)).astype(np.int64)
    day = np.maximum(day, reg_day[owner])
    day = np.minimum(day, as_of)
    order = np.lexsort((day, owner))
    owner, kind, day, churny = owner[order], kind[order], day[order], churny[order]
    mood = 4.1 - 0.45 * risk[owner] - 0.6 * churny + rng.normal(0.0, 0.8, k)
    mood = np.where(kind == 4, mood - 2.0, mood)
    satisfaction = np.clip(np.round(mood), 1, 5).astype(np.int64)
    rated = (kind == 3) | (kind == 4) | ((kind != 1) & (rng.random(k) < 0.4))
    note_flat = [note for notes in NOTES for note in notes]
    note_start = np.cumsum([0] + [len(x) for x in NOTES])[:-1]
    note_count = np.array([len(x) for x in NOTES])
    note = note_start[kind] + rng.integers(0, 100, k) % note_count[kind]
    data = rows(
        [
            id_col("IX", cust_no[owner] * 100 + rank + 1, 10),
            cust_id[owner],
            lut(INTERACTION_KINDS)[kind],
            date_col(day),
            digits(satisfaction, 1) * rated[:, None],
            lut(note_flat)[note],
        ]
    )
    return data, int(k)


def financials(rng: np.random.Generator, pop: Population, orders: Orders) -> tuple[bytes, int]:
    """Two or three years of statements for most companies, their ratios following the
    customer's drivers. Returns the rows and their count."""
    profile, as_of, cust_id = pop.profile, pop.as_of, pop.cust_id
    company, risk, reg_day = profile.company, profile.risk, pop.history.reg_day
    annual_volume, size = orders.annual_volume, orders.size
    debt_ratio, current_ratio, growth = profile.debt_ratio, profile.current_ratio, profile.growth
    n = len(company)
    has = company & (rng.random(n) < 0.9)
    as_of_date = np.datetime64(as_of, "D").astype(object)
    last_year = as_of_date.year - 1 if as_of_date.month >= 5 else as_of_date.year - 2
    periods = np.where(has, np.where(rng.random(n) < 0.8, 3, 2), 0)
    reg_year = reg_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    periods = np.clip(np.minimum(periods, last_year - reg_year + 1), 0, None)
    owner, rank = expand(periods)
    k = owner.size
    back = periods[owner] - 1 - rank  # 0 = latest year
    year = last_year - back
    # revenue: we are one supplier among several; the oldest period grows into the latest
    base = np.maximum(annual_volume, size * 100 * 6) * rng.uniform(3.0, 15.0, n)
    revenue = base[owner] * np.exp(-growth[owner] * back + rng.normal(0.0, 0.04, k))
    assets = revenue * rng.lognormal(np.log(0.9), 0.4, n)[owner]
    dr = np.clip(
        debt_ratio[owner] + rng.normal(0.0, 0.03, k) + 0.02 * back * risk[owner], 0.05, 1.3
    )
    liabilities = assets * dr
    current_liabilities = liabilities * rng.uniform(0.45, 0.9, n)[owner]
    cr = current_ratio[owner] * np.exp(rng.normal(0.0, 0.05, k))
    current_assets = np.minimum(current_liabilities * cr, assets * 0.95)
    margin = rng.normal(0.06, 0.04, n)[owner] - 0.03 * risk[owner] + rng.normal(0.0, 0.015, k)
    net_income = revenue * margin

    def money(x: FloatArr) -> Bytes2D:
        return money_col(round_to(x, 100))

    data = rows(
        [
            cust_id[owner],
            digits(year.astype(np.int64), 4),
            money(revenue),
            money(net_income),
            money(assets),
            money(liabilities),
            money(current_assets),
            money(current_liabilities),
        ]
    )
    return data, int(k)

"""A labelled credit table with a known ground truth, for the tests and benchmarks.

A latent log-odds of default is a sum of documented, mostly monotonic but non-linear effects of
observable factors (plus noise factors with no effect, a factor correlated with another, missing
values and a special code); the outcome is drawn from it. The true log-odds is returned too, so
the best achievable AUC on the sample is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.storage.store import Store

INDUSTRIES = {
    "construction": 0.6, "retail": 0.3, "wholesale": 0.1, "manufacturing": 0.0,
    "logistics": 0.2, "software": -0.3, "healthcare": -0.4, "utilities": -0.6,
}  # fmt: skip
REGIONS = {"north": -0.1, "south": 0.1, "east": -0.2, "west": 0.3, "central": 0.0}


def credit_frame(
    n: int, seed: int = 0, *, n_noise: int = 6, bad_rate: float = 0.10
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(factors, outcome 0/1 with 1 = bad, true log-odds). 14 + n_noise columns."""
    rng = np.random.default_rng(seed)
    years = rng.gamma(2.0, 4.0, n)
    debt_ratio = np.clip(rng.beta(2, 3, n) * 1.4, 0, None)
    current_ratio = np.exp(rng.normal(0.3, 0.5, n))
    revenue_trend = rng.normal(0.03, 0.2, n)
    late_count = rng.poisson(np.exp(rng.normal(-0.3, 1.0, n)))
    worst_dpd = np.where(late_count > 0, rng.gamma(1.5, 20, n) * (1 + 0.3 * late_count), 0.0)
    avg_dpd = worst_dpd * rng.uniform(0.2, 0.7, n)  # correlated with worst_dpd
    utilisation = np.clip(rng.beta(2, 2.5, n) * 1.3, 0, None)
    tenure = np.minimum(years * 12, rng.gamma(2, 20, n))
    order_trend = rng.normal(0.0, 0.25, n)
    bureau = np.clip(rng.normal(650, 80, n) - 2 * worst_dpd, 300, 850)
    adverse = (rng.random(n) < 0.03).astype(float)
    industry = rng.choice(list(INDUSTRIES), n, p=[0.15, 0.2, 0.15, 0.2, 0.1, 0.08, 0.07, 0.05])
    region = rng.choice(list(REGIONS), n)

    logit = (
        -0.9 * np.log1p(years) / np.log(10)
        + 1.6 * np.clip(debt_ratio - 0.5, 0, None)
        - 0.5 * np.log(current_ratio)
        - 1.2 * np.clip(revenue_trend, -0.5, 0.3)
        + 0.9 * np.sqrt(np.minimum(worst_dpd, 180) / 30)
        + 0.25 * np.minimum(late_count, 6)
        + 1.2 * np.clip(utilisation - 0.7, 0, None)
        - 0.8 * np.clip(order_trend, -0.4, 0.4)
        - 0.008 * (bureau - 650)
        + 1.5 * adverse
        + np.vectorize(INDUSTRIES.get)(industry)
        + np.vectorize(REGIONS.get)(region)
    )
    logit = logit - np.quantile(logit, 1 - bad_rate) * 0.0
    # shift the intercept so that the bad rate is about `bad_rate`
    lo, hi = -20.0, 20.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) > bad_rate:
            hi = mid
        else:
            lo = mid
    logit = logit + (lo + hi) / 2
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)

    frame = pd.DataFrame(
        {
            "years_in_business": np.round(years, 2),
            "debt_ratio": np.round(debt_ratio, 4),
            "current_ratio": np.round(current_ratio, 3),
            "revenue_trend": np.round(revenue_trend, 4),
            "worst_dpd_12m": np.round(worst_dpd),
            "avg_dpd_12m": np.round(avg_dpd, 1),
            "late_invoices_12m": late_count,
            "utilisation": np.round(utilisation, 4),
            "tenure_months": np.round(tenure),
            "order_trend": np.round(order_trend, 4),
            "bureau_score": np.round(bureau),
            "adverse_flag": adverse,
            "industry": industry,
            "region": region,
        }
    )
    for i in range(n_noise):
        frame[f"noise_{i + 1}"] = np.round(rng.normal(size=n), 4)
    # realistic gaps: financials missing for some, bureau score special code -1 (no hit)
    frame.loc[rng.random(n) < 0.08, ["debt_ratio", "current_ratio"]] = np.nan
    frame.loc[rng.random(n) < 0.05, "bureau_score"] = -1
    frame.loc[rng.random(n) < 0.04, "revenue_trend"] = np.nan
    return frame, y, logit


def _iso_days(days: np.ndarray) -> list[str]:
    base = np.datetime64("1970-01-01")
    return [str(d) for d in (base + days.astype("timedelta64[D]"))]


def populate_store(
    store: Store,
    n: int,
    *,
    seed: int = 0,
    as_of: str = "2026-09-30",
    invoices_per_customer: int = 8,
    orders_per_customer: int = 6,
    default_rate: float = 0.08,
) -> None:
    """Fill an empty store with a book whose payment behaviour follows a latent risk.

    Customers, invoices over the two years to `as_of` (issued, due 30 days later, paid late in
    proportion to the risk; a defaulter stops paying from a date on), orders, two annual
    financial statements and one bureau report. For the tests and benchmarks.
    """
    rng = np.random.default_rng(seed)
    end = int(np.datetime64(as_of, "D").astype(np.int64))
    start = end - 730
    ids = np.arange(1, n + 1)
    z = rng.normal(size=n)
    industry = rng.choice(list(INDUSTRIES), n)
    region = rng.choice(list(REGIONS), n)
    z = z + 0.6 * np.vectorize(INDUSTRIES.get)(industry) + 0.4 * np.vectorize(REGIONS.get)(region)
    years = rng.gamma(2.0, 4.0, n) * np.exp(-0.2 * z)
    registered = (end - 730 - years * 365).astype(np.int64)
    orders_month = np.round(np.exp(rng.normal(11, 1, n)))  # yuan per month
    limit = np.round(orders_month * rng.uniform(0.5, 3, n), -3) * 100  # cents
    p_def = 1 / (1 + np.exp(-(np.log(default_rate / (1 - default_rate)) + 1.3 * z)))
    defaulter = rng.random(n) < p_def
    default_day = np.where(defaulter, rng.integers(start + 180, end + 1, n), end + 10_000)
    with store.transaction():
        store.executemany(
            "INSERT INTO customers (id, external_id, name, kind, industry, region, "
            "registered_date, credit_limit, status) VALUES (?, ?, ?, 'company', ?, ?, ?, ?, "
            "'active')",
            zip(
                ids.tolist(), [f"C{i:07d}" for i in ids], [f"Company {i}" for i in ids],
                industry.tolist(), region.tolist(), _iso_days(registered),
                limit.astype(np.int64).tolist(), strict=True,
            ),
        )  # fmt: skip
        k = invoices_per_customer
        cust = np.repeat(ids, k)
        zz = np.repeat(z, k)
        issue = np.repeat(np.full(n, start), k) + (
            np.tile(np.arange(k), n) * (700 // max(k, 1)) + rng.integers(0, 30, n * k)
        )
        due = issue + 30
        amount = np.round(np.repeat(orders_month, k) * rng.uniform(0.5, 1.5, n * k)) * 100
        late = np.maximum(rng.exponential(np.exp(1.2 + 0.9 * zz)) - 3, -5).round()
        paid = due + late.astype(np.int64)
        unpaid = due >= np.repeat(default_day, k) - 30
        paid_ok = ~unpaid & (paid <= end)
        paid_date = _iso_days(paid)
        store.executemany(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
            "paid_amount, paid_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip(
                [f"INV{i:09d}" for i in range(n * k)], cust.tolist(), _iso_days(issue),
                _iso_days(due), amount.astype(np.int64).tolist(),
                np.where(paid_ok, amount, 0).astype(np.int64).tolist(),
                [p if ok else None for p, ok in zip(paid_date, paid_ok, strict=True)],
                strict=True,
            ),
        )  # fmt: skip
        m = orders_per_customer
        ocust = np.repeat(ids, m)
        trend = np.repeat(-0.15 * z + rng.normal(0, 0.2, n), m)
        oday = end - rng.integers(0, 730, n * m)
        oamount = (
            np.round(
                np.repeat(orders_month, m)
                * 24
                / max(m, 1)
                * np.exp(trend * (oday - end + 365) / 182)
            )
            * 100
        )
        store.executemany(
            "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
            "VALUES (?, ?, 'order', ?, ?)",
            zip(
                [f"T{i:09d}" for i in range(n * m)], ocust.tolist(), _iso_days(oday),
                oamount.astype(np.int64).tolist(), strict=True,
            ),
        )  # fmt: skip
        assets = np.round(orders_month * 12 * rng.uniform(0.5, 2.0, n)) * 100
        debt = np.clip(rng.beta(2, 3, n) * np.exp(0.3 * z), 0.05, 1.5)
        current = np.exp(rng.normal(0.3 - 0.25 * z, 0.4, n))
        growth = rng.normal(0.05 - 0.08 * z, 0.15, n)
        has_fin = rng.random(n) > 0.1
        year = int(as_of[:4])
        rows = []
        for back in (3, 2, 1):
            rev = orders_month * 12 * 100 * (1 + growth) ** (3 - back)
            rows.append(
                zip(
                    ids[has_fin].tolist(), [str(year - back)] * int(has_fin.sum()),
                    np.round(rev[has_fin]).astype(np.int64).tolist(),
                    np.round(assets[has_fin]).astype(np.int64).tolist(),
                    np.round(assets[has_fin] * debt[has_fin]).astype(np.int64).tolist(),
                    np.round(assets[has_fin] * 0.4).astype(np.int64).tolist(),
                    np.round(assets[has_fin] * 0.4 / current[has_fin]).astype(np.int64).tolist(),
                    strict=True,
                )
            )  # fmt: skip
        for part in rows:
            store.executemany(
                "INSERT INTO financials (customer_id, period, revenue, total_assets, "
                "total_liabilities, current_assets, current_liabilities) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                part,
            )
        score = np.clip(np.round(650 - 60 * z + rng.normal(0, 40, n)), 300, 850)
        flags = rng.random((n, 5)) < (0.02 * np.exp(0.8 * z))[:, None]
        rep_day = end - 400 + rng.integers(0, 60, n)
        has_rep = rng.random(n) > 0.05
        store.executemany(
            "INSERT INTO credit_reports (customer_id, provider, report_date, score, lawsuit, "
            "bankruptcy, tax_violation, dishonest_debtor, other_flag) "
            "VALUES (?, 'bureau', ?, ?, ?, ?, ?, ?, ?)",
            zip(
                ids[has_rep].tolist(), [d for d, h in zip(_iso_days(rep_day), has_rep,
                                                          strict=True) if h],
                score[has_rep].tolist(), *[flags[has_rep, j].astype(int).tolist()
                                           for j in range(5)],
                strict=True,
            ),
        )  # fmt: skip

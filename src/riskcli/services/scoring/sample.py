"""A labelled credit table with a known ground truth, for tests, benchmarks and `make demo`.

A latent log-odds of default is a sum of documented, mostly monotonic but non-linear effects of
observable factors (plus noise factors with no effect, a factor correlated with another, missing
values and a special code); the outcome is drawn from it. The true log-odds is returned too, so
the best achievable AUC on the sample is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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

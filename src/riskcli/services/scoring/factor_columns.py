"""The factor frame's columns: each store factor's definition, and the numpy that computes
the columns from the book's query results (no per-customer Python).

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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services import book

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


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def assemble(
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
    df["history_months"] = np.round(col["invoice_days"] / book.DAYS_PER_MONTH, 1)
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
    df["tenure_months"] = np.round(first / book.DAYS_PER_MONTH, 1)
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

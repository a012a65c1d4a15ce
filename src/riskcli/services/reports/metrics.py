"""Pure calculations behind the report sections (DataFrames in, DataFrames out, no store).

Money enters and leaves in integer cents (the storage unit); tables meant for people convert
cents to ``Decimal`` (``riskcli.services.money_columns``) at the very end so sums stay exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskcli.services.money_columns import decimal_column

AGING_BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")
UNSCORED = "(unscored)"
UNTIERED = "(untiered)"
UNKNOWN = "(unknown)"
PSI_EPSILON = 1e-4


def _share(part: pd.Series, total: float) -> pd.Series:
    if total == 0:
        return pd.Series(0.0, index=part.index)
    return (part / total).round(6)


# --------------------------------------------------------------------------------------------
# receivables: outstanding, aging, exposure
# --------------------------------------------------------------------------------------------


def aged(items: pd.DataFrame) -> pd.DataFrame:
    """The book's open invoices (`book.open_invoices`: what is outstanding on the as-of date and
    how many days past due) with their aging ``bucket``."""
    cols = ["invoice_number", "customer_id", "due_date", "outstanding", "days_past_due", "bucket"]
    if items.empty:
        return pd.DataFrame(columns=cols)
    frame = items.copy()
    frame["outstanding"] = frame["outstanding"].astype("int64")
    frame["days_past_due"] = frame["days_past_due"].astype("int64")
    frame["bucket"] = aging_bucket(frame["days_past_due"])
    return frame[cols].reset_index(drop=True)


def aging_bucket(days_past_due: pd.Series) -> pd.Series:
    """current (not yet due), 1-30, 31-60, 61-90, 90+ days past due."""
    bins = [-np.inf, 0, 30, 60, 90, np.inf]
    cats = pd.cut(days_past_due, bins=bins, labels=list(AGING_BUCKETS), right=True)
    return cats.astype(str)


def aging_table(items: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket (all five, in order): invoices, amount, shares of each."""
    grouped = (
        items.groupby("bucket")["outstanding"].agg(["count", "sum"])
        if not items.empty
        else pd.DataFrame(columns=["count", "sum"])
    )
    grouped = grouped.reindex(list(AGING_BUCKETS), fill_value=0)
    count = grouped["count"].astype("int64")
    cents = grouped["sum"].astype("int64")
    return pd.DataFrame(
        {
            "bucket": list(AGING_BUCKETS),
            "invoices": count.to_numpy(),
            "amount": decimal_column(cents).to_numpy(),
            "amount_share": _share(cents, float(cents.sum())).to_numpy(),
            "invoice_share": _share(count, float(count.sum())).to_numpy(),
        }
    )


def exposure_by_customer(items: pd.DataFrame) -> pd.Series:
    """Outstanding receivables (cents) per customer id."""
    if items.empty:
        return pd.Series(dtype="int64", name="exposure")
    return items.groupby("customer_id")["outstanding"].sum().astype("int64").rename("exposure")


# --------------------------------------------------------------------------------------------
# concentration
# --------------------------------------------------------------------------------------------


def herfindahl(shares: Sequence[float] | pd.Series) -> float:
    """Herfindahl-Hirschman index of shares that sum to 1: 1/n (even) .. 1 (one holds all)."""
    values = np.asarray(shares, dtype=float)
    return float(np.round(np.sum(values**2), 6))


def concentration(
    customers: pd.DataFrame, exposure: pd.Series, by: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Customers and exposure per value of column *by*, with shares and the HHI of each."""
    frame = customers[["id", by]].copy()
    frame[by] = frame[by].fillna("").astype(str).str.strip().replace("", UNKNOWN)
    frame["exposure"] = frame["id"].map(exposure).fillna(0).astype("int64")
    grouped = frame.groupby(by).agg(customers=("id", "count"), exposure=("exposure", "sum"))
    grouped = grouped.sort_values(["exposure", "customers"], ascending=False)
    total_exp = float(grouped["exposure"].sum())
    total_cust = float(grouped["customers"].sum())
    exp_share = _share(grouped["exposure"], total_exp)
    cust_share = _share(grouped["customers"], total_cust)
    table = pd.DataFrame(
        {
            by: grouped.index.astype(str),
            "customers": grouped["customers"].astype("int64").to_numpy(),
            "customer_share": cust_share.to_numpy(),
            "exposure": decimal_column(grouped["exposure"]).to_numpy(),
            "exposure_share": exp_share.to_numpy(),
        }
    )
    hhi = herfindahl(exp_share) if total_exp else None
    facts = {
        "hhi_exposure": hhi,
        "hhi_customers": herfindahl(cust_share) if total_cust else None,
        "effective_number": round(1 / hhi, 2) if hhi else None,
        "largest": str(grouped.index[0]) if len(grouped) and total_exp else None,
        "largest_share": float(exp_share.iloc[0]) if len(grouped) and total_exp else None,
    }
    return table, facts


# --------------------------------------------------------------------------------------------
# grades, tiers and the matrices between them
# --------------------------------------------------------------------------------------------


def _order(labels: Sequence[str], last: str, preferred: Sequence[str] | None = None) -> list[str]:
    """Labels sorted (in *preferred* order first, then alphabetically), *last* at the end."""
    seen = {str(x) for x in labels}
    rank = {str(g): i for i, g in enumerate(preferred or ())}
    present = sorted(seen - {last}, key=lambda g: (rank.get(g, len(rank)), g))
    return [*present, last] if last in seen else present


def group_exposure(
    customers: pd.DataFrame,
    exposure: pd.Series,
    labels: pd.Series,
    name: str,
    missing: str,
    order: Sequence[str] | None = None,
    el: pd.Series | None = None,
) -> pd.DataFrame:
    """Customers and exposure per label (grade or tier); customers without a label -> *missing*.
    With *el* (cents per customer): expected loss and EL rate (EL / exposure) per label too."""
    frame = pd.DataFrame({"id": customers["id"].to_numpy()})
    frame[name] = frame["id"].map(labels).fillna(missing).astype(str)
    frame["exposure"] = frame["id"].map(exposure).fillna(0).astype("int64")
    frame["el"] = frame["id"].map(el).fillna(0.0).astype(float) if el is not None else 0.0
    grouped = frame.groupby(name).agg(
        customers=("id", "count"), exposure=("exposure", "sum"), el=("el", "sum")
    )
    grouped = grouped.reindex(_order(list(grouped.index), missing, order))
    total_exp = float(grouped["exposure"].sum())
    total_cust = float(grouped["customers"].sum())
    out = pd.DataFrame(
        {
            name: grouped.index.astype(str),
            "customers": grouped["customers"].astype("int64").to_numpy(),
            "customer_share": _share(grouped["customers"], total_cust).to_numpy(),
            "exposure": decimal_column(grouped["exposure"]).to_numpy(),
            "exposure_share": _share(grouped["exposure"], total_exp).to_numpy(),
        }
    )
    if el is not None:
        cents = grouped["el"].round().astype("int64")
        out["expected_loss"] = decimal_column(cents).to_numpy()
        rate = np.divide(
            grouped["el"].to_numpy(),
            grouped["exposure"].to_numpy(dtype=float),
            out=np.zeros(len(grouped)),
            where=grouped["exposure"].to_numpy() > 0,
        )
        out["el_rate"] = np.round(rate, 6)
    return out


def cross_matrix(
    ids: pd.Series,
    rows: pd.Series,
    cols: pd.Series,
    *,
    row_name: str,
    row_missing: str,
    col_missing: str,
    row_order: Sequence[str] | None = None,
    col_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Count matrix of customers: one row per *rows* label, one column per *cols* label.

    Every customer in *ids* is counted exactly once (missing labels get their own row/column),
    so the matrix adds up to the number of customers. The first column holds the row labels.
    """
    frame = pd.DataFrame({"id": ids.to_numpy()})
    frame["r"] = frame["id"].map(rows).fillna(row_missing).astype(str)
    frame["c"] = frame["id"].map(cols).fillna(col_missing).astype(str)
    matrix = pd.crosstab(frame["r"], frame["c"]) if len(frame) else pd.DataFrame()
    r_order = _order(list(matrix.index), row_missing, row_order)
    c_order = _order(list(matrix.columns), col_missing, col_order)
    matrix = matrix.reindex(index=r_order, columns=c_order, fill_value=0).astype("int64")
    out = matrix.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    out.insert(0, row_name, r_order)
    return out


# --------------------------------------------------------------------------------------------
# score distribution and stability
# --------------------------------------------------------------------------------------------


def _nice_width(span: float, bins: int) -> float:
    raw = span / max(bins, 1)
    if raw <= 0:
        return 1.0
    exp = math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10**exp >= raw:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))


def histogram(
    current: pd.Series, reference: pd.Series | None = None, bins: int = 12
) -> pd.DataFrame:
    """Equal-width score bands with 'nice' edges; counts and shares for both samples."""
    cur = pd.to_numeric(current, errors="coerce").dropna()
    ref = pd.to_numeric(reference, errors="coerce").dropna() if reference is not None else None
    both = pd.concat([cur, ref]) if ref is not None else cur
    if both.empty:
        return pd.DataFrame(columns=["band", "lower", "upper", "customers", "share"])
    lo, hi = float(both.min()), float(both.max())
    width = _nice_width(hi - lo, bins)
    start = math.floor(lo / width) * width
    n = max(1, math.ceil((hi - start) / width + 1e-9))
    if start + n * width <= hi:
        n += 1
    edges = [start + i * width for i in range(n + 1)]

    def counts(s: pd.Series) -> np.ndarray:
        idx = np.clip(((s.to_numpy(dtype=float) - start) // width).astype(int), 0, n - 1)
        return np.bincount(idx, minlength=n)

    def fmt(x: float) -> str:
        return f"{x:g}"

    table = pd.DataFrame(
        {
            "band": [f"{fmt(edges[i])}-{fmt(edges[i + 1])}" for i in range(n)],
            "lower": edges[:-1],
            "upper": edges[1:],
            "customers": counts(cur).astype("int64"),
        }
    )
    table["share"] = _share(table["customers"], float(len(cur))).to_numpy()
    if ref is not None:
        table["compare_customers"] = counts(ref).astype("int64")
        table["compare_share"] = _share(table["compare_customers"], float(len(ref))).to_numpy()
    return table


def psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> tuple[float, pd.DataFrame]:
    """Population stability index of *current* against *reference*.

    Bins are the deciles of the reference sample (fewer when scores repeat); empty shares are
    floored at 1e-4 so the logarithm stays finite. Rule of thumb: < 0.1 stable, 0.1-0.25 some
    shift, > 0.25 a significant shift.
    """
    ref = pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype=float)
    cur = pd.to_numeric(current, errors="coerce").dropna().to_numpy(dtype=float)
    if len(ref) == 0 or len(cur) == 0:
        raise ValueError("PSI needs two non-empty samples")
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1])
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    ref_n = np.histogram(ref, bins=edges)[0]
    cur_n = np.histogram(cur, bins=edges)[0]
    ref_p = np.maximum(ref_n / len(ref), PSI_EPSILON)
    cur_p = np.maximum(cur_n / len(cur), PSI_EPSILON)
    parts = (cur_p - ref_p) * np.log(cur_p / ref_p)
    labels = []
    for lo, hi in itertools.pairwise(edges):
        left = "-inf" if np.isinf(lo) else f"{lo:g}"
        right = "inf" if np.isinf(hi) else f"{hi:g}"
        labels.append(f"({left}, {right}]")
    table = pd.DataFrame(
        {
            "bin": labels,
            "reference": ref_n.astype("int64"),
            "current": cur_n.astype("int64"),
            "reference_share": np.round(ref_n / len(ref), 6),
            "current_share": np.round(cur_n / len(cur), 6),
            "psi": np.round(parts, 6),
        }
    )
    return float(np.round(parts.sum(), 6)), table


def psi_verdict(value: float) -> str:
    if value < 0.1:
        return "stable"
    if value < 0.25:
        return "some shift"
    return "significant shift"


# --------------------------------------------------------------------------------------------
# expected loss
# --------------------------------------------------------------------------------------------


def expected_loss(
    exposure: pd.Series, pd_by_customer: pd.Series, lgd: pd.Series | None = None
) -> pd.Series:
    """EL = PD x LGD x EAD (cents, float) per scored customer; LGD 1 where none is given."""
    pds = pd_by_customer.astype(float)
    ead = exposure.reindex(pds.index).fillna(0).astype(float)
    loss = lgd.reindex(pds.index).fillna(1.0) if lgd is not None else 1.0
    return pds * loss * ead


def top_expected_loss(
    customers: pd.DataFrame,
    exposure: pd.Series,
    pd_by_customer: pd.Series,
    grades: pd.Series,
    top: int,
    lgd: pd.Series | None = None,
) -> pd.DataFrame:
    """Top *top* customers by expected loss = PD x LGD x exposure (cents)."""
    frame = customers[["id", "external_id", "name"]].copy()
    frame["pd"] = frame["id"].map(pd_by_customer).astype(float)
    frame["lgd"] = frame["id"].map(lgd).astype(float) if lgd is not None else 1.0
    frame["exposure_c"] = frame["id"].map(exposure).fillna(0).astype("int64")
    frame = frame[frame["pd"].notna()]
    frame["el_c"] = (frame["pd"] * frame["lgd"] * frame["exposure_c"]).round().astype("int64")
    frame = frame.sort_values(["el_c", "exposure_c", "id"], ascending=[False, False, True])
    frame = frame.head(max(top, 0))
    return pd.DataFrame(
        {
            "rank": range(1, len(frame) + 1),
            "customer_id": frame["external_id"].astype(str).to_numpy(),
            "name": frame["name"].to_numpy(),
            "grade": frame["id"].map(grades).fillna(UNSCORED).astype(str).to_numpy(),
            "pd": frame["pd"].round(6).to_numpy(),
            "lgd": frame["lgd"].round(6).to_numpy(),
            "exposure": decimal_column(frame["exposure_c"]).to_numpy(),
            "expected_loss": decimal_column(frame["el_c"]).to_numpy(),
        }
    )


def grade_order(*frames: pd.DataFrame | None) -> list[str]:
    """Grades from best to worst: by their mean probability of default across *frames*."""
    parts = [f[["grade", "pd"]] for f in frames if f is not None and not f.empty]
    if not parts:
        return []
    both = pd.concat(parts)
    means = both.groupby("grade")["pd"].mean().sort_values(kind="stable")
    return [str(g) for g in means.index]

"""Recommended credit limits ([scoring.limits]): the customer's need, scaled by grade, capped
by capacity. All money is integer cents here, as in the store.

The default policy (`method = "need"`), as a credit manager sizes a trade limit:

    need     = max(monthly invoicing x (payment terms + grace_days) / 30,
                   peak_headroom x peak not-yet-due exposure over 12 month-ends)
    appetite = need x grade_factors[grade]        (A 1, B 1, C 0.75, D 0.5, E 0, DF 0)
    cap      = min(max_limit, max_share_of_net_assets x net assets when financials give them)
    limit    = min(appetite, cap), rounded to the nearest `round_to`

Monthly invoicing is the invoices of the last 12 months over the months since the first invoice
(`history_months`, at most 12);
payment terms are the customer's own (median due - issue days). A customer with less than
`min_history_months` of history gets at least a starter limit (`starter_limit` x a bureau-score
factor, x the grade factor, capped the same way). An active, not-defaulted customer of grade A-C
gets at least `min_limit`; closed customers and grades E and DF get 0.

`over_limit` flags a customer whose exposure exceeds the recommendation by `over_limit_margin`
or whose limit is above it at grade D, E or DF (see `over_limit`).

`method = "months_of_sales"` keeps the older policy: monthly orders x months_of_sales[grade],
capped the same way, rounded down.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskcli.domain.money import to_cents

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_MONTHS = {"A": 3.0, "B": 2.0, "C": 1.0, "D": 0.5, "E": 0.0}
DEFAULT_FACTORS = {"A": 1.0, "B": 1.0, "C": 0.75, "D": 0.5, "E": 0.0, "DF": 0.0}
#: grades that always get at least `min_limit` while active and not in default
FLOOR_GRADES = ("A", "B", "C")


class LimitPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["need", "months_of_sales"] = "need"
    grace_days: int = Field(default=30, ge=0, le=365)
    peak_headroom: float = Field(default=1.2, ge=0, le=10)
    grade_factors: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_FACTORS))
    months_of_sales: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MONTHS))
    max_limit: Decimal = Field(default=Decimal("5000000"), ge=0)
    max_share_of_net_assets: float = Field(default=0.2, ge=0)
    round_to: Decimal = Field(default=Decimal("1000"), gt=0)
    min_limit: Decimal = Field(default=Decimal("1000"), ge=0)
    min_history_months: float = Field(default=3, ge=0)
    starter_limit: Decimal = Field(default=Decimal("50000"), ge=0)
    over_limit_margin: Decimal = Field(default=Decimal("1000"), ge=0)
    starter_bureau: dict[str, float] = Field(
        default_factory=lambda: {"700": 1.0, "600": 0.5, "0": 0.25, "missing": 0.5}
    )

    @field_validator("grade_factors")
    @classmethod
    def _factors_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for grade, factor in value.items():
            if not 0 <= factor <= 1:
                raise ValueError(f"the factor of grade {grade} must be within 0-1, not {factor}")
        return {**DEFAULT_FACTORS, **value}


def _lookup(grade: npt.NDArray[np.object_], table: dict[str, float]) -> FloatArray:
    uniq, inv = np.unique(np.asarray(grade, dtype=object).astype(str), return_inverse=True)
    values = np.array([table.get(u, 0.0) for u in uniq], dtype=np.float64)
    out: FloatArray = values[inv]
    return out


def grade_months(grade: npt.NDArray[np.object_], policy: LimitPolicy) -> FloatArray:
    return _lookup(grade, policy.months_of_sales)


def _capacity(net_assets: FloatArray, policy: LimitPolicy) -> FloatArray:
    na = np.asarray(net_assets, dtype=np.float64)
    cap = np.where(np.isnan(na), np.inf, np.maximum(na, 0.0) * policy.max_share_of_net_assets)
    out: FloatArray = np.minimum(cap, to_cents(policy.max_limit))
    return out


def recommend(
    grade: npt.NDArray[np.object_],
    orders_12m_cents: FloatArray,
    net_assets_cents: FloatArray,
    policy: LimitPolicy,
) -> IntArray:
    """The months-of-sales policy, in integer cents (vectorised)."""
    months = grade_months(np.asarray(grade, dtype=object), policy)
    volume = np.nan_to_num(np.asarray(orders_12m_cents, dtype=np.float64), nan=0.0) / 12.0
    limit = np.minimum(volume * months, _capacity(net_assets_cents, policy))
    step = to_cents(policy.round_to)
    out: IntArray = (np.floor(np.maximum(limit, 0.0) / step) * step).astype(np.int64)
    return out


def _bureau_factor(score: FloatArray, policy: LimitPolicy) -> FloatArray:
    table = {k: v for k, v in policy.starter_bureau.items() if k != "missing"}
    out = np.full(len(score), policy.starter_bureau.get("missing", 0.5))
    for edge in sorted(table, key=float):  # ascending: the highest edge reached wins
        out = np.where(score >= float(edge), table[edge], out)
    return out


def derive(
    frame: pd.DataFrame, grade: npt.NDArray[np.object_], policy: LimitPolicy
) -> pd.DataFrame:
    """The need policy step by step, one row per customer (cents): need, its driver, the grade
    factor, appetite, cap, the starter limit where history is short, and the limit."""
    n = len(frame)

    def col(name: str) -> FloatArray:
        if name not in frame:
            return np.full(n, np.nan)
        return np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)

    history = col("history_months")
    months = np.clip(np.nan_to_num(history, nan=1.0), 1.0, 12.0)
    monthly = np.nan_to_num(col("invoicing_12m")) / months
    terms = np.nan_to_num(col("terms"), nan=30.0)
    by_terms = monthly * (terms + policy.grace_days) / 30.0
    by_peak = policy.peak_headroom * np.nan_to_num(col("peak_not_due"))
    need = np.maximum(by_terms, by_peak)
    factor = _lookup(grade, policy.grade_factors)
    appetite = need * factor
    short = np.isnan(history) | (history < policy.min_history_months)
    starter = np.where(
        short, to_cents(policy.starter_limit) * _bureau_factor(col("bureau_score"), policy), 0.0
    )
    cap = _capacity(col("net_assets"), policy)
    limit = np.minimum(np.maximum(appetite, starter * factor), cap)
    step = to_cents(policy.round_to)
    limit = np.round(np.maximum(limit, 0.0) / step) * step
    status = frame["status"].to_numpy(dtype=object) if "status" in frame else np.full(n, None)
    active = (status == "active") | pd.isna(status)
    in_default = np.asarray(col("in_default") > 0)
    floor = active & ~in_default & np.isin(np.asarray(grade, dtype=object), FLOOR_GRADES)
    limit = np.where(floor, np.maximum(limit, to_cents(policy.min_limit)), limit)
    limit = np.where((status == "closed") | in_default | (factor == 0), 0.0, limit)
    return pd.DataFrame(
        {
            "monthly_invoicing": monthly,
            "terms_days": terms,
            "need_by_terms": by_terms,
            "need_by_peak": by_peak,
            "need": need,
            "driver": np.where(by_peak > by_terms, "peak not-yet-due exposure", "terms"),
            "grade_factor": factor,
            "appetite": appetite,
            "starter": starter,
            "cap": cap,
            "limit": limit.astype(np.int64),
        }
    )


def recommend_limits(
    frame: pd.DataFrame, grade: npt.NDArray[np.object_], policy: LimitPolicy
) -> IntArray:
    """Recommended limit per customer of a factor frame, in integer cents."""
    if policy.method == "months_of_sales":
        out = recommend(
            grade,
            frame["orders_12m"].to_numpy(dtype=np.float64),
            pd.to_numeric(frame["net_assets"], errors="coerce").to_numpy(dtype=np.float64),
            policy,
        )
        if "in_default" in frame:
            out = np.where(frame["in_default"].to_numpy() > 0, 0, out)
        return out
    limits: IntArray = derive(frame, grade, policy)["limit"].to_numpy(dtype=np.int64)
    return limits


#: grades whose current limit should come down to the recommendation whatever the exposure
REDUCE_GRADES = ("D", "E", "DF")


def over_limit(
    grade: npt.NDArray[np.object_],
    current: IntArray,
    recommended: IntArray,
    exposure: FloatArray,
    policy: LimitPolicy,
) -> npt.NDArray[np.bool_]:
    """Who is flagged `over_limit`: exposure above the recommended limit by at least
    `over_limit_margin` (the customer uses more credit than the policy would grant), or a limit
    above the recommendation at grade D, E or DF (the limit itself should come down). A generous
    limit that a good customer does not use is headroom, not a finding."""
    margin = to_cents(policy.over_limit_margin)
    used = np.nan_to_num(exposure) - recommended >= max(margin, 1.0)
    weak = np.isin(np.asarray(grade, dtype=object), REDUCE_GRADES) & (current > recommended)
    out: npt.NDArray[np.bool_] = used | weak
    return out


def _terms_text(own: Any, used: float, policy: LimitPolicy) -> str:
    known = own is not None and not (isinstance(own, float) and np.isnan(own))
    days = f"{used:.0f} days" if known else f"{used:.0f} days (none invoiced in 12 months)"
    return f"{days} + {policy.grace_days} grace"


def explain_limit(row: dict[str, Any], grade: str, policy: LimitPolicy) -> list[dict[str, Any]]:
    """The derivation of one customer's limit, as lines for `score explain` (money in units)."""
    if policy.method == "months_of_sales":
        return [{"step": "policy", "value": "months of sales x grade (months_of_sales)"}]
    d = derive(pd.DataFrame([row]), np.array([grade], dtype=object), policy).iloc[0]

    def money(cents: float) -> str:
        return "no cap" if not np.isfinite(cents) else f"{cents / 100:,.2f}"

    lines = [
        ("monthly invoicing", money(d["monthly_invoicing"])),
        ("payment terms", _terms_text(row.get("terms"), d["terms_days"], policy)),
        ("need by terms", money(d["need_by_terms"])),
        ("need by peak not-yet-due", f"{policy.peak_headroom} x peak = {money(d['need_by_peak'])}"),
        ("need", f"{money(d['need'])} (driver: {d['driver']})"),
        ("grade factor", f"{grade}: {d['grade_factor']:g}"),
        ("appetite", money(d["appetite"])),
    ]
    if d["starter"] > 0:
        lines.append(("starter limit (short history)", money(d["starter"])))
    lines += [("cap", money(d["cap"])), ("recommended limit", money(d["limit"]))]
    return [{"step": k, "value": v} for k, v in lines]

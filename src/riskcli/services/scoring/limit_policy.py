"""The credit limit policy ([scoring.limits]) and its need derivation, written once against a
small array namespace: numpy's for a score run (every customer at once), plain floats for one
customer's `score explain` (which then loads neither numpy nor pandas). All money is cents.

The need policy (`method = "need"`), as a credit manager sizes a trade limit:

    need     = max(monthly invoicing x (payment terms + grace_days) / 30,
                   peak_headroom x peak not-yet-due exposure over 12 month-ends)
    appetite = need x grade_factors[grade]        (A 1, B 1, C 0.75, D 0.5, E 0, DF 0)
    cap      = min(max_limit, max_share_of_net_assets x net assets when financials give them)
    limit    = min(appetite, cap), rounded to the nearest `round_to`

Monthly invoicing is the invoices of the last 12 months over the months since the first invoice
(`history_months`, at most 12); payment terms are the customer's own (median due - issue days).
A customer with less than `min_history_months` of history gets at least a starter limit
(`starter_limit` x a bureau-score factor, x the grade factor, capped the same way). An active,
not-defaulted customer of grade A-C gets at least `min_limit`; closed customers and grades E and
DF get 0.

`method = "months_of_sales"` keeps the older policy: monthly orders x months_of_sales[grade],
capped the same way, rounded down (`limits.recommend`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskcli.domain.money import grouped_text, to_cents

DEFAULT_MONTHS = {"A": 3.0, "B": 2.0, "C": 1.0, "D": 0.5, "E": 0.0}
DEFAULT_FACTORS = {"A": 1.0, "B": 1.0, "C": 0.75, "D": 0.5, "E": 0.0, "DF": 0.0}
#: grades that always get at least `min_limit` while active and not in default
FLOOR_GRADES = ("A", "B", "C")
#: grades whose current limit should come down to the recommendation whatever the exposure
REDUCE_GRADES = ("D", "E", "DF")
#: what the need derivation reads of a customer (cents, days, months; NaN where unknown)
NEED_INPUTS = (
    "history_months",
    "invoicing_12m",
    "terms",
    "peak_not_due",
    "net_assets",
    "bureau_score",
)
PEAK_DRIVER = "peak not-yet-due exposure"


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


class Ops(Protocol):
    """The element-wise operations the derivation needs (numpy's names and meaning)."""

    def where(self, cond: Any, a: Any, b: Any) -> Any: ...
    def maximum(self, a: Any, b: Any) -> Any: ...
    def minimum(self, a: Any, b: Any) -> Any: ...
    def clip(self, a: Any, low: float, high: float) -> Any: ...
    def isnan(self, a: Any) -> Any: ...
    def fill_nan(self, a: Any, value: float) -> Any: ...
    def round(self, a: Any) -> Any: ...
    def lookup(self, keys: Any, table: Mapping[str, float]) -> Any: ...
    def isin(self, a: Any, values: tuple[str, ...]) -> Any: ...
    def is_missing(self, a: Any) -> Any: ...


class Scalars:
    """`Ops` on plain floats, with numpy's semantics (NaN propagates through maximum and
    minimum; rounding is half to even, as numpy's and Python's both are)."""

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b

    def maximum(self, a: float, b: float) -> float:
        return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)

    def minimum(self, a: float, b: float) -> float:
        return math.nan if math.isnan(a) or math.isnan(b) else min(a, b)

    def clip(self, a: float, low: float, high: float) -> float:
        return self.minimum(self.maximum(a, low), high)

    def isnan(self, a: float) -> bool:
        return math.isnan(a)

    def fill_nan(self, a: float, value: float) -> float:
        return value if math.isnan(a) else a

    def round(self, a: float) -> float:
        return float(round(a)) if math.isfinite(a) else a

    def lookup(self, keys: str, table: Mapping[str, float]) -> float:
        return table.get(keys, 0.0)

    def isin(self, a: str, values: tuple[str, ...]) -> bool:
        return a in values

    def is_missing(self, a: Any) -> bool:
        return a is None or (isinstance(a, float) and math.isnan(a))


SCALARS = Scalars()


def capacity(xp: Ops, net_assets: Any, policy: LimitPolicy) -> Any:
    """The cap: `max_share_of_net_assets` of net assets (none when unknown), at most
    `max_limit`."""
    share = xp.maximum(net_assets, 0.0) * policy.max_share_of_net_assets
    cap = xp.where(xp.isnan(net_assets), math.inf, share)
    return xp.minimum(cap, float(to_cents(policy.max_limit)))


def bureau_factor(xp: Ops, score: Any, policy: LimitPolicy) -> Any:
    """The starter limit's factor: the highest `starter_bureau` edge the score reaches."""
    table = {k: v for k, v in policy.starter_bureau.items() if k != "missing"}
    out: Any = policy.starter_bureau.get("missing", 0.5)  # a NaN score reaches no edge
    for edge in sorted(table, key=float):  # ascending: the highest edge reached wins
        out = xp.where(score >= float(edge), table[edge], out)
    return out


def eligibility(
    xp: Ops, grade: Any, status: Any, in_default: Any, policy: LimitPolicy
) -> tuple[Any, Any, Any]:
    """Who may have credit: the grade factor, where `min_limit` applies (active, not in
    default, grade A-C) and where no credit is given (closed, in default, a factor of 0)."""
    factor = xp.lookup(grade, policy.grade_factors)
    active = (status == "active") | xp.is_missing(status)
    floor = xp.where(in_default, False, active & xp.isin(grade, FLOOR_GRADES))
    zero = (status == "closed") | in_default | (factor == 0)
    return factor, floor, zero


def need_steps(
    xp: Ops, x: Mapping[str, Any], factor: Any, floor: Any, zero: Any, policy: LimitPolicy
) -> dict[str, Any]:
    """The need policy step by step (cents): need, its driver, appetite, starter, cap, limit.

    `x` holds NEED_INPUTS; `factor`, `floor` and `zero` are the customers' `eligibility`.
    """
    history = x["history_months"]
    months = xp.clip(xp.fill_nan(history, 1.0), 1.0, 12.0)
    monthly = xp.fill_nan(x["invoicing_12m"], 0.0) / months
    terms = xp.fill_nan(x["terms"], 30.0)
    by_terms = monthly * (terms + policy.grace_days) / 30.0
    by_peak = policy.peak_headroom * xp.fill_nan(x["peak_not_due"], 0.0)
    need = xp.maximum(by_terms, by_peak)
    appetite = need * factor
    short = xp.isnan(history) | (history < policy.min_history_months)
    starter_full = float(to_cents(policy.starter_limit)) * bureau_factor(
        xp, x["bureau_score"], policy
    )
    starter = xp.where(short, starter_full, 0.0)
    cap = capacity(xp, x["net_assets"], policy)
    limit = xp.minimum(xp.maximum(appetite, starter * factor), cap)
    step = float(to_cents(policy.round_to))
    limit = xp.round(xp.maximum(limit, 0.0) / step) * step
    limit = xp.where(floor, xp.maximum(limit, float(to_cents(policy.min_limit))), limit)
    limit = xp.where(zero, 0.0, limit)
    return {
        "monthly_invoicing": monthly,
        "terms_days": terms,
        "need_by_terms": by_terms,
        "need_by_peak": by_peak,
        "need": need,
        "driver": xp.where(by_peak > by_terms, PEAK_DRIVER, "terms"),
        "grade_factor": factor,
        "appetite": appetite,
        "starter": starter,
        "cap": cap,
        "limit": limit,
    }


def one_customer(
    x: Mapping[str, float], grade: str, status: str | None, in_default: bool, policy: LimitPolicy
) -> dict[str, Any]:
    """`need_steps` for one customer, on plain floats."""
    factor, floor, zero = eligibility(SCALARS, grade, status, in_default, policy)
    return need_steps(SCALARS, x, factor, floor, zero, policy)


def explain_lines(
    x: Mapping[str, float], grade: str, status: str | None, in_default: bool, policy: LimitPolicy
) -> list[dict[str, Any]]:
    """The derivation of one customer's limit, as lines for `score explain` (money in units)."""
    if policy.method == "months_of_sales":
        lines = [{"step": "policy", "value": "months of sales x grade (months_of_sales)"}]
    else:
        d = one_customer(x, grade, status, in_default, policy)
        lines = [{"step": k, "value": v} for k, v in _need_lines(x, grade, d, policy)]
    if in_default:
        lines.insert(0, {"step": "default", "value": "in default: no credit (limit 0)"})
    return lines


def _shown(cents: float) -> str:
    return "no cap" if not math.isfinite(cents) else grouped_text(cents)


def _need_lines(
    x: Mapping[str, float], grade: str, d: dict[str, Any], policy: LimitPolicy
) -> list[tuple[str, str]]:
    known = not math.isnan(x["terms"])
    terms = f"{d['terms_days']:.0f} days" + ("" if known else " (none invoiced in 12 months)")
    peak = f"{policy.peak_headroom} x peak = {_shown(d['need_by_peak'])}"
    lines = [
        ("monthly invoicing", _shown(d["monthly_invoicing"])),
        ("payment terms", f"{terms} + {policy.grace_days} grace"),
        ("need by terms", _shown(d["need_by_terms"])),
        ("need by peak not-yet-due", peak),
        ("need", f"{_shown(d['need'])} (driver: {d['driver']})"),
        ("grade factor", f"{grade}: {d['grade_factor']:g}"),
        ("appetite", _shown(d["appetite"])),
    ]
    if d["starter"] > 0:
        lines.append(("starter limit (short history)", _shown(d["starter"])))
    return [*lines, ("cap", _shown(d["cap"])), ("recommended limit", _shown(d["limit"]))]

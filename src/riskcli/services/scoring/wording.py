"""How a scorecard's reasons read: each factor's unit, and a bin described as an analyst would.

A reason names the factor and the band the customer fell in, in the factor's unit: a share as
a percentage (`credit limit utilisation 48.8% or more`), days as days, money with thousands
separators. The unit of a factor comes from `FACTOR_UNITS`; a factor not listed there (a
column of a history file, a factor added later) reads as a plain number, so a new factor
never breaks a reason, it only reads less well until it is listed.

Some factors only exist for companies (financial statements, years in business); for an
individual they are always missing and are never a reason (`COMPANY_ONLY`).
"""

from __future__ import annotations

from typing import Literal, Protocol

Unit = Literal["percent", "days", "money", "count", "ratio", "months", "years", "number"]

#: the unit of each known factor; unknown factors read as plain numbers
FACTOR_UNITS: dict[str, Unit] = {
    "debt_ratio": "ratio",
    "current_ratio": "ratio",
    "revenue_trend": "percent",
    "years_in_business": "years",
    "worst_dpd_12m": "days",
    "avg_dpd_12m": "days",
    "oldest_open_dpd": "days",
    "worst_dpd_incl_open": "days",
    "late_invoices_12m": "count",
    "utilisation": "percent",
    "overdue_share": "percent",
    "tenure_months": "months",
    "order_trend": "percent",
    "bureau_score": "number",
    "adverse_flags": "count",
    "overdue_amount": "money",
    "exposure": "money",
}

#: factors that describe a company's accounts or age as a business: never an individual's reason
#: (years_in_business counts from a company's registration; an individual has no such date)
COMPANY_ONLY = frozenset({"debt_ratio", "current_ratio", "revenue_trend", "years_in_business"})


class BinLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def lo(self) -> float | None: ...
    @property
    def hi(self) -> float | None: ...
    @property
    def values(self) -> list[str]: ...
    @property
    def label(self) -> str: ...


def number(value: float, unit: Unit) -> str:
    """One value in its unit: 0.4881 -> 48.8%, 30 -> 30 days, 12000 -> 12,000.00."""
    if unit == "percent":
        return f"{value * 100:,.1f}%"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "ratio":
        return f"{value:,.2f}"
    whole = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "days":
        return f"{whole} day" if value == 1 else f"{whole} days"
    if unit == "months":
        return f"{whole} month" if value == 1 else f"{whole} months"
    if unit == "years":
        return f"{whole} year" if value == 1 else f"{whole} years"
    return whole if unit == "count" else f"{value:,.4g}"


def band(factor: str, b: BinLike) -> str:
    """The band of a bin in the factor's unit: `48.8% or more`, `30 days to under 90 days`."""
    unit = FACTOR_UNITS.get(factor, "number")
    if b.kind == "missing":
        return "not known"
    if b.kind == "categories":
        return ", ".join(b.values) if b.values else b.label
    if b.kind == "range":
        if b.lo is None and b.hi is None:
            return "any"
        if b.lo is None:
            assert b.hi is not None
            return f"under {number(b.hi, unit)}"
        if b.hi is None:
            return f"{number(b.lo, unit)} or more"
        return f"{number(b.lo, unit)} to under {number(b.hi, unit)}"
    return b.label


def describe_bin(factor: str, description: str, b: BinLike) -> str:
    """`credit limit utilisation 48.8% or more`, `industry: 建筑业`, `debt ratio not known`."""
    what = description or factor
    text = band(factor, b)
    return f"{what}: {text}" if b.kind in ("categories", "other", "special") else f"{what} {text}"


def applies(factor: str, kind: str | None) -> bool:
    """Whether a factor can be a reason for a customer of this kind (individual, company)."""
    return not (kind == "individual" and factor in COMPANY_ONLY)

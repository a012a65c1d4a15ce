"""Recommended credit limits from grade, volume and an exposure policy ([scoring.limits]).

    recommended = min(monthly order volume x months_of_sales[grade],
                      max_limit,
                      max_share_of_net_assets x net assets   (when financials give net assets))

rounded down to `round_to`. Monthly volume is the customer's orders of the last 12 months / 12.
Negative net assets give 0. A customer whose current limit is above the recommendation is
flagged (`over_limit`). All money is integer cents here, as in the store.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

IntArray = npt.NDArray[np.int64]

DEFAULT_MONTHS = {"A": 3.0, "B": 2.0, "C": 1.0, "D": 0.5, "E": 0.0}


class LimitPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    months_of_sales: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MONTHS))
    max_limit: Decimal = Field(default=Decimal("5000000"), ge=0)
    max_share_of_net_assets: float = Field(default=0.2, ge=0)
    round_to: Decimal = Field(default=Decimal("1000"), gt=0)


def recommend(
    grade: npt.NDArray[np.object_],
    orders_12m_cents: npt.NDArray[np.float64],
    net_assets_cents: npt.NDArray[np.float64],
    policy: LimitPolicy,
) -> IntArray:
    """Recommended limit per customer in integer cents (vectorised)."""
    months = grade_months(np.asarray(grade, dtype=object), policy)
    volume = np.nan_to_num(np.asarray(orders_12m_cents, dtype=np.float64), nan=0.0) / 12.0
    limit = volume * months
    limit = np.minimum(limit, float(policy.max_limit) * 100)
    na = np.asarray(net_assets_cents, dtype=np.float64)
    cap = np.where(np.isnan(na), np.inf, np.maximum(na, 0.0) * policy.max_share_of_net_assets)
    limit = np.minimum(limit, cap)
    step = float(policy.round_to) * 100
    out: IntArray = (np.floor(np.maximum(limit, 0.0) / step) * step).astype(np.int64)
    return out


def grade_months(grade: npt.NDArray[np.object_], policy: LimitPolicy) -> npt.NDArray[np.float64]:
    lookup = policy.months_of_sales
    uniq, inv = np.unique(grade.astype(str), return_inverse=True)
    values = np.array([lookup.get(u, 0.0) for u in uniq], dtype=np.float64)
    out: npt.NDArray[np.float64] = values[inv]
    return out

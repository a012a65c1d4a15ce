"""Recommended credit limits for many customers at once (numpy): the need policy of
`limit_policy` on arrays, the older months-of-sales policy, and the `over_limit` flag. All money
is integer cents here, as in the store.

`over_limit` flags a customer whose exposure exceeds the recommendation by `over_limit_margin`
or whose limit is above it at grade D, E or DF (see `over_limit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskcli.domain.money import to_cents
from riskcli.services.scoring.limit_policy import (
    NEED_INPUTS,
    REDUCE_GRADES,
    LimitPolicy,
    capacity,
    eligibility,
    need_steps,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _lookup(grade: npt.NDArray[np.object_], table: Mapping[str, float]) -> FloatArray:
    uniq, inv = np.unique(np.asarray(grade, dtype=object).astype(str), return_inverse=True)
    values = np.array([table.get(u, 0.0) for u in uniq], dtype=np.float64)
    out: FloatArray = values[inv]
    return out


class _Numpy:
    """limit_policy's `Ops` on numpy arrays."""

    where = staticmethod(np.where)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    clip = staticmethod(np.clip)
    isnan = staticmethod(np.isnan)
    round = staticmethod(np.round)
    isin = staticmethod(np.isin)
    is_missing = staticmethod(pd.isna)
    lookup = staticmethod(_lookup)

    @staticmethod
    def fill_nan(a: Any, value: float) -> Any:
        return np.nan_to_num(a, nan=value)


NUMPY = _Numpy()


def grade_months(grade: npt.NDArray[np.object_], policy: LimitPolicy) -> FloatArray:
    return _lookup(grade, policy.months_of_sales)


def recommend(
    grade: npt.NDArray[np.object_],
    orders_12m_cents: FloatArray,
    net_assets_cents: FloatArray,
    policy: LimitPolicy,
) -> IntArray:
    """The months-of-sales policy, in integer cents (vectorised)."""
    months = grade_months(np.asarray(grade, dtype=object), policy)
    volume = np.nan_to_num(np.asarray(orders_12m_cents, dtype=np.float64), nan=0.0) / 12.0
    cap = capacity(NUMPY, np.asarray(net_assets_cents, dtype=np.float64), policy)
    limit = np.minimum(volume * months, cap)
    step = to_cents(policy.round_to)
    out: IntArray = (np.floor(np.maximum(limit, 0.0) / step) * step).astype(np.int64)
    return out


def derive(
    frame: pd.DataFrame, grade: npt.NDArray[np.object_], policy: LimitPolicy
) -> pd.DataFrame:
    """The need policy step by step (`limit_policy.need_steps`), one row per customer (cents):
    need, its driver, the grade factor, appetite, cap, the starter limit where history is short,
    and the limit."""
    n = len(frame)

    def col(name: str) -> FloatArray:
        if name not in frame:
            return np.full(n, np.nan)
        return np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)

    status = frame["status"].to_numpy(dtype=object) if "status" in frame else np.full(n, None)
    in_default = np.asarray(col("in_default") > 0)
    grade = np.asarray(grade, dtype=object)
    factor, floor, zero = eligibility(NUMPY, grade, status, in_default, policy)
    steps = need_steps(NUMPY, {k: col(k) for k in NEED_INPUTS}, factor, floor, zero, policy)
    steps["limit"] = steps["limit"].astype(np.int64)
    return pd.DataFrame(steps)


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

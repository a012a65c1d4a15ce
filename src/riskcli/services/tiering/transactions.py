"""The tiering input: orders and refunds as parallel arrays, dates as day numbers (days since
1970-01-01), and the conversions between dates and day numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskcli.domain.errors import InputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[int], None] | None

EPOCH = date(1970, 1, 1)


def day_number(value: date) -> int:
    return (value - EPOCH).days


def day_to_date(day: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(day))


def parse_dates(values: pd.Series) -> IntArray:
    """ISO date strings (or datetimes) -> day numbers; one-line InputError on a bad date."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values.astype(str), format="%Y-%m-%d", errors="coerce")
    if parsed.isna().any():
        bad = values[parsed.isna()].iloc[0]
        raise InputError(f"transaction date {bad!r} is not a YYYY-MM-DD date")
    days: IntArray = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days


@dataclass
class Transactions:
    """Orders and refunds as parallel arrays. `amount` is signed: refunds are negative."""

    customer_id: IntArray
    day: IntArray
    is_order: BoolArray
    amount: IntArray

    def __len__(self) -> int:
        return len(self.customer_id)

    @classmethod
    def empty(cls) -> Transactions:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), np.zeros(0, dtype=np.bool_), z.copy())

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Transactions:
        """From columns customer_id, kind (order|payment|refund), date, amount (cents)."""
        missing = {"customer_id", "kind", "date", "amount"} - set(frame.columns)
        if missing:
            raise InputError(f"transactions lack the columns {', '.join(sorted(missing))}")
        kind = frame["kind"].astype(str).str.lower()
        unknown = ~kind.isin(["order", "payment", "refund"])
        if unknown.any():
            raise InputError(f"unknown transaction kind {kind[unknown].iloc[0]!r}")
        keep = (kind != "payment").to_numpy()
        sub = frame.loc[keep]
        is_order = (kind[keep] == "order").to_numpy()
        amount = sub["amount"].to_numpy(dtype=np.int64)
        return cls(
            customer_id=sub["customer_id"].to_numpy(dtype=np.int64),
            day=parse_dates(sub["date"]),
            is_order=is_order,
            amount=np.where(is_order, amount, -amount),
        )

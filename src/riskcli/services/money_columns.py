"""Money columns: the conversions of ``riskcli.domain.money`` applied to a whole pandas column of
integer cents at once (missing cents count as 0 where a column must hold an amount)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.money import from_cents


def decimal_column(cents: pd.Series) -> pd.Series:
    """Integer cents -> Decimal currency units with two places (object column, exact)."""
    return cents.fillna(0).astype("int64").map(from_cents)


def decimal_list(cents: Any) -> list[Any]:
    """Cents that may be fractional (an EL, a provision) -> Decimal, rounded to the nearest
    cent first."""
    return [from_cents(round(float(v))) for v in cents]


def text_column(cents: pd.Series) -> pd.Series:
    """Integer cents -> exact decimal text: 123456 -> '1234.56', -5 -> '-0.05'."""
    values = cents.fillna(0).astype("int64")
    sign = pd.Series(np.where(values < 0, "-", ""), index=cents.index, dtype=object).astype(str)
    absolute = values.abs()
    whole = (absolute // 100).astype(str)
    frac = (absolute % 100).astype(str).str.zfill(2)
    out: pd.Series = sign + whole + "." + frac
    return out


def units_column(cents: pd.Series) -> pd.Series:
    """Cents -> currency units as floats rounded to two places, for frames that stay numeric
    (blank or non-numeric cells become NaN)."""
    out: pd.Series = (pd.to_numeric(cents, errors="coerce") / 100).round(2)
    return out

"""A factor column's values as the scorecard reads them: numbers, category text, the 0/1 target."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskcli.domain.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int16]


def numeric_values(series: pd.Series, name: str, *, strict: bool) -> FloatArray:
    """Float values of a column; blanks are NaN. Text that is not a number is an error."""
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    if pd.api.types.is_float_dtype(series.dtype) and not isinstance(
        series.dtype, pd.api.extensions.ExtensionDtype
    ):
        return np.asarray(series.to_numpy(), dtype=np.float64)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    cleaned = series.astype("object").where(series.notna(), None)
    text = cleaned.map(lambda v: v.strip() if isinstance(v, str) else v)
    text = text.where(text != "", None)
    converted = pd.to_numeric(text, errors="coerce")
    bad = converted.isna() & text.notna()
    if strict and bool(bad.any()):
        example = str(text[bad].iloc[0])[:40]
        raise InputError(
            f"factor {name!r} must be numeric; found {int(bad.sum())} non-numeric value(s) "
            f"such as {example!r}"
        )
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def is_numeric_column(series: pd.Series) -> bool:
    if series.dtype == bool or pd.api.types.is_numeric_dtype(series.dtype):
        return True
    values = series.dropna()
    if values.empty:
        return True
    text = values.astype(str).str.strip()
    text = text[text != ""]
    head = text.iloc[:200]  # most text columns show they are text in the first rows
    if not bool(pd.to_numeric(head, errors="coerce").notna().all()):
        return False
    return bool(pd.to_numeric(text, errors="coerce").notna().all())


def category_text(series: pd.Series) -> pd.Series:
    """Categories as text; integral numbers lose their '.0'; blanks become missing (None)."""
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):  # pandas' own string dtype: vectorised strip
        stripped = series.str.strip()
        keep = stripped.notna() & (stripped != "")
        return stripped.astype(object).where(keep.to_numpy(), None)
    obj = series.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):
        # strip each distinct value once (a factor column holds a few hundred at most)
        codes, uniques = pd.factorize(obj)
        table = np.array([*(u.strip() or None for u in uniques), None], dtype=object)
        return pd.Series(table[codes], index=series.index, dtype=object)

    def conv(v: Any) -> str | None:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        s = str(v).strip()
        return s or None

    return obj.map(conv)


def parse_target(series: pd.Series, bad: str | None = None) -> npt.NDArray[np.int8]:
    """1 for bad, 0 for good; rows without a target are an error the caller filters first.

    Without ``bad``, the target must be two-valued 0/1 (or true/false, yes/no, bad/good).
    """
    values = series.dropna()
    if bad is not None:
        text = category_text(series)
        flags = np.asarray((text == str(bad).strip()).to_numpy(), dtype=np.int8)
        return flags
    if values.empty:
        raise InputError("the target column has no values")
    known = {
        "1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0,
        "bad": 1, "good": 0, "y": 1, "n": 0, "是": 1, "否": 0,
    }  # fmt: skip
    text = series.astype(str).str.strip().str.lower()
    mapped = text.map(known)
    if bool(mapped.isna().any()):
        seen = sorted(set(text[mapped.isna()].unique()))[:5]
        raise InputError(
            f"target values must be 0/1 (1 = bad) or give --bad VALUE; found {', '.join(seen)}"
        )
    out = np.asarray(mapped.to_numpy(), dtype=np.int8)
    return out

"""The scorecard engine: binning, weight of evidence, factor selection, logistic regression and
points scaling, on any DataFrame. Pure computation: no store, no printing.

Conventions (documented in docs/scorecards.md):

* The outcome is binary; 1 means *bad* (default, 90+ days past due, ...).
* Weight of evidence of a bin is ``ln(share of goods / share of bads)`` (Siddiqi), so a higher
  WOE is a safer bin, and a higher score is a safer customer.
* Monotonic direction names the way the *bad rate* moves as the factor grows: ``asc`` (bad
  rate rises with the value, e.g. days past due), ``desc`` (falls, e.g. current ratio),
  ``auto`` (whichever of the two keeps more information value) or ``none``.
* Every factor has a bin for missing values (NaN/None/empty) and one per declared special code;
  categorical factors also have an ``other`` bin for categories that training never saw.
  A missing or special bin that training never filled gets WOE 0 (neutral). Unseen categories
  get the worst WOE of the factor by default (``unseen_category = "worst"``), or the neutral
  WOE 0 (``"neutral"``), or raise an error (``"error"``).
* Infinite values (``inf``/``-inf``) fall in the outermost range bins; NaN is missing.
* Points: ``score = offset + factor * ln(odds good:bad)`` with ``factor = pdo / ln 2`` and
  ``offset = base_points - factor * ln(base_odds)``. The intercept is spread evenly over the
  factors, so the score is exactly the sum of the points of the rows' bins, and
  ``PD = 1 / (1 + exp((score - offset) / factor))``.

The fitted :class:`Scorecard` is plain data (pydantic, JSON round-trip); there is no pickle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskcli.domain.errors import InputError, IntegrityError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Monotonic = Literal["auto", "asc", "desc", "none"]
FORMAT = "riskcli.scorecard/1"


# --------------------------------------------------------------------------------------------
# Parameters (also the [scoring] section of the TOML config)
# --------------------------------------------------------------------------------------------


class GradeBand(BaseModel):
    """A grade and the upper PD bound of its band (exclusive); the last band has max_pd 1."""

    model_config = ConfigDict(extra="forbid")
    grade: str
    max_pd: float = Field(gt=0, le=1)
    description: str = ""


DEFAULT_GRADES: list[GradeBand] = [
    GradeBand(grade="A", max_pd=0.01, description="PD below 1%"),
    GradeBand(grade="B", max_pd=0.03, description="PD 1% to 3%"),
    GradeBand(grade="C", max_pd=0.08, description="PD 3% to 8%"),
    GradeBand(grade="D", max_pd=0.20, description="PD 8% to 20%"),
    GradeBand(grade="E", max_pd=1.0, description="PD 20% and above"),
]


class Scaling(BaseModel):
    """Points scaling: `base_points` at odds `base_odds`:1 (good:bad), `pdo` points double them."""

    model_config = ConfigDict(extra="forbid")
    base_points: float = 600.0
    base_odds: float = Field(default=50.0, gt=0)
    pdo: float = Field(default=20.0, gt=0)
    points_decimals: int = Field(default=0, ge=0, le=6)

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def pd_from_score(self, score: FloatArray) -> FloatArray:
        z = np.clip((np.asarray(score, dtype=np.float64) - self.offset) / self.factor, -700, 700)
        out: FloatArray = 1.0 / (1.0 + np.exp(z))
        return out

    def score_from_pd(self, pd_: float) -> float:
        return self.offset + self.factor * math.log((1.0 - pd_) / pd_)


class BinningParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_prebins: int = Field(default=20, ge=2, le=100)
    max_bins: int = Field(default=6, ge=2, le=50)
    min_bin_frac: float = Field(default=0.02, gt=0, lt=0.5)
    monotonic: Monotonic = "auto"
    monotonic_by_factor: dict[str, Monotonic] = Field(default_factory=dict)
    categorical: list[str] = Field(default_factory=list)
    special_codes: list[float] = Field(default_factory=list)
    special_codes_by_factor: dict[str, list[float]] = Field(default_factory=dict)
    rare_category_frac: float = Field(default=0.01, ge=0, lt=0.5)
    unseen_category: Literal["worst", "neutral", "error"] = "worst"
    smoothing: float = Field(default=0.5, ge=0)


class ScorecardParams(BaseModel):
    """Training parameters; every one is documented in docs/configuration.md."""

    model_config = ConfigDict(extra="forbid")
    binning: BinningParams = Field(default_factory=BinningParams)
    min_iv: float = Field(default=0.02, ge=0)
    max_corr: float = Field(default=0.8, gt=0, le=1)
    max_factors: int | None = Field(default=None, ge=1)
    min_bads: int = Field(default=50, ge=1)
    min_goods: int = Field(default=50, ge=1)
    regularization_c: float = Field(default=0.05, gt=0)
    scaling: Scaling = Field(default_factory=Scaling)
    grades: list[GradeBand] = Field(default_factory=lambda: list(DEFAULT_GRADES))
    reasons: int = Field(default=4, ge=1, le=10)

    @field_validator("grades")
    @classmethod
    def _grades_ordered(cls, value: list[GradeBand]) -> list[GradeBand]:
        bounds = [g.max_pd for g in value]
        if not value or bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError("grade bands must have strictly increasing max_pd")
        if bounds[-1] != 1.0:
            raise ValueError("the last grade band must have max_pd = 1")
        return value


# --------------------------------------------------------------------------------------------
# The fitted scorecard (plain data)
# --------------------------------------------------------------------------------------------


class Bin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["range", "categories", "other", "missing", "special"]
    lo: float | None = None  # range: lo <= x < hi ; None is unbounded
    hi: float | None = None
    values: list[str] = Field(default_factory=list)
    code: float | None = None
    label: str
    count: int = 0
    bads: int = 0
    woe: float = 0.0
    points: float = 0.0


class Factor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    type: Literal["numeric", "categorical"]
    monotonic: Literal["asc", "desc", "none"] = "none"
    iv: float = 0.0
    coef: float = 0.0
    bins: list[Bin]
    unseen_category: Literal["worst", "neutral", "error"] = "worst"

    def best_points(self) -> float:
        return max(b.points for b in self.bins)

    def edges(self) -> list[float]:
        return [b.hi for b in self.bins if b.kind == "range" and b.hi is not None]


class Override(BaseModel):
    """A rule that forces a grade, e.g. a bankruptcy flag forces the worst grade."""

    model_config = ConfigDict(extra="forbid")
    factor: str
    equals: float
    grade: str
    reason: str


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = FORMAT
    kind: Literal["trained", "expert"] = "trained"
    target: str = "bad"
    intercept: float = 0.0
    scaling: Scaling = Field(default_factory=Scaling)
    grades: list[GradeBand] = Field(default_factory=lambda: list(DEFAULT_GRADES))
    factors: list[Factor]
    overrides: list[Override] = Field(default_factory=list)
    reasons: int = 4
    dropped: dict[str, str] = Field(default_factory=dict)

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Scorecard:
        return cls.model_validate(data)


# --------------------------------------------------------------------------------------------
# Input coercion
# --------------------------------------------------------------------------------------------


def _numeric(series: pd.Series, name: str, *, strict: bool) -> FloatArray:
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


def _is_numeric_column(series: pd.Series) -> bool:
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


def _category_text(series: pd.Series) -> pd.Series:
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
        text = _category_text(series)
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


# --------------------------------------------------------------------------------------------
# Binning
# --------------------------------------------------------------------------------------------


def _round_sig(x: float, digits: int = 6) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e15 else f"{x:.6g}"


def _woe_iv(
    counts: FloatArray, bads: FloatArray, total_goods: float, total_bads: float, smoothing: float
) -> tuple[FloatArray, float]:
    goods = counts - bads
    pg = (goods + smoothing) / (total_goods + smoothing * len(counts))
    pb = (bads + smoothing) / (total_bads + smoothing * len(counts))
    woe: FloatArray = np.log(pg / pb)
    iv = float(np.sum((goods / total_goods - bads / total_bads) * woe))
    return woe, iv


def _pava(counts: Sequence[float], bads: Sequence[float], increasing: bool) -> list[list[int]]:
    """Pool adjacent violators: groups of adjacent pre-bins with strictly monotonic bad rate."""
    blocks: list[list[float]] = []  # [n, bads, first, last]
    for i, (n, b) in enumerate(zip(counts, bads, strict=True)):
        blocks.append([n, b, i, i])
        while len(blocks) >= 2:
            n1, b1, _, _ = blocks[-2]
            n2, b2, _, _ = blocks[-1]
            r1, r2 = b1 / n1, b2 / n2
            if (r1 >= r2) if increasing else (r1 <= r2):
                last = blocks.pop()
                blocks[-1][0] += last[0]
                blocks[-1][1] += last[1]
                blocks[-1][3] = last[3]
            else:
                break
    return [list(range(int(b[2]), int(b[3]) + 1)) for b in blocks]


def _merge_groups(
    groups: list[list[int]],
    counts: FloatArray,
    bads: FloatArray,
    min_count: float,
    max_bins: int,
    total_goods: float,
    total_bads: float,
) -> list[list[int]]:
    """Merge adjacent groups until each holds >= min_count rows and there are <= max_bins.

    Merging neighbours keeps a monotonic sequence monotonic (the merged rate lies between).
    """
    groups = [list(g) for g in groups]

    def stats(g: list[int]) -> tuple[float, float]:
        return float(counts[g].sum()), float(bads[g].sum())

    while len(groups) > 1:
        sizes = [stats(g)[0] for g in groups]
        smallest = int(np.argmin(sizes))
        if sizes[smallest] >= min_count:
            break
        if smallest == 0:
            j = 1
        elif smallest == len(groups) - 1:
            j = smallest - 1
        else:
            n0, b0 = stats(groups[smallest])
            r0 = b0 / n0 if n0 else 0.0
            nl, bl = stats(groups[smallest - 1])
            nr, br = stats(groups[smallest + 1])
            j = smallest - 1 if abs(bl / nl - r0) <= abs(br / nr - r0) else smallest + 1
        a, b = sorted((smallest, j))
        groups[a : b + 1] = [groups[a] + groups[b]]
    while len(groups) > max_bins:
        best, best_loss = 0, math.inf
        for i in range(len(groups) - 1):
            n1, b1 = stats(groups[i])
            n2, b2 = stats(groups[i + 1])
            loss = (
                _pair_iv(n1, b1, total_goods, total_bads)
                + _pair_iv(n2, b2, total_goods, total_bads)
                - _pair_iv(n1 + n2, b1 + b2, total_goods, total_bads)
            )
            if loss < best_loss:
                best, best_loss = i, loss
        groups[best : best + 2] = [groups[best] + groups[best + 1]]
    return groups


def _pair_iv(n: float, b: float, total_goods: float, total_bads: float) -> float:
    g = n - b
    pg = (g + 0.5) / (total_goods + 0.5)
    pb = (b + 0.5) / (total_bads + 0.5)
    return (pg - pb) * math.log(pg / pb)


def _prebin_edges(x: FloatArray, max_prebins: int) -> list[float]:
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return []
    qs = np.linspace(0.0, 1.0, max_prebins + 1)[1:-1]
    raw = np.quantile(finite, qs, method="linear")
    edges = sorted({_round_sig(float(e)) for e in raw})
    # drop edges that leave an empty bin on their left (and a last empty bin)
    idx = np.searchsorted(np.asarray(edges), finite, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    keep = [e for i, e in enumerate(edges) if counts[i] > 0]
    if keep and counts[len(edges)] == 0:
        keep = keep[:-1]
    return keep


def _range_label(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return "any value"
    if lo is None:
        assert hi is not None
        return f"< {_fmt(hi)}"
    if hi is None:
        return f">= {_fmt(lo)}"
    return f"{_fmt(lo)} to < {_fmt(hi)}"


def bin_numeric(
    name: str,
    x: FloatArray,
    y: npt.NDArray[np.int8],
    params: BinningParams,
    description: str = "",
) -> Factor:
    """Optimal-ish monotonic binning of one numeric factor (quantile pre-bins, PAVA, merges)."""
    if name in params.special_codes_by_factor:
        specials = [float(c) for c in params.special_codes_by_factor[name]]
    else:  # global codes get a bin only where training holds them
        specials = [float(c) for c in params.special_codes if bool(np.any(x == float(c)))]
    missing = np.isnan(x)
    special_mask = np.zeros(len(x), dtype=bool)
    for code in specials:
        special_mask |= x == code
    regular = ~missing & ~special_mask
    xr, yr = x[regular], y[regular]
    total_bads = float(y.sum())
    total_goods = float(len(y) - total_bads)
    edges = _prebin_edges(xr, params.max_prebins)
    edge_arr = np.asarray(edges, dtype=np.float64)
    idx = np.searchsorted(edge_arr, xr, side="right")
    nb = len(edges) + 1
    counts: FloatArray = np.bincount(idx, minlength=nb).astype(np.float64)
    bads: FloatArray = np.bincount(idx, weights=yr.astype(np.float64), minlength=nb).astype(
        np.float64
    )
    min_count = params.min_bin_frac * len(x)
    mode = params.monotonic_by_factor.get(name, params.monotonic)

    def grouped(direction: str) -> list[list[int]]:
        if direction == "none":
            groups = [[i] for i in range(nb)]
        else:
            groups = _pava(list(counts), list(bads), increasing=direction == "asc")
        return _merge_groups(
            groups, counts, bads, min_count, params.max_bins, total_goods, total_bads
        )

    def iv_of(groups: list[list[int]]) -> float:
        c = np.array([counts[g].sum() for g in groups])
        b = np.array([bads[g].sum() for g in groups])
        return _woe_iv(c, b, total_goods, total_bads, params.smoothing)[1]

    if xr.size == 0:
        direction, groups = "none", []
    elif mode == "auto":
        cand = {d: grouped(d) for d in ("asc", "desc")}
        direction = max(cand, key=lambda d: iv_of(cand[d]))
        groups = cand[direction]
    else:
        direction, groups = mode, grouped(mode)
    if len(groups) <= 1:
        direction = "none" if mode == "auto" else direction

    bins: list[Bin] = []
    bin_counts: list[float] = []
    bin_bads: list[float] = []
    for g in groups:
        lo = None if g[0] == 0 else edges[g[0] - 1]
        hi = None if g[-1] == nb - 1 else edges[g[-1]]
        bins.append(Bin(kind="range", lo=lo, hi=hi, label=_range_label(lo, hi)))
        bin_counts.append(float(counts[g].sum()))
        bin_bads.append(float(bads[g].sum()))
    if not groups:
        bins.append(Bin(kind="range", label="any value"))
        bin_counts.append(0.0)
        bin_bads.append(0.0)
    bins.append(Bin(kind="missing", label="missing"))
    bin_counts.append(float(missing.sum()))
    bin_bads.append(float(y[missing].sum()))
    for code in specials:
        m = x == code
        bins.append(Bin(kind="special", code=code, label=f"special code {_fmt(code)}"))
        bin_counts.append(float(m.sum()))
        bin_bads.append(float(y[m].sum()))
    factor = Factor(
        name=name,
        description=description or name,
        type="numeric",
        monotonic=direction,
        bins=bins,
    )
    _set_woe(factor, np.array(bin_counts), np.array(bin_bads), total_goods, total_bads, params)
    return factor


def bin_categorical(
    name: str,
    values: pd.Series,
    y: npt.NDArray[np.int8],
    params: BinningParams,
    description: str = "",
) -> Factor:
    """Group categories: rare ones pooled, then ordered by bad rate and merged by size/IV."""
    text = _category_text(values)
    missing = text.isna().to_numpy()
    total_bads = float(y.sum())
    total_goods = float(len(y) - total_bads)
    frame = pd.DataFrame({"c": text[~missing].to_numpy(), "y": y[~missing]})
    stats = frame.groupby("c", sort=True)["y"].agg(["count", "sum"])
    rare_limit = params.rare_category_frac * len(y)
    rare = stats[stats["count"] < rare_limit]
    common = stats[stats["count"] >= rare_limit]
    cats: list[list[str]] = [[str(c)] for c in common.index]
    c_counts = [float(v) for v in common["count"]]
    c_bads = [float(v) for v in common["sum"]]
    if len(rare):
        cats.append([str(c) for c in rare.index])
        c_counts.append(float(rare["count"].sum()))
        c_bads.append(float(rare["sum"].sum()))
    sm = params.smoothing
    order = sorted(range(len(cats)), key=lambda i: (c_bads[i] + sm) / (c_counts[i] + 2 * sm))
    cats = [cats[i] for i in order]
    counts = np.array([c_counts[i] for i in order], dtype=np.float64)
    bads = np.array([c_bads[i] for i in order], dtype=np.float64)
    groups = _merge_groups(
        [[i] for i in range(len(cats))],
        counts,
        bads,
        params.min_bin_frac * len(y),
        params.max_bins,
        total_goods,
        total_bads,
    )
    bins: list[Bin] = []
    bin_counts: list[float] = []
    bin_bads: list[float] = []
    for g in groups:
        members = sorted(v for i in g for v in cats[i])
        label = ", ".join(members) if len(members) <= 4 else ", ".join(members[:4]) + ", ..."
        bins.append(Bin(kind="categories", values=members, label=label))
        bin_counts.append(float(counts[g].sum()))
        bin_bads.append(float(bads[g].sum()))
    bins.append(Bin(kind="other", label="a category not seen in training"))
    bin_counts.append(0.0)
    bin_bads.append(0.0)
    bins.append(Bin(kind="missing", label="missing"))
    bin_counts.append(float(missing.sum()))
    bin_bads.append(float(y[missing].sum()))
    factor = Factor(
        name=name,
        description=description or name,
        type="categorical",
        monotonic="none",
        bins=bins,
        unseen_category=params.unseen_category,
    )
    _set_woe(factor, np.array(bin_counts), np.array(bin_bads), total_goods, total_bads, params)
    return factor


def _set_woe(
    factor: Factor,
    counts: FloatArray,
    bads: FloatArray,
    total_goods: float,
    total_bads: float,
    params: BinningParams,
) -> None:
    filled = counts > 0
    woe = np.zeros(len(counts))
    iv = 0.0
    if filled.any():
        w, iv = _woe_iv(counts[filled], bads[filled], total_goods, total_bads, params.smoothing)
        woe[filled] = w
    regular = [i for i, b in enumerate(factor.bins) if b.kind in ("range", "categories")]
    for i, b in enumerate(factor.bins):
        b.count = int(counts[i])
        b.bads = int(bads[i])
        b.woe = float(woe[i])
        if b.kind == "other" and factor.unseen_category == "worst" and regular:
            b.woe = float(min(woe[j] for j in regular))
    factor.iv = float(iv)


# --------------------------------------------------------------------------------------------
# Applying bins
# --------------------------------------------------------------------------------------------


def bin_index(factor: Factor, column: pd.Series) -> IntArray:
    """The bin number of every row for one factor (vectorised)."""
    kinds = [b.kind for b in factor.bins]
    missing_idx = kinds.index("missing")
    if factor.type == "numeric":
        x = _numeric(column, factor.name, strict=True)
        edges = np.asarray(factor.edges(), dtype=np.float64)
        idx = np.searchsorted(edges, x, side="right").astype(np.int64)
        for i, b in enumerate(factor.bins):
            if b.kind == "special":
                idx[x == b.code] = i
        idx[np.isnan(x)] = missing_idx
        return idx
    mapping = {v: i for i, b in enumerate(factor.bins) if b.kind == "categories" for v in b.values}
    other_idx = kinds.index("other")
    # each distinct value is looked up once; the missing ones (code -1) take the last entry
    codes, uniques = pd.factorize(_category_text(column))
    unseen = [k for k, u in enumerate(uniques) if u not in mapping]
    if factor.unseen_category == "error" and unseen:
        # uniques come in order of first appearance: the first unseen one is the first row's
        example = str(uniques[unseen[0]])[:40]
        raise InputError(
            f"factor {factor.name!r} has {int(np.isin(codes, unseen).sum())} value(s) not seen "
            f"in training, such as {example!r}"
        )
    table = np.array([*(mapping.get(u, other_idx) for u in uniques), missing_idx], np.int64)
    out: IntArray = table[codes]
    return out


def bin_matrix(card: Scorecard | Sequence[Factor], data: pd.DataFrame) -> IntArray:
    factors = card.factors if isinstance(card, Scorecard) else list(card)
    absent = [f.name for f in factors if f.name not in data.columns]
    if absent:
        raise InputError(f"the data lacks factor column(s): {', '.join(absent)}")
    out = np.empty((len(data), len(factors)), dtype=np.int64)
    for j, f in enumerate(factors):
        out[:, j] = bin_index(f, data[f.name])
    return out


def woe_matrix(factors: Sequence[Factor], bins: IntArray) -> FloatArray:
    out = np.empty(bins.shape, dtype=np.float64)
    for j, f in enumerate(factors):
        table = np.array([b.woe for b in f.bins], dtype=np.float64)
        out[:, j] = table[bins[:, j]]
    return out


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


class FitResult(BaseModel):
    scorecard: Scorecard
    all_factors: list[Factor]  # every binned factor with IV (the points table of candidates)
    selection: dict[str, str]  # factor -> "selected" or why it was dropped


def check_target(y: npt.NDArray[np.int8], params: ScorecardParams) -> None:
    bads = int(y.sum())
    goods = int(len(y) - bads)
    if bads == 0 or goods == 0:
        raise InputError(
            "the target has only one class ("
            + ("no bad outcomes" if bads == 0 else "no good outcomes")
            + "); a scorecard needs both — for a book without default history use "
            "`riskcli score expert`"
        )
    if bads < params.min_bads:
        raise InputError(
            f"only {bads} bad outcome(s); at least {params.min_bads} are needed to train a "
            "scorecard (scoring.min_bads) — use `riskcli score expert` instead"
        )
    if goods < params.min_goods:
        raise InputError(
            f"only {goods} good outcome(s); at least {params.min_goods} are needed "
            "(scoring.min_goods)"
        )


def bin_all(
    data: pd.DataFrame,
    y: npt.NDArray[np.int8],
    params: ScorecardParams,
    descriptions: dict[str, str] | None = None,
) -> tuple[list[Factor], dict[str, str]]:
    """Bin every column; constant or all-missing columns are dropped with a reason."""
    descriptions = descriptions or {}
    factors: list[Factor] = []
    dropped: dict[str, str] = {}
    for name in data.columns:
        col = data[name]
        nonnull = col.dropna()
        if not pd.api.types.is_numeric_dtype(col.dtype) and col.dtype != bool:
            nonnull = nonnull[nonnull.astype(str).str.strip() != ""]
        if nonnull.empty:
            dropped[str(name)] = "all values missing"
            continue
        has_missing = len(nonnull) < len(col)
        if (
            not pd.api.types.is_numeric_dtype(col.dtype)
            and nonnull.nunique() > max(50, 0.5 * len(col))
            and not _is_numeric_column(col)
        ):
            dropped[str(name)] = "too many distinct values (an identifier?)"
            continue
        if nonnull.nunique() <= 1 and not has_missing:
            dropped[str(name)] = "constant"
            continue
        desc = descriptions.get(str(name), "")
        if str(name) not in params.binning.categorical and _is_numeric_column(col):
            x = _numeric(col, str(name), strict=True)
            finite = x[np.isfinite(x)]
            if (
                finite.size
                and np.unique(finite).size <= 1
                and not (has_missing or np.isinf(x).any())
            ):
                dropped[str(name)] = "constant"
                continue
            factors.append(bin_numeric(str(name), x, y, params.binning, desc))
        else:
            factors.append(bin_categorical(str(name), col, y, params.binning, desc))
    return factors, dropped


def fit_scorecard(
    data: pd.DataFrame,
    y: npt.NDArray[np.int8],
    params: ScorecardParams | None = None,
    *,
    target: str = "bad",
    descriptions: dict[str, str] | None = None,
) -> FitResult:
    """Bin, select, regress and scale. ``data`` holds only candidate factor columns."""
    params = params or ScorecardParams()
    y = np.asarray(y, dtype=np.int8)
    if len(y) != len(data):
        raise InputError("the target and the data differ in length")
    check_target(y, params)
    factors, dropped = bin_all(data, y, params, descriptions)
    selection: dict[str, str] = dict(dropped)
    by_iv = sorted(factors, key=lambda f: f.iv, reverse=True)
    candidates: list[Factor] = []
    for f in by_iv:
        if f.iv < params.min_iv:
            selection[f.name] = f"information value {f.iv:.4f} below min_iv {params.min_iv}"
        else:
            candidates.append(f)
    if not candidates:
        raise InputError(
            f"no factor reaches the minimum information value {params.min_iv}; "
            "nothing to build a scorecard on"
        )
    bins = bin_matrix(candidates, data)
    woe = woe_matrix(candidates, bins)
    kept: list[int] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(woe, rowvar=False) if woe.shape[1] > 1 else np.ones((1, 1))
    corr = np.nan_to_num(np.atleast_2d(corr))
    for j, f in enumerate(candidates):
        clash = [k for k in kept if abs(corr[j, k]) > params.max_corr]
        if clash:
            other = candidates[clash[0]].name
            selection[f.name] = (
                f"correlated with {other} (|r| = {abs(corr[j, clash[0]]):.2f} > "
                f"{params.max_corr}), which has the higher IV"
            )
            continue
        if params.max_factors is not None and len(kept) >= params.max_factors:
            selection[f.name] = f"beyond max_factors {params.max_factors}"
            continue
        kept.append(j)
    # Logistic regression; a factor whose coefficient has the wrong sign (WOE up => risk up)
    # is unstable (collinearity) and is dropped before refitting.
    while True:
        intercept, coefs = logistic_regression(woe[:, kept], y, params.regularization_c)
        worst = int(np.argmax(coefs))
        if coefs[worst] <= 0 or len(kept) == 1:
            break
        selection[candidates[kept[worst]].name] = (
            "coefficient with the wrong sign in the regression (collinear with other factors)"
        )
        kept.pop(worst)
    chosen = [candidates[j].model_copy(deep=True) for j in kept]
    for f, c in zip(chosen, coefs, strict=True):
        f.coef = float(c)
        selection[f.name] = "selected"
    card = Scorecard(
        target=target,
        intercept=intercept,
        scaling=params.scaling,
        grades=params.grades,
        factors=chosen,
        reasons=params.reasons,
        dropped={k: v for k, v in selection.items() if v != "selected"},
    )
    assign_points(card)
    return FitResult(scorecard=card, all_factors=by_iv, selection=selection)


def logistic_regression(
    x: FloatArray, y: npt.NDArray[np.int8], c: float = 1.0, *, max_iter: int = 50
) -> tuple[float, FloatArray]:
    """L2-penalised logistic regression by Newton's method (IRLS); no intercept penalty.

    Minimises ``c * sum(log loss) + 0.5 * |w|^2``, the objective of scikit-learn's
    LogisticRegression(C=c), without importing scikit-learn (its import alone takes seconds).
    """
    n, k = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    target = np.asarray(y, dtype=np.float64)
    rate = min(max(float(target.mean()), 1e-6), 1 - 1e-6)
    w = np.zeros(k + 1)
    w[0] = math.log(rate / (1 - rate))
    ridge = np.ones(k + 1)
    ridge[0] = 0.0

    def objective(v: FloatArray) -> float:
        z = design @ v
        loss = float(np.sum(np.logaddexp(0.0, z) - target * z))
        return c * loss + 0.5 * float(np.sum(ridge * v * v))

    current = objective(w)
    for _ in range(max_iter):
        z = design @ w
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function without overflow
        grad = c * (design.T @ (p - target)) + ridge * w
        hess = c * (design.T * (p * (1 - p))) @ design + np.diag(ridge) + 1e-9 * np.eye(k + 1)
        step = np.linalg.solve(hess, grad)
        # backtracking keeps every step downhill (the penalised objective is convex)
        t = 1.0
        while t > 1e-10:
            trial = w - t * step
            value = objective(trial)
            if value <= current:
                break
            t *= 0.5
        w, improvement, current = trial, current - value, value
        if float(np.max(np.abs(t * step))) < 1e-9 or improvement < 1e-12 * max(1.0, current):
            break
    coefs: FloatArray = w[1:].copy()
    return float(w[0]), coefs


def assign_points(card: Scorecard) -> None:
    """Points per bin from coefficients and WOE; the intercept is spread over the factors."""
    s = card.scaling
    n = len(card.factors)
    for f in card.factors:
        for b in f.bins:
            raw = -(f.coef * b.woe + card.intercept / n) * s.factor + s.offset / n
            b.points = round(raw, s.points_decimals) if s.points_decimals else float(round(raw))


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


class Scored(BaseModel):
    """Per-row results as arrays (kept as numpy for speed; not serialised)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    bins: Any  # IntArray n x k
    points: Any  # FloatArray n x k
    score: Any  # FloatArray n
    pd: Any  # FloatArray n
    grade: Any  # object array n
    codes: Any  # CodeArray n x r: the reasons as codes (see ReasonTexts), NO_REASON after the last
    reasons: Any  # object array n x r (None where fewer reasons); None unless texts were asked
    override: Any  # object array n (override reason or None)


def grade_of(pd_: FloatArray, grades: Sequence[GradeBand]) -> npt.NDArray[np.object_]:
    bounds = np.array([g.max_pd for g in grades[:-1]], dtype=np.float64)
    names = np.array([g.grade for g in grades], dtype=object)
    out: npt.NDArray[np.object_] = names[np.searchsorted(bounds, pd_, side="right")]
    return out


def score_frame(card: Scorecard, data: pd.DataFrame) -> Scored:
    """Score every row: points per factor, total, PD, grade and reason texts."""
    bins = bin_matrix(card, data)
    return score_bins(card, bins, data)


def score_bins(
    card: Scorecard, bins: IntArray, data: pd.DataFrame | None = None, *, texts: bool = True
) -> Scored:
    """Points, score, PD, grade and reasons of binned rows; overrides read their factor in `data`.

    The reasons are codes (`Scored.codes`); their texts (`Scored.reasons`) are looked up from
    the codes unless `texts` is false.
    """
    n, k = bins.shape
    tables = [np.array([b.points for b in f.bins], dtype=np.float64) for f in card.factors]
    points = np.empty((n, k), dtype=np.float64)
    for j in range(k):
        points[:, j] = tables[j][bins[:, j]]
    score = points.sum(axis=1)
    if card.scaling.points_decimals:
        score = np.round(score, card.scaling.points_decimals)
    pd_ = card.scaling.pd_from_score(score)
    grade = grade_of(pd_, card.grades)
    best = np.array([t.max() for t in tables], dtype=np.float64)
    loss = best[None, :] - points
    r = min(card.reasons, k)
    order = np.argsort(-loss, axis=1, kind="stable")[:, :r]
    lost = np.take_along_axis(loss, order, axis=1) > 1e-9
    # the factors that lose no points come last in `order`: NO_REASON only ever trails
    codes: CodeArray = np.where(lost, order, NO_REASON).astype(np.int16)
    override = np.full(n, None, dtype=object)
    if card.overrides and data is not None:
        first = np.full(n, NO_REASON, dtype=np.int16)
        for i, o in enumerate(card.overrides):
            if o.factor not in data.columns:
                continue
            x = _numeric(data[o.factor], o.factor, strict=False)
            hit = (x == o.equals) & (override == None)  # noqa: E711
            override[hit] = o.reason
            grade[hit] = o.grade
            first[hit] = override_code(i)
        hit_any = override != None  # noqa: E711
        if hit_any.any():
            # the override is the first reason
            codes[hit_any, 1:] = codes[hit_any, :-1]
            codes[hit_any, 0] = first[hit_any]
    reasons = ReasonTexts(card).matrix(bins, codes) if texts else None
    return Scored(
        bins=bins, points=points, score=score, pd=pd_, grade=grade, codes=codes, reasons=reasons,
        override=override,
    )  # fmt: skip


def reason_text(factor: Factor, b: Bin) -> str:
    """The reason a bin gives, in the factor's unit (see `riskcli.services.scoring.wording`)."""
    from riskcli.services.scoring.wording import describe_bin

    return describe_bin(factor.name, factor.description, b)


# --------------------------------------------------------------------------------------------
# Reason codes
# --------------------------------------------------------------------------------------------

CodeArray = npt.NDArray[np.int16]

#: `Scored.codes` holds factor j as j, override i as -1 - i, and NO_REASON after the last reason.
NO_REASON = -0x8000
#: A stored score keeps at most this many reasons, one byte each: the code modulo 256, so factor
#: j is the byte j (< 0xF0) and override i the byte 0xFF - i (migration m060).
STORED_REASONS = 4
MAX_FACTOR_CODES = 0xF0
MAX_OVERRIDE_CODES = 14
#: the reason of a customer in default (grade DF): byte 0xF0, above every override's byte
DEFAULT_CODE = -0x10
DEFAULT_REASON = "in default: a material amount is overdue beyond the default threshold"
#: the grade of a customer in default: outside the model's bands, below its worst grade
DEFAULT_GRADE = "DF"


def override_code(i: int) -> int:
    return -1 - i


def check_reason_codes(card: Scorecard) -> None:
    """A model whose reasons fit the stored one-byte codes, or a clear error."""
    if len(card.factors) >= MAX_FACTOR_CODES:
        raise InputError(
            f"the model has {len(card.factors)} factors; a stored score run takes at most "
            f"{MAX_FACTOR_CODES - 1} (its reasons are one byte each)"
        )
    if len(card.overrides) > MAX_OVERRIDE_CODES:
        raise InputError(
            f"the model has {len(card.overrides)} overrides; a stored score run takes at most "
            f"{MAX_OVERRIDE_CODES} (its reasons are one byte each)"
        )


def reason_blobs(codes: CodeArray) -> list[bytearray]:
    """Each row's first STORED_REASONS codes as bytes, without the NO_REASON markers.

    A bytearray because the sqlite3 module binds it as a BLOB directly (bytes would go through
    its adapter lookup); an empty one is an empty BLOB, not NULL.
    """
    head = codes[:, :STORED_REASONS]
    n, r = head.shape
    count = (head != NO_REASON).sum(axis=1).tolist()
    buf = head.astype(np.uint8).tobytes()  # wraps modulo 256: override i becomes 0xFF - i
    return [bytearray(buf[s : s + c]) for s, c in zip(range(0, n * r, r), count, strict=True)]


def codes_of_bytes(values: npt.NDArray[np.int16]) -> CodeArray:
    """Stored bytes back to codes (-1 marks no byte, i.e. no reason)."""
    out: CodeArray = np.where(
        values < 0, NO_REASON, np.where(values < MAX_FACTOR_CODES, values, values - 0x100)
    ).astype(np.int16)
    return out


class ReasonTexts:
    """The reason texts of one model, looked up by reason code (build it once per model)."""

    def __init__(self, card: Scorecard) -> None:
        texts = [reason_text(f, b) for f in card.factors for b in f.bins]
        sizes = [len(f.bins) for f in card.factors]
        self._sizes = np.array(sizes, dtype=np.int64)
        self._offsets = np.cumsum([0, *sizes[:-1]], dtype=np.int64)
        self._overrides = len(card.overrides)
        self._first_override = len(texts)
        self._table = np.array(
            [*texts, *(o.reason for o in card.overrides), DEFAULT_REASON, None], dtype=object
        )
        from riskcli.services.scoring.wording import applies

        #: factor codes that are never an individual's reason
        self._company_only = {
            j for j, f in enumerate(card.factors) if not applies(f.name, "individual")
        }

    def matrix(
        self, bins: npt.NDArray[np.integer[Any]], codes: CodeArray
    ) -> npt.NDArray[np.object_]:
        """The texts of n rows' codes (n x r; None for NO_REASON) given their bins (n x k)."""
        index = np.full(codes.shape, len(self._table) - 1, dtype=np.int64)
        factor = codes >= 0
        if factor.any():
            rows, cols = np.nonzero(factor)
            j = codes[rows, cols].astype(np.int64)
            if int(j.max()) >= len(self._sizes):
                raise IntegrityError("a stored score names a reason its model does not have")
            b = np.asarray(bins[rows, j], dtype=np.int64)
            if bool((b >= self._sizes[j]).any()):
                raise IntegrityError("a stored score names a bin its model does not have")
            index[rows, cols] = self._offsets[j] + b
        defaulted = codes == DEFAULT_CODE
        index[defaulted] = len(self._table) - 2
        overridden = (codes < 0) & (codes != NO_REASON) & ~defaulted
        if overridden.any():
            i = -1 - codes[overridden].astype(np.int64)
            if int(i.max()) >= self._overrides:
                raise IntegrityError("a stored score names an override its model does not have")
            index[overridden] = self._first_override + i
        out: npt.NDArray[np.object_] = self._table[index]
        return out

    def stored(
        self,
        bins: bytes,
        reasons: bytes | None,
        legacy: Sequence[Any] = (),
        kind: str | None = None,
    ) -> list[str]:
        """The reason texts of one stored score, most points lost first.

        `reasons` is the score's code blob; NULL (None) for a score stored before reason codes
        (m060), whose texts are `legacy` (its reason1..reason4). For an individual (`kind`),
        factors that only describe companies are left out.
        """
        if not isinstance(reasons, bytes | bytearray):  # NULL, or NaN from a DataFrame
            return [t for t in legacy if isinstance(t, str) and t]
        if not reasons:
            return []
        row = np.frombuffer(bytes(bins), dtype=np.uint8)[None, :]
        codes = codes_of_bytes(np.frombuffer(bytes(reasons), dtype=np.uint8).astype(np.int16))
        if kind == "individual" and self._company_only:
            codes = codes[[int(c) not in self._company_only for c in codes]]
            if not codes.size:
                return []
        return [str(t) for t in self.matrix(row, codes[None, :])[0]]

    def first_stored(
        self, bins: Sequence[bytes], first: Sequence[bytes | None], legacy: Sequence[Any]
    ) -> list[str | None]:
        """The first reason text of many stored scores of this model (vectorised).

        `first` holds the first byte of each score's code blob (`substr(reasons, 1, 1)`): empty
        when it has no reason, NULL for a score from before reason codes, whose text is
        `legacy` (reason1).
        """
        n = len(bins)
        if n == 0:
            return []
        # -2: NULL (or NaN from a DataFrame), a score from before codes; -1: no reason
        byte = np.fromiter(
            (-2 if not isinstance(c, bytes) else c[0] if c else -1 for c in first),
            dtype=np.int16,
            count=n,
        )
        flat = np.frombuffer(b"".join(bins), dtype=np.uint8)
        if flat.size != n * len(self._sizes):
            raise IntegrityError("stored scores do not have one bin per factor of their model")
        codes = codes_of_bytes(np.where(byte == -2, -1, byte).astype(np.int16))
        texts = self.matrix(flat.reshape(n, len(self._sizes)), codes[:, None])[:, 0]
        old = byte == -2
        if old.any():
            texts[old] = np.asarray(legacy, dtype=object)[old]
        out: list[str | None] = texts.tolist()
        return out


def points_table(card: Scorecard) -> list[dict[str, Any]]:
    """One row per factor and bin: what a credit committee reads."""
    rows: list[dict[str, Any]] = []
    for f in card.factors:
        for b in f.bins:
            rows.append(
                {
                    "factor": f.name,
                    "bin": b.label,
                    "count": b.count,
                    "bads": b.bads,
                    "bad_rate": round(b.bads / b.count, 4) if b.count else None,
                    "woe": round(b.woe, 4),
                    "points": b.points,
                    "iv": round(f.iv, 4),
                }
            )
    return rows


SAFE_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")

"""Binning: a factor's bins from training data (quantile pre-bins, monotonic pooling, merges),
and every row's bin under a fitted card.

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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring.card import Bin, Factor, Scorecard, fmt_number, range_label
from riskcli.services.scoring.columns import (
    FloatArray,
    IntArray,
    category_text,
    is_numeric_column,
    numeric_values,
)
from riskcli.services.scoring.params import BinningParams, ScorecardParams
from riskcli.services.scoring.woe import set_woe, woe_iv


def _round_sig(x: float, digits: int = 6) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


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


@dataclass
class _Tally:
    """A factor's bins in order, with each one's training rows and bads."""

    bins: list[Bin] = field(default_factory=list)
    counts: list[float] = field(default_factory=list)
    bads: list[float] = field(default_factory=list)

    def add(self, b: Bin, count: float, bads: float) -> None:
        self.bins.append(b)
        self.counts.append(count)
        self.bads.append(bads)

    def add_rows(self, b: Bin, rows: npt.NDArray[np.bool_], y: npt.NDArray[np.int8]) -> None:
        self.add(b, float(rows.sum()), float(y[rows].sum()))

    def woe_of(self, factor: Factor, pre_goods: float, pre_bads: float, p: BinningParams) -> Factor:
        """`factor` (holding these bins) with their WOE and its IV set."""
        set_woe(factor, np.array(self.counts), np.array(self.bads), pre_goods, pre_bads, p)
        return factor


@dataclass
class _Prebins:
    """The regular (not missing, not special) values of a factor counted in quantile pre-bins."""

    edges: list[float]
    counts: FloatArray
    bads: FloatArray
    total_goods: float
    total_bads: float

    @property
    def size(self) -> int:
        return len(self.edges) + 1

    def group_iv(self, groups: list[list[int]], smoothing: float) -> float:
        c = np.array([self.counts[g].sum() for g in groups])
        b = np.array([self.bads[g].sum() for g in groups])
        return woe_iv(c, b, self.total_goods, self.total_bads, smoothing)[1]


def _prebins(
    xr: FloatArray, yr: npt.NDArray[np.int8], y: npt.NDArray[np.int8], max_prebins: int
) -> _Prebins:
    edges = _prebin_edges(xr, max_prebins)
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), xr, side="right")
    nb = len(edges) + 1
    counts: FloatArray = np.bincount(idx, minlength=nb).astype(np.float64)
    bads: FloatArray = np.bincount(idx, weights=yr.astype(np.float64), minlength=nb).astype(
        np.float64
    )
    total_bads = float(y.sum())
    return _Prebins(edges, counts, bads, float(len(y) - total_bads), total_bads)


def _monotonic_groups(
    pre: _Prebins, mode: str, min_count: float, params: BinningParams
) -> tuple[str, list[list[int]]]:
    """The factor's direction and its groups of adjacent pre-bins (`auto`: the direction that
    keeps more information value)."""

    def grouped(direction: str) -> list[list[int]]:
        if direction == "none":
            groups = [[i] for i in range(pre.size)]
        else:
            groups = _pava(list(pre.counts), list(pre.bads), increasing=direction == "asc")
        return _merge_groups(
            groups, pre.counts, pre.bads, min_count, params.max_bins, pre.total_goods,
            pre.total_bads,
        )  # fmt: skip

    if mode == "auto":
        cand = {d: grouped(d) for d in ("asc", "desc")}
        direction = max(cand, key=lambda d: pre.group_iv(cand[d], params.smoothing))
        return direction, cand[direction]
    return mode, grouped(mode)


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
    pre = _prebins(x[regular], y[regular], y, params.max_prebins)
    mode = params.monotonic_by_factor.get(name, params.monotonic)
    groups: list[list[int]] = []
    if not regular.any():
        direction = "none"
    else:
        direction, groups = _monotonic_groups(pre, mode, params.min_bin_frac * len(x), params)
    if len(groups) <= 1:
        direction = "none" if mode == "auto" else direction
    tally = _numeric_bins(pre, groups)
    tally.add_rows(Bin(kind="missing", label="missing"), missing, y)
    for code in specials:
        label = f"special code {fmt_number(code)}"
        tally.add_rows(Bin(kind="special", code=code, label=label), x == code, y)
    factor = Factor(
        name=name,
        description=description or name,
        type="numeric",
        monotonic=direction,
        bins=tally.bins,
    )
    return tally.woe_of(factor, pre.total_goods, pre.total_bads, params)


def _numeric_bins(pre: _Prebins, groups: list[list[int]]) -> _Tally:
    """The range bins of the groups (one unbounded bin when there are none)."""
    tally = _Tally()
    for g in groups:
        lo = None if g[0] == 0 else pre.edges[g[0] - 1]
        hi = None if g[-1] == pre.size - 1 else pre.edges[g[-1]]
        b = Bin(kind="range", lo=lo, hi=hi, label=range_label(lo, hi))
        tally.add(b, float(pre.counts[g].sum()), float(pre.bads[g].sum()))
    if not groups:
        tally.add(Bin(kind="range", label="any value"), 0.0, 0.0)
    return tally


def bin_categorical(
    name: str,
    values: pd.Series,
    y: npt.NDArray[np.int8],
    params: BinningParams,
    description: str = "",
) -> Factor:
    """Group categories: rare ones pooled, then ordered by bad rate and merged by size/IV."""
    text = category_text(values)
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
    tally = _Tally()
    for g in groups:
        members = sorted(v for i in g for v in cats[i])
        label = ", ".join(members) if len(members) <= 4 else ", ".join(members[:4]) + ", ..."
        b = Bin(kind="categories", values=members, label=label)
        tally.add(b, float(counts[g].sum()), float(bads[g].sum()))
    tally.add(Bin(kind="other", label="a category not seen in training"), 0.0, 0.0)
    tally.add_rows(Bin(kind="missing", label="missing"), missing, y)
    factor = Factor(
        name=name,
        description=description or name,
        type="categorical",
        monotonic="none",
        bins=tally.bins,
        unseen_category=params.unseen_category,
    )
    return tally.woe_of(factor, total_goods, total_bads, params)


def bin_index(factor: Factor, column: pd.Series) -> IntArray:
    """The bin number of every row for one factor (vectorised)."""
    kinds = [b.kind for b in factor.bins]
    missing_idx = kinds.index("missing")
    if factor.type == "numeric":
        x = numeric_values(column, factor.name, strict=True)
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
    codes, uniques = pd.factorize(category_text(column))
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
            and not is_numeric_column(col)
        ):
            dropped[str(name)] = "too many distinct values (an identifier?)"
            continue
        if nonnull.nunique() <= 1 and not has_missing:
            dropped[str(name)] = "constant"
            continue
        desc = descriptions.get(str(name), "")
        if str(name) not in params.binning.categorical and is_numeric_column(col):
            x = numeric_values(col, str(name), strict=True)
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

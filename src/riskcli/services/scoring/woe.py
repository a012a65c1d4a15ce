"""Weight of evidence and information value of a factor's bins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from riskcli.services.scoring.card import Factor
from riskcli.services.scoring.columns import FloatArray, IntArray
from riskcli.services.scoring.params import BinningParams


def woe_iv(
    counts: FloatArray, bads: FloatArray, total_goods: float, total_bads: float, smoothing: float
) -> tuple[FloatArray, float]:
    goods = counts - bads
    pg = (goods + smoothing) / (total_goods + smoothing * len(counts))
    pb = (bads + smoothing) / (total_bads + smoothing * len(counts))
    woe: FloatArray = np.log(pg / pb)
    iv = float(np.sum((goods / total_goods - bads / total_bads) * woe))
    return woe, iv


def set_woe(
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
        w, iv = woe_iv(counts[filled], bads[filled], total_goods, total_bads, params.smoothing)
        woe[filled] = w
    regular = [i for i, b in enumerate(factor.bins) if b.kind in ("range", "categories")]
    for i, b in enumerate(factor.bins):
        b.count = int(counts[i])
        b.bads = int(bads[i])
        b.woe = float(woe[i])
        if b.kind == "other" and factor.unseen_category == "worst" and regular:
            b.woe = float(min(woe[j] for j in regular))
    factor.iv = float(iv)


def woe_matrix(factors: Sequence[Factor], bins: IntArray) -> FloatArray:
    out = np.empty(bins.shape, dtype=np.float64)
    for j, f in enumerate(factors):
        table = np.array([b.woe for b in f.bins], dtype=np.float64)
        out[:, j] = table[bins[:, j]]
    return out

"""KMeans tiers: clusters on standardised log R, F and M, ranked by value and named."""

from __future__ import annotations

from typing import Any

import numpy as np

from riskcli.services.tiering.config import TieringConfig
from riskcli.services.tiering.transactions import BoolArray, FloatArray, IntArray


def kmeans_tiers(
    recency: FloatArray,
    frequency: IntArray,
    monetary: IntArray,
    mask: BoolArray,
    cfg: TieringConfig,
) -> tuple[IntArray, IntArray, dict[str, Any]]:
    """KMeans on standardised log R, F, M of the customers in `mask`.

    Returns (tier index per customer, cluster per customer (-1 outside mask), info). Clusters
    are ordered by mean monetary value, highest first, and that order is the tier: cluster 0
    is tier A. Customers outside the mask (no order yet) get the last tier.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    n = len(mask)
    labels = cfg.tier_labels("kmeans")
    last = len(labels) - 1
    tier = np.full(n, last, dtype=np.int64)
    cluster = np.full(n, -1, dtype=np.int64)
    info: dict[str, Any] = {"silhouette": None, "clusters": []}
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return tier, cluster, info
    x = np.column_stack(
        (
            np.log1p(recency[pos]),
            np.log1p(frequency[pos].astype(np.float64)),
            np.log1p(np.maximum(monetary[pos], 0).astype(np.float64) / 100.0),
        )
    )
    distinct = len(np.unique(x, axis=0)) if len(pos) <= 200_000 else cfg.kmeans_clusters
    k = min(cfg.kmeans_clusters, distinct)
    if k < 2:
        tier[pos] = 0
        cluster[pos] = 0
        info["clusters"] = [_profile(0, labels[0], pos, recency, frequency, monetary)]
        info["note"] = "fewer than two distinct customers: one cluster, no silhouette"
        return tier, cluster, info
    z = StandardScaler().fit_transform(x)
    model = KMeans(n_clusters=k, n_init=3, random_state=cfg.kmeans_seed, max_iter=100)
    raw = model.fit_predict(z)
    means = np.array([monetary[pos][raw == c].mean() for c in range(k)])
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-means, kind="stable")] = np.arange(k)
    ordered = rank[raw]
    cluster[pos] = ordered
    tier[pos] = ordered
    if 2 <= len(np.unique(raw)) < len(pos):
        sample = min(len(pos), cfg.silhouette_sample)
        info["silhouette"] = round(
            float(silhouette_score(z, raw, sample_size=sample, random_state=cfg.kmeans_seed)), 4
        )
    info["clusters"] = [
        _profile(c, labels[c], pos[ordered == c], recency, frequency, monetary) for c in range(k)
    ]
    return tier, cluster, info


def _profile(
    c: int, tier: str, members: IntArray, recency: FloatArray, freq: IntArray, mon: IntArray
) -> dict[str, Any]:
    r = float(np.mean(recency[members]))
    f = float(np.mean(freq[members]))
    m = float(np.mean(mon[members])) / 100.0
    return {
        "cluster": c,
        "tier": tier,
        "customers": len(members),
        "mean_recency_days": round(r, 1),
        "mean_frequency": round(f, 2),
        "mean_monetary": round(m, 2),
    }


def label_clusters(clusters: list[dict[str, Any]]) -> None:
    """Name each cluster from its centre relative to the others (recent/frequent/high value)."""
    if not clusters:
        return
    rs = [c["mean_recency_days"] for c in clusters]
    fs = [c["mean_frequency"] for c in clusters]
    ms = [c["mean_monetary"] for c in clusters]
    r_mid, f_mid, m_mid = float(np.median(rs)), float(np.median(fs)), float(np.median(ms))
    for c in clusters:
        words = [
            "recent" if c["mean_recency_days"] <= r_mid else "lapsed",
            "frequent" if c["mean_frequency"] >= f_mid else "occasional",
            "high value" if c["mean_monetary"] >= m_mid else "low value",
        ]
        c["label"] = ", ".join(words)

"""Tiering on generated data (riskcli generate -> import -> tier run), checked for structure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.storage.store import open_store

AS_OF = "2026-09-30"


@pytest.fixture
def generated(store_env: Path, tmp_path: Path, cli: Callable[..., Any]) -> Path:
    data = tmp_path / "data"
    result = cli("generate", str(data), "--customers", "800", "--seed", "11", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    for kind in ("customers", "transactions", "receivables"):
        out = cli("import", kind, str(data / f"{kind}.csv"))
        assert out.exit_code == 0, out.output
    return data


def stored(path: Path, run: int) -> pd.DataFrame:
    store = open_store(path, USER, PASSPHRASE.encode())
    try:
        return store.query_df("SELECT * FROM tier_results WHERE run_id = ?", (run,))
    finally:
        store.close()


def test_generated_book_tiers_by_value_share(
    generated: Path, store_env: Path, cli: Callable[..., Any]
) -> None:
    result = cli("tier", "run", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    frame = stored(store_env, 1)
    assert len(frame) == 800 and frame["customer_id"].is_unique
    assert frame[["segment", "tier", "stage"]].notna().all().all()

    value = frame["monetary"].clip(lower=0)
    total = value.sum()
    by_tier = value.groupby(frame["tier"]).sum() / total
    assert by_tier["A"] >= 0.5
    # A is minimal: without its smallest member it would hold less than half
    assert (value[frame["tier"] == "A"].sum() - value[frame["tier"] == "A"].min()) / total < 0.5
    # tiers are ordered by value: everyone in a better tier has at least the value of anyone below
    lows = value.groupby(frame["tier"]).min()
    highs = value.groupby(frame["tier"]).max()
    for better, worse in (("A", "B"), ("B", "C"), ("C", "D")):
        assert lows[better] >= highs[worse]

    customers = pd.read_csv(generated / "customers.csv", usecols=["customer_id"])
    txns = pd.read_csv(generated / "transactions.csv", usecols=["customer_id", "kind", "date"])
    buyers = set(txns.loc[(txns["kind"] == "order") & (txns["date"] <= AS_OF), "customer_id"])
    expected_prospects = len(set(customers["customer_id"]) - buyers)
    assert (frame["stage"] == "prospect").sum() == expected_prospects


def test_generated_book_kmeans_and_summary(
    generated: Path, store_env: Path, cli: Callable[..., Any]
) -> None:
    km = cli("tier", "run", "--as-of", AS_OF, "--method", "kmeans", "--format", "json")
    assert km.exit_code == 0, km.output
    record = json.loads(km.stdout)
    assert 0.0 < record["silhouette"] <= 1.0
    summary = json.loads(cli("tier", "summary", "--format", "json").stdout)
    tiers = [row for row in summary if row["group"] == "tier"]
    assert [row["name"] for row in tiers] == ["A", "B", "C", "D"]
    assert sum(row["customers"] for row in tiers) == 800
    assert sum(row["overdue_total"] for row in tiers) > 0  # the generator makes late payers

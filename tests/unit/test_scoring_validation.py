"""Validation metrics and the development report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.support.credit_sample import credit_frame

from riskcli.domain.errors import InputError
from riskcli.services.scoring.params import BinningParams, ScorecardParams
from riskcli.services.scoring.validation import (
    auc,
    band_shares,
    brier,
    develop,
    evaluate,
    ks,
    psi,
    score_bands,
)


def test_auc_ks_brier_on_known_cases() -> None:
    y = np.array([0, 0, 1, 1], dtype=np.int8)
    assert auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert ks(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert ks(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.0
    assert brier(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    assert brier(y, np.array([0.5] * 4)) == 0.25


def test_auc_matches_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(np.int8)
    r = rng.normal(size=2000) + y
    assert auc(y, r) == pytest.approx(roc_auc_score(y, r))


def test_psi_is_zero_for_the_same_distribution_and_grows_with_shift() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(600, 30, 5000)
    edges = score_bands(a)
    base = band_shares(a, edges)
    assert psi(base, band_shares(rng.normal(600, 30, 5000), edges)) < 0.02
    assert psi(base, band_shares(rng.normal(630, 30, 5000), edges)) > 0.25


@pytest.fixture(scope="module")
def developed() -> tuple[pd.DataFrame, np.ndarray, object]:
    frame, y, _ = credit_frame(5000, seed=12)
    dates = pd.Series(pd.date_range("2022-01-01", periods=5000, freq="h"))
    params = ScorecardParams(binning=BinningParams(special_codes_by_factor={"bureau_score": [-1]}))
    dev = develop(frame, y, params, dates=dates, folds=3, with_challenger=True)
    return frame, y, dev


def test_report_has_everything_a_committee_reads(developed: tuple) -> None:
    _, _, dev = developed
    r = dev.report
    assert r["method"] == "out-of-time"
    assert r["out_of_time_cutoff"] is not None
    for key in ("auc", "gini", "ks", "brier"):
        assert key in r["validation"]
    assert r["validation"]["gini"] == pytest.approx(2 * r["validation"]["auc"] - 1, abs=1e-4)
    assert r["validation"]["auc"] > 0.8
    assert 0 <= r["psi"] < 0.1
    assert len(r["calibration"]) == 10
    assert [g["grade"] for g in r["by_grade"]] == ["A", "B", "C", "D", "E"]
    assert r["kfold"]["folds"] == 3 and len(r["kfold"]["auc"]) == 3
    assert r["kfold"]["auc_std"] >= 0
    assert r["challenger"]["auc"] > 0.8
    assert r["all_bins_monotonic"] is True
    assert any(p["factor"] == "worst_dpd_12m" for p in r["points"])
    assert {f["status"] for f in r["factors"]} >= {"selected"}


def test_bad_rate_by_grade_rises_from_a_to_e(developed: tuple) -> None:
    _, _, dev = developed
    rates = {g["grade"]: g["bad_rate"] for g in dev.report["by_grade"]}
    # small validation sample: neighbours may tie, but the ends are far apart
    assert rates["E"] == max(rates.values())
    assert rates["A"] < rates["C"] < rates["E"]


def test_stratified_holdout_without_dates(developed: tuple) -> None:
    frame, y, _ = developed
    dev = develop(frame, y, folds=0)
    assert dev.report["method"] == "stratified holdout"
    assert dev.report["validation"]["bad_rate"] == pytest.approx(float(y.mean()), abs=0.01)
    assert "kfold" not in dev.report


def test_evaluate_on_new_data_reports_psi(developed: tuple) -> None:
    _, _, dev = developed
    frame, y, _ = credit_frame(2000, seed=13)
    bands = dev.report["score_bands"]
    out = evaluate(
        dev.scorecard, frame, y, dev_edges=bands["edges"], dev_shares=bands["development_shares"]
    )
    assert out["metrics"]["auc"] > 0.8
    assert out["psi"] < 0.1


def test_develop_rejects_one_class() -> None:
    frame, _, _ = credit_frame(300, seed=14)
    with pytest.raises(InputError, match="one class"):
        develop(frame, np.ones(300, dtype=np.int8))

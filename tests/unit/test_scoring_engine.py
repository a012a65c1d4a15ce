"""The scorecard engine on small frames: binning, WOE/IV, selection, points, reasons."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.credit_sample import credit_frame

from riskcli.domain.errors import InputError
from riskcli.services.scoring.binning import bin_categorical, bin_numeric
from riskcli.services.scoring.card import Scorecard
from riskcli.services.scoring.columns import parse_target
from riskcli.services.scoring.fit import fit_scorecard
from riskcli.services.scoring.params import BinningParams, ScorecardParams
from riskcli.services.scoring.points import grade_of, score_bins, score_frame
from riskcli.services.scoring.reason_codes import (
    NO_REASON,
    ReasonTexts,
    check_reason_codes,
    reason_blobs,
    reason_text,
)
from riskcli.services.scoring.validation import auc, factor_is_monotonic


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, np.ndarray]:
    frame, y, _ = credit_frame(6000, seed=3)
    return frame, y


@pytest.fixture(scope="module")
def fitted(sample: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    frame, y = sample
    params = ScorecardParams(binning=BinningParams(special_codes_by_factor={"bureau_score": [-1]}))
    return fit_scorecard(frame, y, params).scorecard


def _rates(factor_bins: list, kind: str = "range") -> list[float]:
    return [b.bads / b.count for b in factor_bins if b.kind == kind and b.count]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_forced_direction_gives_strictly_monotonic_bad_rates(direction: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=5000)
    # a U-shaped truth: neither direction fits, the constraint must still hold
    y = (rng.random(5000) < 0.05 + 0.1 * x**2).astype(np.int8)
    f = bin_numeric("x", x, y, BinningParams(monotonic=direction))  # type: ignore[arg-type]
    rates = _rates(f.bins)
    assert len(rates) >= 1
    pairs = list(itertools.pairwise(rates))
    if direction == "asc":
        assert all(b > a for a, b in pairs)
    else:
        assert all(b < a for a, b in pairs)
    assert f.monotonic == direction


def test_auto_direction_follows_the_data() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 10, 8000)
    y = (rng.random(8000) < 0.02 + 0.03 * x).astype(np.int8)
    f = bin_numeric("x", x, y, BinningParams())
    assert f.monotonic == "asc"
    assert factor_is_monotonic(f)
    g = bin_numeric("x", -x, y, BinningParams())
    assert g.monotonic == "desc"


def test_min_bin_size_and_max_bins() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 10000)
    y = (rng.random(10000) < x * 0.3).astype(np.int8)
    params = BinningParams(min_bin_frac=0.1, max_bins=4)
    f = bin_numeric("x", x, y, params)
    ranges = [b for b in f.bins if b.kind == "range"]
    assert 2 <= len(ranges) <= 4
    assert all(b.count >= 1000 for b in ranges)


def test_missing_and_special_codes_get_their_own_bins() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 100, 4000)
    y = (rng.random(4000) < 0.1).astype(np.int8)
    x[:300] = np.nan
    x[300:500] = -999
    y[300:500] = 1  # the special code is very risky
    f = bin_numeric("x", x, y, BinningParams(special_codes=[-999]))
    kinds = [b.kind for b in f.bins]
    assert kinds.count("missing") == 1 and kinds.count("special") == 1
    missing = next(b for b in f.bins if b.kind == "missing")
    special = next(b for b in f.bins if b.kind == "special")
    assert missing.count == 300 and special.count == 200 and special.bads == 200
    assert special.woe < min(b.woe for b in f.bins if b.kind == "range")


def test_categorical_grouping_pools_rare_categories_and_orders_by_bad_rate() -> None:
    rng = np.random.default_rng(5)
    cats = rng.choice(["a", "b", "c", "d"], 6000, p=[0.4, 0.3, 0.29, 0.01])
    risk = pd.Series(cats).map({"a": 0.02, "b": 0.1, "c": 0.3, "d": 0.2}).to_numpy()
    y = (rng.random(6000) < risk).astype(np.int8)
    f = bin_categorical("cat", pd.Series(cats), y, BinningParams(rare_category_frac=0.02))
    groups = [b.values for b in f.bins if b.kind == "categories"]
    flat = [v for g in groups for v in g]
    assert sorted(flat) == ["a", "b", "c", "d"]
    woes = [b.woe for b in f.bins if b.kind == "categories"]
    assert woes == sorted(woes, reverse=True)  # safest group first
    assert any("d" in g and len(g) > 1 for g in groups)  # the rare one was pooled


def test_fit_selects_informative_factors_and_drops_noise_and_duplicates(
    sample: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, y = sample
    frame = frame.assign(constant=1.0, empty=np.nan)
    result = fit_scorecard(frame, y)
    sel = result.selection
    assert sel["worst_dpd_12m"] == "selected"
    assert sel["constant"] == "constant"
    assert sel["empty"] == "all values missing"
    assert "correlated with worst_dpd_12m" in sel["avg_dpd_12m"]
    assert all(sel[f"noise_{i}"] != "selected" for i in range(1, 7))
    assert all(f.coef < 0 for f in result.scorecard.factors)


def test_points_scaling_base_odds_and_pdo() -> None:
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, 5000)
    y = (rng.random(5000) < 0.05 + 0.2 * x).astype(np.int8)
    card = fit_scorecard(pd.DataFrame({"x": x}), y).scorecard
    s = card.scaling
    assert s.base_points == 600 and s.base_odds == 50 and s.pdo == 20
    assert math.isclose(s.pd_from_score(np.array([600.0]))[0], 1 / 51)
    assert math.isclose(s.pd_from_score(np.array([620.0]))[0], 1 / 101)
    # the score is exactly the sum of the bin points
    scored = score_frame(card, pd.DataFrame({"x": x}))
    assert np.allclose(scored.score, scored.points.sum(axis=1))
    custom = ScorecardParams.model_validate(
        {"scaling": {"base_points": 500, "base_odds": 20, "pdo": 50}}
    )
    card2 = fit_scorecard(pd.DataFrame({"x": x}), y, custom).scorecard
    assert math.isclose(card2.scaling.pd_from_score(np.array([500.0]))[0], 1 / 21)


def test_scorecard_is_plain_json_and_round_trips(
    fitted: Scorecard, sample: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = sample
    text = json.dumps(fitted.to_json_dict())
    back = Scorecard.from_json_dict(json.loads(text))
    assert back == fitted
    a = score_frame(fitted, frame.head(500))
    b = score_frame(back, frame.head(500))
    assert np.array_equal(a.score, b.score)


def test_scorecard_discriminates(fitted: Scorecard) -> None:
    frame, y, _ = credit_frame(4000, seed=99)  # fresh data from the same truth
    scored = score_frame(fitted, frame)
    assert auc(y, scored.pd) > 0.8


def test_reasons_are_the_factors_costing_most_points(fitted: Scorecard) -> None:
    frame, _, _ = credit_frame(300, seed=7)
    s = score_frame(fitted, frame)
    best = np.array([f.best_points() for f in fitted.factors])
    for i in range(50):
        loss = best - s.points[i]
        worst_factor = fitted.factors[int(np.argmax(loss))]
        if loss.max() > 0:
            assert s.reasons[i][0].startswith(worst_factor.description)
        else:
            assert s.reasons[i][0] is None
    assert s.reasons.shape[1] == 4


def test_reason_codes_give_the_texts_and_store_as_bytes(fitted: Scorecard) -> None:
    frame, _, _ = credit_frame(300, seed=7)
    s = score_frame(fitted, frame)
    assert s.codes.shape == s.reasons.shape and s.codes.dtype == np.int16
    texts = ReasonTexts(fitted)
    for i in range(300):
        row = s.codes[i]
        named = [int(j) for j in row if j != NO_REASON]
        assert row.tolist() == [*named, *[NO_REASON] * (len(row) - len(named))]  # trailing
        want = [reason_text(fitted.factors[j], fitted.factors[j].bins[s.bins[i, j]]) for j in named]
        assert s.reasons[i].tolist() == [*want, *[None] * (len(row) - len(want))]
        stored = bytes(s.bins[i].astype(np.uint8))
        assert reason_blobs(s.codes[i : i + 1]) == [bytearray(named)]
        assert texts.stored(stored, bytes(named)) == want
    assert texts.stored(b"", None, ["old text", None, "", None]) == ["old text"]
    assert score_bins(fitted, s.bins, frame, texts=False).reasons is None


def test_models_beyond_one_byte_codes_are_refused(fitted: Scorecard) -> None:
    check_reason_codes(fitted)
    many = fitted.model_copy(update={"factors": fitted.factors * 240})
    with pytest.raises(InputError, match=r"has \d+ factors; a stored score run takes at most 239"):
        check_reason_codes(many)


def test_unseen_category_gets_worst_points_by_default(fitted: Scorecard) -> None:
    frame, _, _ = credit_frame(5, seed=8)
    frame["industry"] = ["never-seen", "retail", None, "never-seen", "software"]
    s = score_frame(fitted, frame)
    industry = next(f for f in fitted.factors if f.name == "industry")
    j = fitted.factor_names.index("industry")
    regular = [b.points for b in industry.bins if b.kind == "categories"]
    assert s.points[0, j] == min(regular)
    assert industry.bins[s.bins[2, j]].kind == "missing"


def test_unseen_category_error_mode_is_a_clear_error(
    sample: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, y = sample
    params = ScorecardParams(binning=BinningParams(unseen_category="error"))
    card = fit_scorecard(frame[["industry", "worst_dpd_12m"]], y, params).scorecard
    new = pd.DataFrame({"industry": ["mining"], "worst_dpd_12m": [3.0]})
    with pytest.raises(InputError, match="not seen in training"):
        score_frame(card, new)
    # the count of rows and the first row's value, whatever order the values come in
    industry = next(f for f in card.factors if f.name == "industry")
    seen = next(v for b in industry.bins if b.kind == "categories" for v in b.values)
    new = pd.DataFrame(
        {
            "industry": [seen, " quarrying ", None, "mining", "quarrying", "", seen],
            "worst_dpd_12m": [3.0] * 7,
        }
    )
    with pytest.raises(
        InputError, match=r"has 3 value\(s\) not seen in training, such as 'quarrying'"
    ):
        score_frame(card, new)


def test_infinite_and_extreme_values_fall_in_outer_bins(fitted: Scorecard) -> None:
    frame, _, _ = credit_frame(4, seed=9)
    frame["worst_dpd_12m"] = [np.inf, -np.inf, 1e300, -1e300]
    s = score_frame(fitted, frame)
    j = fitted.factor_names.index("worst_dpd_12m")
    f = fitted.factors[j]
    n_ranges = sum(b.kind == "range" for b in f.bins)
    assert list(s.bins[:, j]) == [n_ranges - 1, 0, n_ranges - 1, 0]
    assert np.isfinite(s.score).all()


def test_non_numeric_text_in_a_numeric_factor_is_an_error(fitted: Scorecard) -> None:
    frame, _, _ = credit_frame(3, seed=10)
    frame["worst_dpd_12m"] = frame["worst_dpd_12m"].astype(object)
    frame.loc[1, "worst_dpd_12m"] = "lots"
    with pytest.raises(InputError, match="'worst_dpd_12m' must be numeric"):
        score_frame(fitted, frame)


def test_missing_factor_column_is_an_error(fitted: Scorecard) -> None:
    with pytest.raises(InputError, match="lacks factor column"):
        score_frame(fitted, pd.DataFrame({"x": [1]}))


def test_one_class_target_points_to_expert() -> None:
    frame = pd.DataFrame({"x": np.arange(200.0)})
    with pytest.raises(InputError, match="only one class.*score expert"):
        fit_scorecard(frame, np.zeros(200, dtype=np.int8))


def test_too_few_bads_points_to_expert() -> None:
    y = np.zeros(500, dtype=np.int8)
    y[:10] = 1
    with pytest.raises(InputError, match=r"only 10 bad outcome\(s\); at least 50.*score expert"):
        fit_scorecard(pd.DataFrame({"x": np.arange(500.0)}), y)


def test_no_informative_factor_is_an_error() -> None:
    rng = np.random.default_rng(11)
    y = (rng.random(3000) < 0.2).astype(np.int8)
    with pytest.raises(InputError, match="no factor reaches the minimum information value"):
        fit_scorecard(pd.DataFrame({"noise": rng.normal(size=3000)}), y)


def test_parse_target() -> None:
    assert list(parse_target(pd.Series([1, 0, 1]))) == [1, 0, 1]
    assert list(parse_target(pd.Series(["yes", "no"]))) == [1, 0]
    assert list(parse_target(pd.Series(["default", "ok"]), bad="default")) == [1, 0]
    with pytest.raises(InputError, match="give --bad VALUE"):
        parse_target(pd.Series(["x", "y"]))


def test_grades_follow_pd_bands() -> None:
    from riskcli.services.scoring.params import DEFAULT_GRADES

    g = grade_of(np.array([0.001, 0.01, 0.029, 0.05, 0.1, 0.5]), DEFAULT_GRADES)
    assert list(g) == ["A", "B", "B", "C", "D", "E"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 0.999), min_size=2, max_size=30))
def test_a_higher_score_never_gets_a_worse_grade(pds: list[float]) -> None:
    from riskcli.services.scoring.params import DEFAULT_GRADES, Scaling

    s = Scaling()
    scores = np.array(sorted(s.score_from_pd(max(p, 1e-6)) for p in pds))
    grades = grade_of(s.pd_from_score(scores), DEFAULT_GRADES)
    order = [g.grade for g in DEFAULT_GRADES]
    ranks = [order.index(g) for g in grades]
    assert ranks == sorted(ranks, reverse=True)


def test_newton_logistic_regression_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    from riskcli.services.scoring.fit import logistic_regression

    rng = np.random.default_rng(12)
    x = rng.normal(size=(4000, 3))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ [1.0, -0.5, 0.0] - 2)))).astype(np.int8)
    b0, b = logistic_regression(x, y, 0.5)
    ref = LogisticRegression(C=0.5, max_iter=2000, tol=1e-10).fit(x, y)
    assert b0 == pytest.approx(ref.intercept_[0], abs=1e-4)
    assert np.allclose(b, ref.coef_[0], atol=1e-4)

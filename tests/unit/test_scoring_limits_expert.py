"""Credit limit policy and the expert scorecard definition."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskcli.domain.errors import InputError
from riskcli.services.scoring.expert import default_expert, expert_scorecard
from riskcli.services.scoring.limits import LimitPolicy, over_limit, recommend, recommend_limits
from riskcli.services.scoring.points import score_frame
from riskcli.services.scoring.reason_codes import reason_blobs

EXAMPLE = Path(__file__).parents[2] / "examples" / "expert_scorecard.toml"


def test_limit_is_volume_times_grade_months_capped_and_rounded() -> None:
    grade = np.array(["A", "B", "E", "A", "A"], dtype=object)
    orders_12m = np.array([12_000_000, 12_000_000, 12_000_000, 1e12, 12_000_000]) * 100.0
    net_assets = np.array([np.nan, np.nan, np.nan, np.nan, 1_000_000 * 100.0])
    got = recommend(grade, orders_12m, net_assets, LimitPolicy())
    assert list(got) == [
        3_000_000_00,  # 1,000,000 a month x 3 months
        2_000_000_00,  # x 2
        0,  # grade E: no credit
        5_000_000_00,  # capped at max_limit
        200_000_00,  # capped at 20% of net assets
    ]
    policy = LimitPolicy(round_to=Decimal("7000"), months_of_sales={"A": 1})
    assert recommend(grade[:1], orders_12m[:1], net_assets[:1], policy)[0] == 994_000_00


def test_negative_net_assets_give_no_limit() -> None:
    got = recommend(np.array(["A"], dtype=object), np.array([1e9]), np.array([-5e6]), LimitPolicy())
    assert got[0] == 0


def test_example_file_is_the_built_in_default() -> None:
    with EXAMPLE.open("rb") as fh:
        assert tomllib.load(fh) == default_expert()


def test_expert_points_missing_values_and_overrides() -> None:
    card, spec = expert_scorecard(default_expert())
    assert spec.name == "expert" and len(card.factors) == 14
    names = card.factor_names
    row = {n: np.nan for n in names} | {"industry": None, "bankruptcy": 0.0, "dishonest_debtor": 0}
    frame = pd.DataFrame([row, row | {"dishonest_debtor": 1}])
    s = score_frame(card, frame)
    missing_points = sum(
        next(b.points for b in f.bins if b.kind == "missing") for f in card.factors
    )
    assert s.score[0] == missing_points
    assert s.grade[1] == "E" and s.reasons[1][0] == "on the dishonest-debtor list"
    assert s.codes[1][0] == -2 and s.reasons[1][1:].tolist() == s.reasons[0][:-1].tolist()
    blobs = reason_blobs(s.codes)
    assert len(blobs[0]) == len(blobs[1]) == 4
    assert blobs[1] == bytearray([0xFE]) + blobs[0][:3]  # override 1 first, then the factors
    assert list(blobs[0]) == s.codes[0].tolist()  # factor j is the byte j
    dpd = card.factors[names.index("worst_dpd_12m")]
    assert dpd.monotonic == "asc"  # points fall as days past due rise


def test_expert_definition_errors_name_the_field() -> None:
    data = default_expert()
    data["factors"][0]["points"] = [1, 2]
    with pytest.raises(InputError, match=r"expert scorecard factors.0: .*one more entry than cuts"):
        expert_scorecard(data)


def _need_frame(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "history_months": [24.0],
        "invoicing_12m": [1_200_000_00.0],  # 100,000 a month
        "terms": [60.0],
        "peak_not_due": [0.0],
        "net_assets": [np.nan],
        "bureau_score": [np.nan],
        "status": ["active"],
        "in_default": [0],
    }
    return pd.DataFrame(base | columns)


@pytest.mark.parametrize(
    ("grade", "columns", "want", "why"),
    [
        ("A", {}, 300_000_00, "100,000 a month x (60 + 30) / 30 days"),
        ("C", {}, 225_000_00, "x 0.75 for grade C"),
        ("D", {}, 150_000_00, "x 0.5 for grade D"),
        ("E", {}, 0, "grade E: no credit"),
        ("DF", {}, 0, "in default: no credit"),
        ("A", {"peak_not_due": [400_000_00.0]}, 480_000_00, "1.2 x the peak not-yet-due"),
        ("A", {"net_assets": [1_000_000_00.0]}, 200_000_00, "capped at 20% of net assets"),
        ("A", {"invoicing_12m": [12_345_00.0]}, 3_000_00, "1,029 x 3 = 3,086: nearest 1,000"),
        ("A", {"invoicing_12m": [1_000_00.0]}, 1_000_00, "250 rounds to 0: the 1,000 floor"),
        ("D", {"invoicing_12m": [1_000_00.0]}, 0, "no floor below grade C"),
        ("A", {"status": ["closed"]}, 0, "a closed account needs no limit"),
        ("A", {"in_default": [1]}, 0, "in default"),
        ("A", {"history_months": [1.0], "invoicing_12m": [0.0], "bureau_score": [720.0]},
         50_000_00, "a starter limit for a new customer with a good bureau score"),
        ("C", {"history_months": [2.0], "invoicing_12m": [0.0], "bureau_score": [650.0]},
         19_000_00, "50,000 x 0.5 (bureau 600-700) x 0.75 (grade C) = 18,750"),
    ],
)  # fmt: skip
def test_the_need_policy_by_hand(
    grade: str, columns: dict[str, list[object]], want: int, why: str
) -> None:
    frame = _need_frame(**columns)
    got = recommend_limits(frame, np.array([grade], dtype=object), LimitPolicy())
    assert got.tolist() == [want], why


def test_over_limit_is_exposure_above_the_recommendation_or_a_weak_grade() -> None:
    grade = np.array(["A", "A", "A", "D", "D"], dtype=object)
    current = np.array([900_000_00, 900_000_00, 100_000_00, 200_000_00, 100_000_00])
    recommended = np.array([300_000_00, 300_000_00, 300_000_00, 150_000_00, 150_000_00])
    exposure = np.array([200_000_00, 301_000_00, 300_500_00, 0, 0], dtype=np.float64)
    got = over_limit(grade, current, recommended, exposure, LimitPolicy())
    # unused headroom of a grade-A customer is not a finding; using 1,000 more than the
    # recommendation is; at grade D a limit above the recommendation should come down
    assert got.tolist() == [False, True, False, True, False]


def test_a_grade_factor_above_one_is_refused() -> None:
    with pytest.raises(ValueError, match="within 0-1"):
        LimitPolicy(grade_factors={"A": 1.5})

"""Credit limit policy and the expert scorecard definition."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskcli.domain.errors import InputError
from riskcli.services.scoring.engine import reason_blobs, score_frame
from riskcli.services.scoring.expert import default_expert, expert_scorecard
from riskcli.services.scoring.limits import LimitPolicy, recommend

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

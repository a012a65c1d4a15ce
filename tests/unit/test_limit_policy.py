"""The need derivation is written once against an array namespace: on plain floats (one
customer's `score explain`) it gives what numpy gives for the same customer in a score run."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcli.services.scoring.limit_policy import NEED_INPUTS, LimitPolicy, one_customer
from riskcli.services.scoring.limits import derive

customer = st.fixed_dictionaries(
    {
        "history_months": st.one_of(
            st.just(math.nan), st.floats(0, 200).map(lambda x: round(x, 1))
        ),
        "invoicing_12m": st.floats(0, 1e11),
        "terms": st.one_of(st.just(math.nan), st.integers(0, 180).map(float)),
        "peak_not_due": st.floats(0, 1e11),
        "net_assets": st.one_of(st.just(math.nan), st.floats(-1e11, 1e12)),
        "bureau_score": st.one_of(st.just(math.nan), st.integers(300, 900).map(float)),
    }
)
policies = st.builds(
    LimitPolicy,
    grace_days=st.integers(0, 90),
    peak_headroom=st.floats(0, 3),
    round_to=st.sampled_from([Decimal("1"), Decimal("1000"), Decimal("5000")]),
    min_limit=st.sampled_from([Decimal("0"), Decimal("1000")]),
    max_limit=st.sampled_from([Decimal("5000000"), Decimal("20000")]),
)


@settings(max_examples=300, deadline=None)
@given(
    x=customer,
    grade=st.sampled_from(["A", "B", "C", "D", "E", "DF", "X"]),
    status=st.sampled_from([None, "active", "closed", "dormant"]),
    in_default=st.booleans(),
    policy=policies,
)
def test_one_customer_on_floats_equals_the_run_on_arrays(
    x: dict[str, float], grade: str, status: str | None, in_default: bool, policy: LimitPolicy
) -> None:
    frame = pd.DataFrame([{**x, "status": status, "in_default": int(in_default)}])
    want = derive(frame, np.array([grade], dtype=object), policy).iloc[0].to_dict()
    got: dict[str, Any] = one_customer(x, grade, status, in_default, policy)
    assert set(got) == set(want)
    for key, value in want.items():
        if isinstance(value, str):
            assert got[key] == value, key
        else:
            assert got[key] == value or (math.isnan(got[key]) and math.isnan(value)), key
    assert set(NEED_INPUTS) == set(x)

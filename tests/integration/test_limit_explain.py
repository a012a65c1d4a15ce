"""`score explain`'s limit section on a real store: the one-customer reading of the book (plain
SQL, no numpy) gives the inputs the run's factor frame holds, and its derivation ends in the
limit the run stored, for every customer, under the run's own policy."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from tests.support.credit_sample import populate_store

from riskcli.services.scoring import service as scoring
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.factors import build_factors
from riskcli.services.scoring.limit_lookup import explain_limit, need_inputs
from riskcli.services.scoring.limit_policy import NEED_INPUTS, LimitPolicy
from riskcli.storage.store import Store


def _cents(text: str) -> int:
    return round(float(text.replace(",", "")) * 100)


def _steps(lines: list[dict[str, Any]]) -> dict[str, str]:
    return {line["step"]: line["value"] for line in lines}


def _scored(store: Store, policy: LimitPolicy) -> dict[str, Any]:
    populate_store(store, 240, seed=5)
    # variety the generated book lacks: a new customer (starter limit), a closed one, net
    # assets small enough to cap the limit
    store.execute("UPDATE customers SET status = 'closed' WHERE external_id = 'C0000010'")
    store.execute(
        "DELETE FROM receivables WHERE customer_id = (SELECT id FROM customers "
        "WHERE external_id = 'C0000011') AND issue_date < '2026-08-01'"
    )
    store.execute(
        "UPDATE financials SET total_liabilities = total_assets - 100000 WHERE customer_id IN "
        "(SELECT id FROM customers WHERE external_id IN ('C0000012', 'C0000013'))"
    )
    cfg = ScoringConfig(folds=2, limits=policy)
    scoring.setup_expert(store, cfg)
    return scoring.run(store, cfg)


@pytest.mark.parametrize(
    "policy",
    [LimitPolicy(), LimitPolicy(round_to=Decimal("5000"), grace_days=10, min_limit=Decimal(0))],
    ids=["default", "own"],
)
def test_explain_derives_the_stored_limit_of_every_customer(
    store: Store, policy: LimitPolicy
) -> None:
    run = _scored(store, policy)
    as_of = date.fromisoformat(run["as_of"])
    frame = build_factors(store, as_of).set_index("customer_id")
    stored = store.query(
        "SELECT c.external_id, c.id, s.grade, s.recommended_limit FROM scores s "
        "JOIN customers c ON c.id = s.customer_id WHERE s.run_id = ?",
        (run["run"],),
    )
    seen = {"starter": 0, "capped": 0, "default": 0, "closed zero": 0, "floor": 0}
    for row in stored:
        inputs = need_inputs(store, as_of, row["id"])
        for name in NEED_INPUTS:
            want = float(frame.at[row["id"], name])
            assert (math.isnan(want) and math.isnan(inputs[name])) or want == inputs[name], (
                row["external_id"], name, want, inputs[name],
            )  # fmt: skip
        # the configured policy is the default one: explain reads the run's own
        steps = _steps(explain_limit(store, row["external_id"], LimitPolicy()))
        assert _cents(steps["recommended limit"]) == row["recommended_limit"], row
        seen["starter"] += "starter limit (short history)" in steps
        seen["capped"] += steps["cap"] != "no cap" and _cents(steps["cap"]) < 5_000_000_00
        seen["default"] += "default" in steps
        seen["closed zero"] += row["external_id"] == "C0000010" and row["recommended_limit"] == 0
        seen["floor"] += _cents(steps["appetite"]) < row["recommended_limit"]
    assert all(seen.values()), seen  # every branch of the policy was explained at least once


def test_explain_of_a_run_under_the_older_policy_says_so(store: Store) -> None:
    _scored(store, LimitPolicy(method="months_of_sales"))
    steps = _steps(explain_limit(store, "C0000003", LimitPolicy()))
    assert steps["policy"] == "months of sales x grade (months_of_sales)"


def test_inputs_of_a_customer_with_no_invoices_are_unknown(store: Store) -> None:
    store.execute("INSERT INTO customers (external_id, name, credit_limit) VALUES ('N1', 'N', 0)")
    pk = int(store.scalar("SELECT id FROM customers WHERE external_id = 'N1'"))
    got = need_inputs(store, date(2026, 9, 30), pk)
    assert got["invoicing_12m"] == got["peak_not_due"] == 0, got
    unknown = set(NEED_INPUTS) - {"invoicing_12m", "peak_not_due"}
    assert all(np.isnan(got[name]) for name in unknown), got


def test_the_policy_a_run_recorded_is_read_back_as_it_was() -> None:
    from riskcli.services.scoring.limit_lookup import run_policy

    fallback = LimitPolicy(grace_days=5)
    assert run_policy(None, fallback) is fallback
    assert run_policy('{"customer": null}', fallback) is fallback
    own = LimitPolicy(round_to=Decimal("5000"))
    recorded = '{"limits": ' + own.model_dump_json()[:-1] + ', "a_retired_setting": 1}}'
    assert run_policy(recorded, fallback) == own

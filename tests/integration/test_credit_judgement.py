"""Credit judgement on a generated book of 10,000 customers: defaults are DF, the limit policy
flags few good customers, no good customer gets a limit of 0, expected loss uses the LGD."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import PASSPHRASE, USER
from tests.integration.test_as_of_truth import generate, load

from riskcli.services import book
from riskcli.services.scoring import registry
from riskcli.storage.store import open_store

PAYMENT_FACTORS = ("worst_dpd_12m", "late_invoices_12m", "oldest_open_dpd", "overdue_share")


@pytest.mark.slow
def test_a_generated_book_gets_answers_a_head_of_credit_signs(
    store_env: Path, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    data = generate(cli, tmp_path / "data", customers=10_000, seed=7)
    db = tmp_path / "ten.db"
    load(cli, db, data)
    assert cli("--db", str(db), "score", "expert").exit_code == 0
    result = cli("--db", str(db), "score", "run", "--format", "json")
    assert result.exit_code == 0, result.output
    with open_store(db, USER, PASSPHRASE.encode()) as store:
        as_of = date.fromisoformat(str(store.scalar("SELECT as_of FROM score_runs")))
        rows = store.query_df(
            "SELECT s.customer_id, s.grade, s.pd, s.bins, s.recommended_limit, s.over_limit, "
            "s.exposure, s.expected_loss, c.status FROM scores s "
            "JOIN customers c ON c.id = s.customer_id"
        ).set_index("customer_id")
        card = registry.get_model(store).card
        # every customer with a material amount more than 90 days past due, computed here
        # from the open invoices, is in default
        inv = book.open_invoices(store, as_of)
    late = inv[inv["days_past_due"] > 90].groupby("customer_id")["outstanding"].sum()
    exposure = inv.groupby("customer_id")["outstanding"].sum()
    material = late[(late > 1000_00) & (late > 0.01 * exposure.reindex(late.index))].index
    assert len(material) > 200
    assert (rows.loc[material, "grade"] == "DF").all()
    assert (rows.loc[material, "pd"] == 1.0).all()
    assert (rows.loc[material, "recommended_limit"] == 0).all()
    # ... and none of them sits in a payment factor's best bin
    bins = np.array([list(b) for b in rows.loc[material, "bins"]])
    for j, factor in enumerate(card.factors):
        if factor.name in PAYMENT_FACTORS:
            best = int(np.argmax([b.points for b in factor.bins]))
            assert not (bins[:, j] == best).any(), factor.name
    active = rows["status"] == "active"
    good = rows[active & rows["grade"].isin(["A", "B"])]
    assert len(good) > 5000 and good["over_limit"].mean() < 0.10
    assert not (rows[active & rows["grade"].isin(["A", "B", "C"])]["recommended_limit"] == 0).any()
    # EL = PD x LGD (0.40) x EAD, per customer and in the run's totals
    want = np.round(rows["exposure"] * rows["pd"] * 0.40)
    assert (rows["expected_loss"] - want).abs().max() <= 1
    assert result.output.count('"grade_DF"') == 1

"""Reasons in business form: each factor in its unit; company-only factors never an individual's."""

from __future__ import annotations

import pytest

from riskcli.services.scoring.card import Bin, Factor, Scorecard
from riskcli.services.scoring.expert import default_expert, expert_scorecard
from riskcli.services.scoring.reason_codes import ReasonTexts, reason_text
from riskcli.services.scoring.wording import COMPANY_ONLY, applies, describe_bin


def _range(lo: float | None, hi: float | None) -> Bin:
    return Bin(kind="range", lo=lo, hi=hi, label="raw")


@pytest.mark.parametrize(
    ("factor", "description", "b", "text"),
    [
        ("utilisation", "credit limit utilisation", _range(0.4881, None),
         "credit limit utilisation 48.8% or more"),
        ("worst_dpd_12m", "worst days past due", _range(30, 90),
         "worst days past due 30 days to under 90 days"),
        ("oldest_open_dpd", "", _range(None, 1), "oldest_open_dpd under 1 day"),
        ("overdue_amount", "overdue", _range(12000, None), "overdue 12,000.00 or more"),
        ("debt_ratio", "debt ratio", _range(0.4, 0.65), "debt ratio 0.40 to under 0.65"),
        ("late_invoices_12m", "late invoices", _range(3, None), "late invoices 3 or more"),
        ("tenure_months", "months as a customer", _range(12, 36),
         "months as a customer 12 months to under 36 months"),
        ("a_new_factor", "something new", _range(0.12345, None), "something new 0.1235 or more"),
        ("bureau_score", "bureau score", Bin(kind="missing", label="missing"),
         "bureau score not known"),
        ("industry", "industry", Bin(kind="categories", values=["建筑业", "房地产"], label="x"),
         "industry: 建筑业, 房地产"),
    ],
)  # fmt: skip
def test_a_bin_reads_in_its_factors_unit(factor: str, description: str, b: Bin, text: str) -> None:
    assert describe_bin(factor, description, b) == text


def test_reason_text_is_the_business_form() -> None:
    factor = Factor(name="utilisation", description="credit limit utilisation", type="numeric",
                    bins=[_range(None, 0.5), _range(0.5, None)])  # fmt: skip
    assert reason_text(factor, factor.bins[1]) == "credit limit utilisation 50.0% or more"
    assert ">=" not in reason_text(factor, factor.bins[0])


def test_company_only_factors_are_not_an_individuals_reasons() -> None:
    card, _spec = expert_scorecard(default_expert())
    names = card.factor_names
    company = [j for j, n in enumerate(names) if n in COMPANY_ONLY]
    other = [j for j, n in enumerate(names) if n not in COMPANY_ONLY]
    assert company and other
    bins = bytes(len(names))  # bin 0 of every factor
    codes = bytes([company[0], other[0]])
    texts = ReasonTexts(card)
    as_company = texts.stored(bins, codes, kind="company")
    as_individual = texts.stored(bins, codes, kind="individual")
    assert len(as_company) == 2
    assert as_individual == as_company[1:]
    only_company = bytes([company[0]])
    assert texts.stored(bins, only_company, kind="individual") == []
    assert not applies("debt_ratio", "individual") and applies("debt_ratio", "company")
    assert applies("utilisation", "individual")


def test_a_card_keeps_working_with_factors_it_does_not_know() -> None:
    card = Scorecard(
        factors=[Factor(name="made_up", type="numeric", bins=[_range(None, 2), _range(2, None)])]
    )
    assert ReasonTexts(card).stored(bytes([1]), bytes([0])) == ["made_up 2 or more"]

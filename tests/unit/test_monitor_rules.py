"""Every monitoring rule fires on a constructed case and stays silent on its negative twin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.frames import CANDIDATE_COLUMNS, make_frames
from riskcli.services.monitoring.rules import RULES, RULES_BY_ID
from riskcli.services.monitoring.rules.portfolio import bin_counts, psi

AS_OF = "2026-06-30"


def run(rule_id: str, cfg: dict[str, Any] | None = None, **frames: pd.DataFrame) -> pd.DataFrame:
    config = MonitoringConfig.model_validate({rule_id: cfg or {}})
    out = RULES_BY_ID[rule_id].func(make_frames(AS_OF, **frames), config.rule(rule_id))
    assert list(out.columns) == list(CANDIDATE_COLUMNS)
    for evidence in out["evidence"]:
        assert isinstance(json.loads(evidence), dict)
    return out


def customers(*rows: tuple[int, int], **cols: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": [r[0] for r in rows],
            "external_id": [f"C{r[0]}" for r in rows],
            "name": [f"Customer {r[0]}" for r in rows],
            "industry": ["retail"] * len(rows),
            "region": ["east"] * len(rows),
            "credit_limit": [r[1] for r in rows],
            "status": ["active"] * len(rows),
        }
    )
    for name, values in cols.items():
        frame[name] = values
    return frame


def receivable(
    cid: int,
    inv: str,
    due: str,
    amount: int,
    paid: int = 0,
    paid_date: str | None = None,
    issue: str = "2026-01-01",
) -> dict[str, Any]:
    return {
        "invoice_number": inv,
        "customer_id": cid,
        "issue_date": issue,
        "due_date": due,
        "amount": amount,
        "paid_amount": paid,
        "paid_date": paid_date,
    }


def rec(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def txns(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "customer_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "date": [r[2] for r in rows],
            "amount": [r[3] for r in rows],
        }
    )


# --- payment -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "severity", "stage"),
    [
        ("2026-06-29", "low", 1),
        ("2026-05-30", "medium", 2),
        ("2026-04-30", "high", 3),
        ("2026-03-31", "critical", 4),
    ],
)
def test_overdue_severity_steps_at_1_31_61_91_days(due: str, severity: str, stage: int) -> None:
    out = run("payment_overdue", receivables=rec(receivable(1, "INV-1", due, 200000, 50000)))
    assert len(out) == 1
    row = out.iloc[0]
    assert row["severity"] == severity
    assert row["key"] == "payment_overdue:1:overdue"
    assert row["action"] == f"move to collection stage {stage}"
    evidence = json.loads(row["evidence"])
    assert evidence["overdue"] == "1500.00"
    assert evidence["collection_stage"] == stage
    assert [i["invoice"] for i in evidence["overdue_invoices"]] == ["INV-1"]


def test_overdue_is_one_case_per_customer_staged_by_its_oldest_invoice() -> None:
    out = run(
        "payment_overdue",
        receivables=rec(
            receivable(1, "A", "2026-06-20", 60000),  # 10 days
            receivable(1, "B", "2026-03-01", 70000, 20000),  # 121 days
            receivable(1, "C", "2026-07-15", 90000),  # not yet due
        ),
    )
    assert len(out) == 1
    evidence = json.loads(out.iloc[0]["evidence"])
    assert (evidence["overdue"], evidence["invoices"]) == ("1100.00", 2)
    assert evidence["oldest_days_past_due"] == 121
    assert [i["invoice"] for i in evidence["overdue_invoices"]] == ["B", "A"]
    assert out.iloc[0]["severity"] == "critical"


def test_overdue_silent_when_due_today_paid_or_below_min_amount() -> None:
    out = run(
        "payment_overdue",
        receivables=rec(
            receivable(1, "INV-1", AS_OF, 500000),  # due today: not yet past due
            receivable(2, "INV-2", "2026-01-01", 500000, 500000, "2026-01-05"),  # paid in full
            receivable(3, "INV-3", "2026-01-01", 99999),  # 999.99 overdue: below 1,000
        ),
    )
    assert out.empty
    lower = run("payment_overdue", {"min_amount": 500}, receivables=rec(
        receivable(3, "INV-3", "2026-01-01", 99999)))  # fmt: skip
    assert list(lower["customer_id"]) == [3]


def test_overdue_30_days_is_still_stage_1() -> None:
    out = run("payment_overdue", receivables=rec(receivable(1, "I", "2026-05-31", 500000)))
    assert out.iloc[0]["severity"] == "low"  # 30 days past due


def defaults(*rows: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "default_amount"])


def test_default_is_one_critical_recovery_case_with_the_limitation_warning() -> None:
    out = run(
        "default",
        receivables=rec(
            receivable(1, "OLD", "2024-01-15", 800000, issue="2023-12-15"),  # 29.5 months
            receivable(2, "ANCIENT", "2023-12-01", 500000, issue="2023-11-01"),  # 31 months
        ),
        defaults=defaults((1, 800000), (2, 500000)),
    )
    by = out.set_index("customer_id")
    assert set(by["severity"]) == {"critical"}
    assert by.loc[1, "action"].startswith("recovery / legal: stop credit")
    assert by.loc[2, "action"].startswith("recovery / legal: the 3-year limitation period ends")
    evidence = json.loads(by.loc[2, "evidence"])
    assert evidence["limitation_ends"] == "2026-12-01"
    assert evidence["limitation_warning"] is True
    assert json.loads(by.loc[1, "evidence"])["limitation_warning"] is False


def test_default_silent_without_defaulted_customers() -> None:
    out = run(
        "default",
        receivables=rec(receivable(1, "OLD", "2024-01-15", 800000, issue="2023-12-15")),
        defaults=defaults(),
    )
    assert out.empty


def test_overdue_growth_fires_on_growing_balance() -> None:
    out = run(
        "payment_overdue_growth",
        receivables=rec(
            receivable(1, "OLD", "2026-05-01", 200000),  # overdue then and now
            receivable(1, "NEW", "2026-06-10", 300000),  # became overdue inside the window
        ),
    )
    assert len(out) == 1
    evidence = json.loads(out.iloc[0]["evidence"])
    assert evidence["overdue_before"] == "2000.00"
    assert evidence["overdue_now"] == "5000.00"
    assert out.iloc[0]["severity"] == "high"  # +150%


def test_overdue_growth_silent_when_balance_shrinks() -> None:
    out = run(
        "payment_overdue_growth",
        receivables=rec(
            receivable(1, "OLD", "2026-05-01", 200000, 150000, "2026-06-15"),
            receivable(1, "NEW", "2026-06-10", 50000),
        ),
    )
    assert out.empty


def test_partial_payments_fire_at_min_count() -> None:
    rows = [
        receivable(7, f"P{i}", "2026-07-30", 100000, 40000, "2026-06-01", "2026-05-01")
        for i in range(3)
    ]
    out = run("payment_partial", receivables=rec(*rows))
    assert len(out) == 1
    assert json.loads(out.iloc[0]["evidence"])["partial_invoices"] == 3
    assert out.iloc[0]["key"] == "payment_partial:7:partial"


def test_partial_payments_silent_below_min_count_or_old() -> None:
    rows = [
        receivable(7, f"P{i}", "2026-07-30", 100000, 40000, "2026-06-01", "2026-05-01")
        for i in range(2)
    ]
    rows.append(receivable(7, "OLD", "2025-07-30", 100000, 4000, "2025-06-01", "2025-05-01"))
    rows.append(receivable(7, "FULL", "2026-07-30", 10000, 10000, "2026-06-01", "2026-05-01"))
    # three short payments of 10.00 each: below the 1,000 floor
    rows += [
        receivable(8, f"S{i}", "2026-07-30", 10000, 0 + 9000, "2026-06-01", "2026-05-01")
        for i in range(3)
    ]
    assert run("payment_partial", receivables=rec(*rows)).empty


# --- exposure ------------------------------------------------------------------------------


@pytest.mark.parametrize(("owed", "severity"), [(1_120_000, "high"), (1_500_000, "critical")])
def test_exposure_utilisation_breach_critical(owed: int, severity: str) -> None:
    out = run(
        "exposure_limit",
        customers=customers((1, 1_000_000)),
        receivables=rec(receivable(1, "I", "2026-09-01", owed)),
    )
    assert len(out) == 1
    assert out.iloc[0]["severity"] == severity
    assert out.iloc[0]["key"] == "exposure_limit:1:limit"


def test_exposure_silent_below_threshold_without_limit_or_below_min_amount() -> None:
    out = run(
        "exposure_limit",
        customers=customers((1, 1_000_000), (2, 0), (3, 100000)),
        receivables=rec(
            receivable(1, "I", "2026-09-01", 1_099_000),  # 109.9%: inside the tolerance
            receivable(2, "J", "2026-09-01", 500000),  # no limit
            receivable(3, "K", "2026-09-01", 190000),  # 190% but only 900.00 over
        ),
    )
    assert out.empty


def test_exposure_threshold_is_configurable() -> None:
    out = run(
        "exposure_limit",
        {"utilisation_pct": 80},
        customers=customers((1, 1_000_000)),
        receivables=rec(receivable(1, "I", "2026-09-01", 850000)),
    )
    assert len(out) == 1
    assert out.iloc[0]["severity"] == "medium"


# --- score ---------------------------------------------------------------------------------


def scores(rows: list[tuple[int, int, float, str, int | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "run_seq", "score", "grade", "recommended_limit"]
    )
    frame["pd"] = 0.05
    return frame


def test_score_change_fires_into_c_on_two_grades_or_a_drop_of_two_pdo() -> None:
    out = run(
        "score_change",
        scores=scores(
            [
                (1, 1, 700, "A", None),
                (1, 2, 690, "C", None),  # two grades down, into C
                (2, 1, 600, "B", None),
                (2, 2, 590, "C", None),  # into C
                (3, 1, 700, "A", None),
                (3, 2, 655, "A", None),  # 45 points: more than 2 x PDO 20
            ]
        ),
    )
    by = out.set_index("customer_id")
    assert by.loc[1, "severity"] == "high"
    assert by.loc[2, "severity"] == "medium"
    assert by.loc[3, "severity"] == "low"
    assert json.loads(by.loc[3, "evidence"])["min_score_drop"] == 40.0


def test_score_change_silent_on_routine_moves() -> None:
    out = run(
        "score_change",
        scores=scores(
            [
                (1, 1, 700, "A", None),
                (1, 2, 670, "B", None),  # one grade, not into C, 30 < 40 points
                (2, 1, 550, "D", None),
                (2, 2, 540, "E", None),  # already C or worse, one grade
                (3, 1, 600, "C", None),
                (3, 2, 700, "B", None),  # better
                (4, 2, 400, "E", None),  # only one run of this model: nothing to compare
            ]
        ),
    )
    assert out.empty


def test_score_limit_fires_on_exposure_above_recommended_or_grade_d_e() -> None:
    out = run(
        "score_limit",
        receivables=rec(
            receivable(1, "I1", "2026-09-01", 500000),
            receivable(2, "I2", "2026-09-01", 300000),
            receivable(3, "I3", "2026-09-01", 300000),
        ),
        scores=scores(
            [
                (1, 2, 600, "B", 300000),  # 5,000 against 3,000 recommended
                (2, 2, 520, "D", 1_000_000),  # grade D with 3,000 exposure
                (3, 2, 540, "C", 0),  # recommended 0
            ]
        ),
    )
    by = out.set_index("customer_id")
    assert by.loc[1, "action"].endswith("reduce the limit to 3000.00")
    assert by.loc[1, "severity"] == "medium"
    assert by.loc[2, "title"] == "Grade D with exposure 3000.00"
    assert by.loc[3, "severity"] == "high"


def test_score_limit_silent_within_recommended_or_below_min_amount() -> None:
    out = run(
        "score_limit",
        receivables=rec(
            receivable(1, "I1", "2026-09-01", 300000),
            receivable(2, "I2", "2026-09-01", 90000),
            receivable(3, "I3", "2026-09-01", 1_050_000),
        ),
        scores=scores(
            [
                (1, 2, 600, "B", 300000),  # at the recommended limit
                (2, 2, 450, "E", 0),  # grade E, but 900.00 exposure
                (3, 2, 650, "A", 1_000_000),  # 500.00 above: below 1,000 and 10%
            ]
        ),
    )
    assert out.empty


# --- third party ---------------------------------------------------------------------------


def reports(rows: list[tuple[int, str, str, float, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "provider", "report_date", "score", "lawsuit", "bankruptcy"]
    )
    frame["tax_violation"] = 0
    frame["dishonest_debtor"] = 0
    return frame


def test_adverse_flag_fires_on_flag_in_latest_report() -> None:
    out = run(
        "thirdparty_adverse_flag",
        credit_reports=reports(
            [(1, "bureau", "2026-01-01", 700, 0, 0), (1, "bureau", "2026-06-01", 690, 1, 1)]
        ),
        receivables=rec(receivable(1, "I", "2026-09-01", 500000)),
    )
    assert sorted(out["key"]) == [
        "thirdparty_adverse_flag:1:bankruptcy",
        "thirdparty_adverse_flag:1:lawsuit",
    ]
    by = out.set_index("subject")
    assert by.loc["bankruptcy", "severity"] == "critical"
    assert json.loads(by.loc["lawsuit", "evidence"])["new_since_previous_report"] is True


def test_adverse_flag_silent_when_latest_report_is_clear() -> None:
    out = run(
        "thirdparty_adverse_flag",
        credit_reports=reports(
            [(1, "bureau", "2026-01-01", 700, 1, 0), (1, "bureau", "2026-06-01", 690, 0, 0)]
        ),
    )
    assert out.empty


def test_a_lawsuit_needs_to_appear_recently_on_an_exposure() -> None:
    out = run(
        "thirdparty_adverse_flag",
        credit_reports=reports(
            [
                (1, "bureau", "2026-06-01", 690, 1, 0),  # first report: a standing lawsuit
                (2, "bureau", "2025-06-01", 700, 0, 0),
                (2, "bureau", "2026-01-01", 690, 1, 0),  # appeared, but 180 days ago
                (3, "bureau", "2026-01-01", 700, 0, 0),
                (3, "bureau", "2026-06-01", 690, 1, 0),  # appeared, but no exposure
                (4, "bureau", "2026-06-01", 690, 0, 1),  # bankruptcy: always
            ]
        ),
        receivables=rec(
            receivable(1, "I1", "2026-09-01", 500000),
            receivable(2, "I2", "2026-09-01", 500000),
            receivable(3, "I3", "2026-09-01", 50000),
        ),
    )
    assert list(out["key"]) == ["thirdparty_adverse_flag:4:bankruptcy"]


def test_bureau_drop_fires_on_large_drop() -> None:
    out = run(
        "thirdparty_bureau_drop",
        credit_reports=reports(
            [(1, "bureau", "2026-01-01", 720, 0, 0), (1, "bureau", "2026-06-01", 650, 0, 0)]
        ),
    )
    assert len(out) == 1
    assert json.loads(out.iloc[0]["evidence"])["drop"] == 70


def test_bureau_drop_silent_on_small_drop_or_other_provider() -> None:
    out = run(
        "thirdparty_bureau_drop",
        credit_reports=reports(
            [
                (1, "bureau", "2026-01-01", 720, 0, 0),
                (1, "bureau", "2026-06-01", 700, 0, 0),
                (2, "a", "2026-01-01", 720, 0, 0),
                (2, "b", "2026-06-01", 600, 0, 0),
            ]
        ),
    )
    assert out.empty


# --- behaviour -----------------------------------------------------------------------------


def history(cid: int, amounts: list[int]) -> list[tuple[int, str, str, int]]:
    return [(cid, "order", f"2026-0{1 + i % 5}-{10 + i:02d}", a) for i, a in enumerate(amounts)]


def test_anomaly_fires_on_amount_far_above_history() -> None:
    rows = history(1, [10000, 11000, 9000, 10500, 9800, 10200, 9900, 10100])
    rows.append((1, "order", "2026-06-20", 500000))
    out = run("behaviour_anomaly", transactions=txns(rows))
    assert len(out) == 1
    evidence = json.loads(out.iloc[0]["evidence"])
    assert evidence["amount"] == "5000.00"
    assert evidence["robust_z"] > 3.5
    assert out.iloc[0]["severity"] == "high"


def test_anomaly_silent_on_usual_amount_short_history_or_old_outlier() -> None:
    usual = history(1, [10000, 11000, 9000, 10500, 9800, 10200, 9900, 10100])
    usual.append((1, "order", "2026-06-20", 10400))
    short = history(2, [10000, 11000, 9000])
    short.append((2, "order", "2026-06-20", 900000))
    out = run("behaviour_anomaly", transactions=txns(usual + short))
    assert out.empty


def tiers(rows: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "tier"])


def test_churn_fires_on_top_tier_order_fall() -> None:
    rows = [
        (1, "order", "2026-02-15", 500000),
        (1, "order", "2026-03-15", 500000),
        (1, "order", "2026-05-15", 100000),
    ]
    out = run("behaviour_churn", tiers=tiers([(1, "A")]), transactions=txns(rows))
    assert len(out) == 1
    assert json.loads(out.iloc[0]["evidence"])["fall_pct"] == 90.0
    assert out.iloc[0]["severity"] == "high"


def test_churn_silent_for_low_tier_or_steady_orders() -> None:
    rows = [
        (1, "order", "2026-02-15", 500000),
        (1, "order", "2026-05-15", 450000),
        (2, "order", "2026-02-15", 500000),
    ]  # customer 2 stopped but is tier C
    out = run("behaviour_churn", tiers=tiers([(1, "A"), (2, "B")]), transactions=txns(rows))
    assert out.empty


# --- relationship --------------------------------------------------------------------------


def interactions(rows: list[tuple[int, str, str, int | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "customer_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "date": [r[2] for r in rows],
            "satisfaction": [r[3] for r in rows],
        }
    )


def test_no_contact_fires_for_silent_top_tier_customer() -> None:
    out = run(
        "relationship_no_contact",
        tiers=tiers([(1, "A"), (2, "A"), (3, "B")]),
        interactions=interactions([(1, "call", "2025-03-01", None)]),
    )
    by = out.set_index("customer_id")
    assert by.loc[1, "severity"] == "low"  # 486 days
    assert by.loc[2, "severity"] == "medium"  # never
    assert 3 not in by.index  # tier B is not watched by default
    assert set(out["action"]) == {"schedule a visit"}


def test_no_contact_silent_when_recent_or_low_tier() -> None:
    out = run(
        "relationship_no_contact",
        tiers=tiers([(1, "A"), (2, "C")]),
        interactions=interactions([(1, "visit", "2026-06-01", 4)]),
    )
    assert out.empty


def test_complaint_fires_inside_window_only() -> None:
    inter = interactions(
        [
            (1, "complaint", "2026-06-20", None),
            (2, "complaint", "2026-04-01", None),
            (3, "call", "2026-06-20", None),
        ]
    )
    out = run("relationship_complaint", interactions=inter)
    assert list(out["customer_id"]) == [1]
    assert out.iloc[0]["key"] == "relationship_complaint:1:1"


def test_low_satisfaction_fires_and_twin_silent() -> None:
    inter = interactions(
        [
            (1, "survey", "2026-06-20", 1),
            (2, "survey", "2026-06-20", 3),
            (3, "survey", "2026-01-20", 1),
        ]
    )
    out = run("relationship_satisfaction", interactions=inter)
    assert list(out["customer_id"]) == [1]
    assert out.iloc[0]["severity"] == "medium"


# --- contracts -----------------------------------------------------------------------------


def contracts(rows: list[tuple[str, int, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["contract_number", "customer_id", "end_date", "status"])


def test_contract_expiring_fires_within_days() -> None:
    out = run(
        "contract_expiring",
        contracts=contracts(
            [("K1", 1, "2026-07-05", "active"), ("K2", 2, "2026-07-25", "amended")]
        ),
    )
    by = out.set_index("subject")
    assert by.loc["K1", "severity"] == "medium"  # 5 days
    assert by.loc["K2", "severity"] == "low"
    assert set(out["action"]) == {"renew the contract"}


def test_contract_expiring_silent_when_far_renewed_or_terminated() -> None:
    out = run(
        "contract_expiring",
        contracts=contracts(
            [
                ("K1", 1, "2026-12-31", "active"),
                ("K2", 2, "2026-07-05", "active"),
                ("K2b", 2, "2027-07-05", "draft"),  # renewal on file
                ("K3", 3, "2026-07-05", "terminated"),
            ]
        ),
    )
    assert out.empty


def test_uncovered_business_fires_on_orders_after_contract_lapsed() -> None:
    out = run(
        "contract_uncovered_business",
        contracts=contracts(
            [("K1", 1, "2026-05-31", "expired"), ("K2", 2, "2026-12-31", "terminated")]
        ),
        transactions=txns([(1, "order", "2026-06-10", 1000), (2, "order", "2026-06-12", 1000)]),
    )
    by = out.set_index("customer_id")
    assert by.loc[1, "severity"] == "medium"
    assert by.loc[2, "severity"] == "high"


def test_uncovered_business_silent_with_live_contract_or_no_orders() -> None:
    out = run(
        "contract_uncovered_business",
        contracts=contracts(
            [
                ("K1", 1, "2026-05-31", "expired"),
                ("K1b", 1, "2027-05-31", "active"),
                ("K2", 2, "2026-01-31", "expired"),
            ]
        ),
        transactions=txns([(1, "order", "2026-06-10", 1000), (2, "payment", "2026-06-12", 1000)]),
    )
    assert out.empty


# --- portfolio -----------------------------------------------------------------------------


def test_psi_known_value() -> None:
    assert psi([0.5, 0.5], [50, 50]) == pytest.approx(0.0)
    # (0.8-0.5)ln(1.6) + (0.2-0.5)ln(0.4)
    assert psi([0.5, 0.5], [80, 20]) == pytest.approx(0.3 * 0.4700036 + 0.3 * 0.9162907, 1e-6)
    assert list(bin_counts([1, 5, 10, 99], [0, 5, 10], [5, 10, 100])) == [1, 1, 2]


def bins() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lower": [0, 500, 600, 700],
            "upper": [500, 600, 700, 1000],
            "expected_share": [0.25, 0.25, 0.25, 0.25],
        }
    )


def dist(rows: list[tuple[int, int, float, str, int | None]]) -> pd.DataFrame:
    return scores(rows)[["score"]]


def test_psi_rule_fires_on_drift() -> None:
    drifted = [(i, 3, 450.0, "D", None) for i in range(80)]
    drifted += [(100 + i, 3, 750.0, "A", None) for i in range(20)]
    out = run("portfolio_score_psi", score_dist=dist(drifted), score_bins=bins())
    assert len(out) == 1
    assert out.iloc[0]["severity"] == "high"
    assert pd.isna(out.iloc[0]["customer_id"])
    assert out.iloc[0]["action"].startswith("review the model")


def test_psi_rule_silent_on_stable_distribution() -> None:
    stable = [(i, 3, [450.0, 550.0, 650.0, 750.0][i % 4], "B", None) for i in range(100)]
    assert run("portfolio_score_psi", score_dist=dist(stable), score_bins=bins()).empty


def test_concentration_fires_on_dominant_industry() -> None:
    cust = customers(
        *[(i, 100000) for i in range(1, 11)],
        industry=["steel"] * 5 + ["retail", "food", "tech", "energy", "auto"],
        region=["n", "s", "e", "w", "c", "n", "s", "e", "w", "c"],
    )
    receivables = rec(*[receivable(i, f"I{i}", "2026-09-01", 10000) for i in range(1, 11)])
    out = run("portfolio_concentration", customers=cust, receivables=receivables)
    out = out[~out["subject"].str.startswith("single_name=")]  # ten names: each holds 10%
    assert list(out["key"]) == ["portfolio_concentration:-:industry=steel"]
    assert json.loads(out.iloc[0]["evidence"])["share_pct"] == 50.0


def test_concentration_silent_when_spread() -> None:
    n = 50
    cust = customers(
        *[(i, 100000) for i in range(1, n + 1)],
        industry=[f"ind{i % 4}" for i in range(n)],
        region=[f"r{i % 5}" for i in range(n)],
    )
    receivables = rec(*[receivable(i, f"I{i}", "2026-09-01", 10000) for i in range(1, n + 1)])
    assert run("portfolio_concentration", customers=cust, receivables=receivables).empty


def test_concentration_names_the_largest_customer_and_the_top_ten() -> None:
    n = 50
    cust = customers(
        *[(i, 100000) for i in range(1, n + 1)],
        industry=[f"ind{i % 4}" for i in range(n)],
        region=[f"r{i % 5}" for i in range(n)],
    )
    amounts = [400000] + [10000] * (n - 1)  # the largest holds 4,000 of 8,900
    receivables = rec(*[receivable(i, f"I{i}", "2026-09-01", a) for i, a in
                        zip(range(1, n + 1), amounts, strict=True)])  # fmt: skip
    out = run("portfolio_concentration", customers=cust, receivables=receivables)
    by = out.set_index("subject")
    assert json.loads(by.loc["single_name=largest", "evidence"])["share_pct"] == 44.9
    assert by.loc["single_name=largest", "severity"] == "high"
    assert "single_name=top10" in by.index


def test_every_rule_has_a_test_and_config() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    config = MonitoringConfig()
    off = {"contract_expiring", "contract_uncovered_business"}  # sales administration
    for rule in RULES:
        assert f'"{rule.id}"' in source, rule.id
        assert config.rule(rule.id).enabled is (rule.id not in off)


def test_the_guide_documents_every_rule_and_the_default_config() -> None:
    import re
    import tomllib

    docs = Path(__file__).parents[2] / "docs"
    page = (docs / "alerts.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"| `{rule.id}` |" in page, rule.id
    reference = (docs / "configuration.md").read_text(encoding="utf-8")
    section = reference.split("## `[monitoring]`")[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    documented = MonitoringConfig.model_validate(tomllib.loads(block.group(1))["monitoring"])
    assert documented == MonitoringConfig()  # the reference shows exactly the defaults


def test_csi_per_factor_against_the_development_counts() -> None:
    from riskcli.services.monitoring.sources import factor_csi

    card = {
        "factors": [
            {"name": "stable", "bins": [{"count": 50}, {"count": 50}]},
            {"name": "moved", "bins": [{"count": 50}, {"count": 50}]},
            {"name": "expert", "bins": [{"count": 0}, {"count": 0}]},  # no development counts
        ]
    }
    blobs = [bytes([i % 2, 0 if i < 80 else 1, 0]) for i in range(100)]
    csi = factor_csi(card, blobs)
    assert csi["stable"] == 0.0
    assert csi["moved"] == pytest.approx(psi([0.5, 0.5], [80, 20]), abs=1e-4)
    assert "expert" not in csi

"""Report calculations on constructed data with known totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from riskcli.services import book
from riskcli.services.reports import metrics as m
from riskcli.storage.store import Store

AS_OF = dt.date(2026, 6, 30)


def _receivables() -> pd.DataFrame:
    rows = [
        # invoice, customer, issue, due, amount, paid, paid_date
        ("I1", 1, "2026-06-01", "2026-07-15", 10_000, 0, None),  # current
        ("I2", 1, "2026-05-01", "2026-06-29", 20_000, 5_000, "2026-06-10"),  # 1 dpd, 15000 open
        ("I3", 2, "2026-04-01", "2026-05-31", 30_000, 0, None),  # 30 dpd -> 1-30
        ("I4", 2, "2026-03-01", "2026-05-30", 40_000, 0, None),  # 31 dpd -> 31-60
        ("I5", 3, "2026-02-01", "2026-04-01", 50_000, 50_000, "2026-07-05"),  # paid after as-of
        ("I6", 3, "2026-01-01", "2026-03-01", 60_000, 60_000, "2026-06-01"),  # fully paid: out
        ("I7", 4, "2025-01-01", "2025-02-01", 70_000, 0, None),  # 90+
        ("I8", 4, "2026-07-01", "2026-08-01", 80_000, 0, None),  # issued after as-of: out
        ("I9", 5, "2026-03-01", "2026-04-01", 1_000, 1_000, None),  # paid, date unknown: out
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "invoice_number",
            "customer_id",
            "issue_date",
            "due_date",
            "amount",
            "paid_amount",
            "paid_date",
        ],
    )


def _open_items(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """The invoices stored, then read back through the book as of AS_OF, aged."""
    with store.transaction():
        store.executemany(
            "INSERT INTO customers (id, external_id) VALUES (?, ?)",
            [(i, f"C{i}") for i in range(1, 6)],
        )
        store.executemany(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
            "paid_amount, paid_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            frame.itertuples(index=False, name=None),
        )
    return m.aged(book.open_invoices(store, AS_OF))


def test_aging_buckets_add_up_to_the_outstanding_receivables(store: Store) -> None:
    items = _open_items(store, _receivables())
    assert set(items["invoice_number"]) == {"I1", "I2", "I3", "I4", "I5", "I7"}
    expected_total = 10_000 + 15_000 + 30_000 + 40_000 + 50_000 + 70_000
    assert int(items["outstanding"].sum()) == expected_total
    table = m.aging_table(items)
    assert table["bucket"].tolist() == list(m.AGING_BUCKETS)
    by = dict(zip(table["bucket"], table["amount"], strict=True))
    assert by == {
        "current": Decimal("100.00"),
        "1-30": Decimal("450.00"),
        "31-60": Decimal("400.00"),
        "61-90": Decimal("500.00"),  # I5: due 2026-04-01, 90 dpd
        "90+": Decimal("700.00"),
    }
    assert sum(table["amount"]) == Decimal(expected_total) / 100
    assert table["invoices"].sum() == len(items) == 6
    assert table["amount_share"].sum() == pytest.approx(1.0, abs=1e-5)


def test_aging_of_nothing_is_five_zero_rows(store: Store) -> None:
    table = m.aging_table(_open_items(store, _receivables().iloc[0:0]))
    assert table["invoices"].tolist() == [0] * 5
    assert sum(table["amount"]) == 0


def test_bucket_edges() -> None:
    got = m.aging_bucket(pd.Series([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400])).tolist()
    assert got == [
        "current",
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
        "90+",
    ]


def test_herfindahl_bounds() -> None:
    assert m.herfindahl([1.0]) == 1.0
    assert m.herfindahl([0.25] * 4) == pytest.approx(0.25)
    assert m.herfindahl([0.5, 0.3, 0.2]) == pytest.approx(0.38)


def test_concentration_shares_and_hhi() -> None:
    customers = pd.DataFrame({"id": [1, 2, 3, 4], "industry": ["steel", "steel", "retail", None]})
    exposure = pd.Series({1: 30_000, 2: 30_000, 3: 40_000})
    table, facts = m.concentration(customers, exposure, "industry")
    assert table["industry"].tolist() == ["steel", "retail", m.UNKNOWN]
    assert table["customers"].sum() == 4
    assert sum(table["exposure"]) == Decimal("1000.00")
    assert table["exposure_share"].tolist() == [0.6, 0.4, 0.0]
    assert facts["hhi_exposure"] == pytest.approx(0.52)
    assert facts["largest"] == "steel"


def test_grade_tier_matrix_adds_up_to_the_customers() -> None:
    ids = pd.Series(range(1, 11))
    grades = pd.Series({1: "A", 2: "A", 3: "B", 4: "C", 5: "C", 6: "E", 7: "B"})
    tiers = pd.Series({1: "A", 2: "B", 3: "B", 4: "D", 8: "C", 9: "A"})
    matrix = m.cross_matrix(
        ids, grades, tiers, row_name="grade", row_missing=m.UNSCORED, col_missing=m.UNTIERED
    )
    assert matrix["grade"].tolist() == ["A", "B", "C", "E", m.UNSCORED]
    assert list(matrix.columns[1:]) == ["A", "B", "C", "D", m.UNTIERED]
    assert int(matrix.iloc[:, 1:].to_numpy().sum()) == 10
    row_a = matrix.set_index("grade").loc["A"]
    assert (row_a["A"], row_a["B"]) == (1, 1)
    assert matrix.set_index("grade").loc[m.UNSCORED, m.UNTIERED] == 1  # customer 10


def test_group_exposure_by_grade() -> None:
    customers = pd.DataFrame({"id": [1, 2, 3]})
    table = m.group_exposure(
        customers, pd.Series({1: 100, 3: 300}), pd.Series({1: "B", 2: "A"}), "grade", m.UNSCORED
    )
    assert table["grade"].tolist() == ["A", "B", m.UNSCORED]
    assert table["exposure"].tolist() == [Decimal("0.00"), Decimal("1.00"), Decimal("3.00")]
    assert table["customers"].sum() == 3


def test_psi_zero_for_same_sample_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(7)
    ref = pd.Series(rng.normal(600, 50, 5000))
    same, table = m.psi(ref, ref)
    assert same == pytest.approx(0.0, abs=1e-9)
    assert table["reference"].sum() == 5000
    assert len(table) == 10
    shifted, _ = m.psi(ref, ref + 60)
    assert shifted > 0.25
    assert m.psi_verdict(shifted) == "significant shift"
    small, _ = m.psi(ref, pd.Series(rng.normal(600, 50, 5000)))
    assert small < 0.1


def test_psi_with_heavily_tied_scores_does_not_crash() -> None:
    value, table = m.psi(pd.Series([600] * 50 + [620] * 50), pd.Series([600] * 10 + [640] * 5))
    assert table["current"].sum() == 15
    assert value > 0


def test_histogram_counts_every_score_once() -> None:
    cur = pd.Series([512, 530, 555, 600, 601, 699, 700])
    ref = pd.Series([480, 600, 720])
    table = m.histogram(cur, ref, bins=10)
    assert table["customers"].sum() == len(cur)
    assert table["compare_customers"].sum() == len(ref)
    assert table["lower"].iloc[0] <= 480 and table["upper"].iloc[-1] > 720
    widths = (table["upper"] - table["lower"]).unique()
    assert len(widths) == 1


def test_top_expected_loss_orders_by_pd_times_exposure() -> None:
    customers = pd.DataFrame(
        {"id": [1, 2, 3, 4], "external_id": ["C1", "C2", "C3", "C4"], "name": list("abcd")}
    )
    exposure = pd.Series({1: 100_000, 2: 10_000, 3: 50_000})
    pds = pd.Series({1: 0.01, 2: 0.5, 3: 0.05, 4: 0.9})
    grades = pd.Series({1: "A", 2: "E", 3: "C", 4: "E"})
    table = m.top_expected_loss(customers, exposure, pds, grades, top=3)
    assert table["customer_id"].tolist() == ["C2", "C3", "C1"]
    assert table["expected_loss"].tolist() == [
        Decimal("50.00"),
        Decimal("25.00"),
        Decimal("10.00"),
    ]
    assert table["rank"].tolist() == [1, 2, 3]


def test_grade_order_follows_probability_of_default_not_the_alphabet() -> None:
    now = pd.DataFrame({"grade": ["low", "mid", "high", "low"], "pd": [0.01, 0.05, 0.3, 0.02]})
    assert m.grade_order(now, None) == ["low", "mid", "high"]
    matrix = m.cross_matrix(
        pd.Series([1, 2, 3]),
        pd.Series({1: "high", 2: "low"}),
        pd.Series({1: "low", 3: "mid"}),
        row_name="g",
        row_missing=m.UNSCORED,
        col_missing=m.UNSCORED,
        row_order=["low", "mid", "high"],
        col_order=["low", "mid", "high"],
    )
    assert matrix["g"].tolist() == ["low", "high", m.UNSCORED]
    assert list(matrix.columns[1:]) == ["low", "mid", m.UNSCORED]

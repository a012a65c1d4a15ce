"""Tiering on real encrypted stores: runs kept as history, summary, changes, odd inputs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from riskcli.domain.errors import InputError
from riskcli.services.tiering import service as tiering
from riskcli.storage.store import Store

AS_OF = date(2024, 12, 31)


def add_customers(store: Store, n: int) -> None:
    with store.transaction():
        store.executemany(
            "INSERT INTO customers(id, external_id, name) VALUES (?, ?, ?)",
            [(i, f"C{i:04d}", f"Customer {i}") for i in range(1, n + 1)],
        )


def add_txns(store: Store, rows: list[tuple[int, str, date, int]]) -> None:
    start = int(store.scalar("SELECT count(*) FROM transactions"))
    with store.transaction():
        store.executemany(
            "INSERT INTO transactions(external_id, customer_id, kind, date, amount) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (f"T{start + i}", c, k, d.isoformat(), a)
                for i, (c, k, d, a) in enumerate(rows, start=1)
            ],
        )


@pytest.fixture
def book(store: Store) -> Store:
    """20 customers with a known structure: 1-2 big and regular, 3-10 medium, 11-18 small,
    19 refunds more than it buys, 20 never buys."""
    add_customers(store, 20)
    rows: list[tuple[int, str, date, int]] = []
    for c in range(1, 19):
        amount = 1_000_000 if c <= 2 else 50_000 if c <= 10 else 2_000
        for k in range(0, 300, 30 if c <= 10 else 100):
            rows.append((c, "order", AS_OF - timedelta(days=k + c), amount))
    rows.append((19, "order", AS_OF - timedelta(days=40), 1000))
    rows.append((19, "refund", AS_OF - timedelta(days=35), 5000))
    rows.append((1, "payment", AS_OF - timedelta(days=3), 99_999_999))
    add_txns(store, rows)
    with store.transaction():
        store.executemany(
            "INSERT INTO receivables(invoice_number, customer_id, issue_date, due_date, amount, "
            "paid_amount) VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("INV1", 1, "2024-10-01", "2024-11-01", 10_000, 2_000),  # 80.00 overdue
                ("INV2", 15, "2024-10-01", "2024-11-01", 5_000, 0),  # 50.00 overdue
                ("INV3", 15, "2024-12-01", "2025-01-31", 7_000, 0),  # not yet due
                ("INV4", 3, "2024-10-01", "2024-11-01", 9_000, 9_000),  # paid
            ],
        )
    return store


def test_run_stores_every_customer_once_with_tier_a_holding_the_top_value(book: Store) -> None:
    out = tiering.run_tiering(book, as_of=AS_OF)
    assert out.run_id == 1
    rows = book.query("SELECT customer_id, tier, segment, stage FROM tier_results WHERE run_id=1")
    assert sorted(r["customer_id"] for r in rows) == list(range(1, 21))
    tiers = {r["customer_id"]: r["tier"] for r in rows}
    assert tiers[1] == tiers[2] == "A"
    assert all(tiers[c] in "BC" for c in range(3, 11))
    assert tiers[19] == "D" and tiers[20] == "D"
    stages = {r["customer_id"]: r["stage"] for r in rows}
    assert stages[20] == "prospect"
    run = tiering.get_run(book)
    assert run["as_of"] == "2024-12-31" and run["method"] == "rfm" and run["window_days"] == 365
    assert run["params"]["tier_shares"] == {"A": 0.5, "B": 0.3, "C": 0.15}
    assert run["stats"]["negative_value_customers"] == 1


def test_history_is_kept_across_runs(book: Store) -> None:
    first = tiering.run_tiering(book, as_of=AS_OF)
    second = tiering.run_tiering(book, as_of=AS_OF + timedelta(days=200), method="kmeans")
    assert (first.run_id, second.run_id) == (1, 2)
    assert book.scalar("SELECT count(*) FROM tier_results") == 40
    runs = tiering.list_runs(book)
    assert runs["run"].tolist() == [2, 1]
    assert runs["method"].tolist() == ["kmeans", "rfm"]
    history = tiering.customer_history(book, "C0001")
    assert history["run"].tolist() == [2, 1]
    assert history["as_of"].tolist() == ["2025-07-19", "2024-12-31"]


def test_summary_shares_and_overdue(book: Store) -> None:
    tiering.run_tiering(book, as_of=AS_OF)
    s = tiering.summary(book)
    tiers = s[s["group"] == "tier"].set_index("name")
    assert tiers["customers"].sum() == 20
    assert tiers["share_customers"].sum() == pytest.approx(1.0, abs=1e-3)
    assert tiers["share_value"].sum() == pytest.approx(1.0, abs=1e-3)
    assert tiers.loc["A", "share_value"] >= 0.5
    assert tiers.loc["A", "overdue_total"] == 80.0
    assert tiers.loc["A", "overdue_avg"] == 40.0  # 80.00 over two customers
    segs = s[s["group"] == "segment"]
    assert segs["customers"].sum() == 20
    assert s.loc[s["group"] == "stage", "customers"].sum() == 20


def test_changes_between_runs_show_movers_and_matrix(book: Store) -> None:
    tiering.run_tiering(book, as_of=AS_OF)
    # customer 18 suddenly buys big; a new customer 21 arrives
    add_txns(book, [(18, "order", AS_OF + timedelta(days=5), 50_000_000)])
    book.execute("INSERT INTO customers(id, external_id, name) VALUES (21, 'C0021', 'New')")
    tiering.run_tiering(book, as_of=AS_OF + timedelta(days=10))
    movers, matrix, info = tiering.changes(book)
    assert info["from_run"] == 1 and info["to_run"] == 2
    row = movers.set_index("customer_id").loc["C0018"]
    assert row["direction"] == "up" and row["tier_to"] == "A"
    assert movers.set_index("customer_id").loc["C0021", "direction"] == "entered"
    assert set(movers["direction"]) <= {"up", "down", "entered"}
    m = matrix.set_index("from \\ to")
    assert int(m.to_numpy().sum()) == 21
    assert int(m.loc["-", "D"]) == 1
    assert int(m.loc["D", "A"]) + int(m.loc["C", "A"]) >= 1


def test_changes_needs_two_runs(book: Store) -> None:
    with pytest.raises(InputError, match="no tier runs yet"):
        tiering.changes(book)
    tiering.run_tiering(book, as_of=AS_OF)
    with pytest.raises(InputError, match="needs two runs"):
        tiering.changes(book)


def test_results_filter_by_tier_segment_and_stage(book: Store) -> None:
    tiering.run_tiering(book, as_of=AS_OF)
    a = tiering.results(book, tier="a")
    assert set(a["customer_id"]) == {"C0001", "C0002"}
    assert a.iloc[0]["monetary"] == 100_000.0  # 10 orders of 10,000.00 in the window
    prospects = tiering.results(book, stage="prospect")
    assert prospects["customer_id"].tolist() == ["C0020"]
    assert tiering.results(book, segment="No such segment").empty


def test_service_policy_for_customers_show(book: Store) -> None:
    before = tiering.service_policy(book, 1)
    assert before["tier"] is None and "No tier yet" in before["service_policy"]
    tiering.run_tiering(book, as_of=AS_OF)
    after = tiering.service_policy(book, "C0001")
    assert after["tier"] == "A"
    assert after["service_policy"].startswith("Dedicated account manager")
    assert after["stage"] in {"active", "new"}
    custom = tiering.service_policy(book, 20, {"tiering": {"policies": {"D": "Web shop only"}}})
    assert custom["tier"] == "D" and custom["service_policy"] == "Web shop only"


def test_empty_store_says_so(store: Store) -> None:
    with pytest.raises(InputError, match="nothing to tier: the store has no customers"):
        tiering.run_tiering(store, as_of=AS_OF)
    assert store.scalar("SELECT count(*) FROM tier_runs") == 0


def test_customers_without_transactions_are_prospects(store: Store) -> None:
    add_customers(store, 3)
    out = tiering.run_tiering(store, as_of=AS_OF)
    assert set(out.result.frame["stage"]) == {"prospect"}
    assert any("prospect" in w for w in out.result.warnings)


def test_as_of_before_data_fails_and_stores_nothing(book: Store) -> None:
    with pytest.raises(InputError, match="before the first transaction"):
        tiering.run_tiering(book, as_of="2020-01-01")
    assert book.scalar("SELECT count(*) FROM tier_runs") == 0


def test_future_transactions_are_excluded_and_counted(book: Store) -> None:
    out = tiering.run_tiering(book, as_of=AS_OF - timedelta(days=100))
    assert out.result.stats["future_excluded"] > 0
    assert tiering.get_run(book)["stats"]["future_excluded"] == out.result.stats["future_excluded"]


def test_bad_parameters_are_input_errors(book: Store) -> None:
    with pytest.raises(InputError, match="not a YYYY-MM-DD date"):
        tiering.run_tiering(book, as_of="31/12/2024")
    with pytest.raises(InputError, match="window 'x' is not understood"):
        tiering.run_tiering(book, as_of=AS_OF, window="x")
    with pytest.raises(InputError, match="unknown method"):
        tiering.run_tiering(book, as_of=AS_OF, method="tarot")
    with pytest.raises(InputError, match=r"config \[tiering\] tier_shares"):
        tiering.run_tiering(book, config={"tiering": {"tier_shares": {"A": 0.9, "B": 0.9}}})


def test_reader_matches_a_plain_query(book: Store) -> None:
    txns = tiering.read_transactions(book)
    rows = book.query(
        "SELECT customer_id, kind, date, amount FROM transactions WHERE kind <> 'payment' "
        "ORDER BY id"
    )
    assert len(txns) == len(rows)
    for i, r in enumerate(rows):
        sign = 1 if r["kind"] == "order" else -1
        assert txns.customer_id[i] == r["customer_id"]
        assert txns.amount[i] == sign * r["amount"]
        assert bool(txns.is_order[i]) == (r["kind"] == "order")
        assert (date(1970, 1, 1) + timedelta(days=int(txns.day[i]))).isoformat() == r["date"]


def test_a_malformed_stored_date_is_a_clear_error(book: Store) -> None:
    book.execute("UPDATE transactions SET date = '2024-1-5' WHERE id = 3")
    with pytest.raises(InputError, match="not a YYYY-MM-DD date"):
        tiering.run_tiering(book, as_of=AS_OF)


def test_erasing_a_customer_removes_its_tier_rows(book: Store) -> None:
    tiering.run_tiering(book, as_of=AS_OF)
    with book.transaction():
        book.execute("DELETE FROM transactions WHERE customer_id = 20")
        book.execute("DELETE FROM customers WHERE id = 20")
    assert book.scalar("SELECT count(*) FROM tier_results WHERE customer_id = 20") == 0


def test_progress_reports_every_step(book: Store) -> None:
    seen: list[int] = []
    tiering.run_tiering(book, as_of=AS_OF, progress=seen.append)
    assert sum(seen) == tiering.read_chunks(book) + 4

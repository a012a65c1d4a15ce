"""Tiering maths on small frames: scores, segments, value tiers, stages, kmeans, odd inputs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcli.domain.errors import InputError
from riskcli.services.tiering import (
    SEGMENT_GRID,
    SEGMENTS,
    TieringConfig,
    Transactions,
    compute_tiers,
    parse_window,
    quantile_scores,
    value_tiers,
)
from riskcli.services.tiering.scores import segment_of

AS_OF = date(2024, 12, 31)
CFG = TieringConfig()
BOUNDS = CFG.cumulative_bounds()


def frame(rows: list[tuple[int, str, str, int]]) -> Transactions:
    return Transactions.from_frame(
        pd.DataFrame(rows, columns=["customer_id", "kind", "date", "amount"])
    )


def run(ids: list[int], rows: list[tuple[int, str, str, int]], **kw: object) -> pd.DataFrame:
    result = compute_tiers(np.array(ids), frame(rows), AS_OF, CFG, **kw)  # type: ignore[arg-type]
    return result.frame.set_index("customer_id")


def d(days_before: int) -> str:
    return (AS_OF - timedelta(days=days_before)).isoformat()


# ---- quantile scores ------------------------------------------------------------------------
def test_scores_of_distinct_values_fill_five_equal_classes() -> None:
    scores = quantile_scores(np.arange(100))
    assert np.bincount(scores)[1:].tolist() == [20, 20, 20, 20, 20]


def test_mostly_tied_values_neither_crash_nor_split_the_tie() -> None:
    # 40% one order, 20% two, 12% three, 8% four, 20% more: every class is used
    values = np.array([1] * 40 + [2] * 20 + [3] * 12 + [4] * 8 + list(range(5, 25)))
    scores = quantile_scores(values)
    assert np.bincount(scores)[1:].tolist() == [40, 20, 12, 8, 20]
    # one value covering 90%: still no empty class, the tie stays whole
    skewed = quantile_scores(np.array([1] * 90 + list(range(2, 12))))
    assert np.bincount(skewed)[1:].tolist() == [90, 1, 1, 1, 7]


def test_fewer_distinct_values_than_scores_spread_over_the_scale() -> None:
    values = np.array([1] * 70 + [2] * 20 + [3] * 10)
    assert quantile_scores(values)[[0, 70, 95]].tolist() == [1, 3, 5]
    assert quantile_scores(np.array([7, 9])).tolist() == [1, 5]
    assert quantile_scores(np.array([1, 2, 3, 4])).tolist() == [1, 2, 4, 5]


def test_one_value_and_identical_values_get_the_middle_score() -> None:
    assert quantile_scores(np.array([42])).tolist() == [3]
    assert set(quantile_scores(np.full(1000, 7))) == {3}
    assert quantile_scores(np.array([], dtype=np.int64)).tolist() == []


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=300))
@settings(max_examples=200, deadline=None)
def test_scores_are_monotone_and_ties_share_a_score(values: list[int]) -> None:
    arr = np.array(values)
    scores = quantile_scores(arr)
    assert scores.min() >= 1 and scores.max() <= 5
    order = np.argsort(arr, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)
    for v in set(values):
        assert len(set(scores[arr == v])) == 1
    if len(set(values)) >= 5:  # no empty class when five scores can be told apart
        assert set(scores) == {1, 2, 3, 4, 5}


# ---- segments -------------------------------------------------------------------------------
def test_rule_table_names_every_cell_with_one_of_the_eleven_segments() -> None:
    cells = {name for row in SEGMENT_GRID for name in row}
    assert cells == set(SEGMENTS)
    assert len(SEGMENTS) == 11
    r, f, m = np.meshgrid(np.arange(1, 6), np.arange(1, 6), np.arange(1, 6))
    names = segment_of(r.ravel(), f.ravel(), m.ravel())
    assert set(names) == set(SEGMENTS)


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "Champions"),
        (5, 1, 1, "New"),
        (4, 1, 1, "Promising"),
        (3, 3, 3, "Needs attention"),
        (1, 5, 5, "Cannot lose them"),
        (1, 1, 1, "Lost"),
        (2, 1, 2, "Hibernating"),
        (2, 4, 3, "At risk"),
        (3, 1, 2, "About to sleep"),
        (4, 4, 4, "Loyal"),
        (5, 2, 3, "Potential loyalist"),
    ],
)
def test_segment_rules(r: int, f: int, m: int, segment: str) -> None:
    assert segment_of(np.array([r]), np.array([f]), np.array([m]))[0] == segment


# ---- value tiers ----------------------------------------------------------------------------
def test_tier_a_is_the_smallest_top_set_holding_half_the_value() -> None:
    value = np.array([50.0, 20, 10, 10, 5, 5, 0])
    tiers = value_tiers(value, BOUNDS, ("A", "B", "C", "D"))
    assert "".join("ABCD"[t] for t in tiers) == "ABBBCCD"  # the two 5s share C


def test_no_value_at_all_puts_everyone_in_the_last_tier() -> None:
    assert set(value_tiers(np.zeros(5), BOUNDS, ("A", "B", "C", "D"))) == {3}


def test_equal_values_share_a_tier() -> None:
    assert set(value_tiers(np.full(10, 3.0), BOUNDS, ("A", "B", "C", "D"))) == {0}


def test_tier_shares_are_configurable() -> None:
    cfg = TieringConfig(tier_shares={"A": 0.4, "B": 0.3, "C": 0.2})
    value = np.array([45.0, 20, 15, 12, 4, 4])
    tiers = value_tiers(value, cfg.cumulative_bounds(), ("A", "B", "C", "D"))
    assert "".join("ABCD"[t] for t in tiers) == "ABBCDD"


@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=200),
    st.integers(0, 199),
    st.integers(1, 10_000),
)
@settings(max_examples=200, deadline=None)
def test_more_value_never_gives_a_lower_tier(values: list[int], who: int, extra: int) -> None:
    value = np.array(values, dtype=np.float64)
    tiers = value_tiers(value, BOUNDS, ("A", "B", "C", "D"))
    # within one run: a larger value never has a worse tier (index)
    order = np.argsort(-value, kind="stable")
    assert np.all(np.diff(tiers[order]) >= 0)
    # all else equal, raising one customer's value never worsens its tier
    i = who % len(values)
    richer = value.copy()
    richer[i] += extra
    assert value_tiers(richer, BOUNDS, ("A", "B", "C", "D"))[i] <= tiers[i]


# ---- the whole computation ------------------------------------------------------------------
def test_every_customer_gets_one_segment_tier_and_stage() -> None:
    rng = np.random.default_rng(1)
    rows = [
        (int(c), "order", d(int(rng.integers(0, 700))), int(rng.integers(100, 10_000)))
        for c in rng.integers(1, 200, 2000)
    ]
    out = run(list(range(1, 251)), rows)
    assert len(out) == 250
    assert out["segment"].isin(SEGMENTS).all()
    assert out["tier"].isin(list("ABCD")).all()
    assert out["stage"].notna().all()
    assert (out.loc[200:, "stage"] == "prospect").all()


def test_recency_frequency_monetary_and_tenure() -> None:
    rows = [
        (1, "order", d(400), 1000),  # before the 12-month window
        (1, "order", d(100), 2000),
        (1, "order", d(10), 3000),
        (1, "refund", d(5), 500),
        (1, "payment", d(4), 99999),  # payments never count
    ]
    out = run([1], rows)
    row = out.loc[1]
    assert row["recency_days"] == 10
    assert row["frequency"] == 2
    assert row["monetary"] == 4500
    assert row["tenure_days"] == 400
    assert row["interval_days"] == 195.0


def test_no_transactions_gives_prospects_in_tier_d_with_a_warning() -> None:
    result = compute_tiers(np.array([1, 2, 3]), Transactions.empty(), AS_OF, CFG)
    out = result.frame
    assert set(out["stage"]) == {"prospect"}
    assert set(out["tier"]) == {"D"}
    assert set(out["segment"]) == {"Lost"}
    assert "every customer is a prospect" in result.warnings[0]


def test_no_customer_is_an_error() -> None:
    with pytest.raises(InputError, match="no customers"):
        compute_tiers(np.array([], dtype=np.int64), Transactions.empty(), AS_OF, CFG)


def test_one_customer_is_tier_a_with_middle_scores() -> None:
    out = run([7], [(7, "order", d(3), 500)])
    assert out.loc[7, ["r_score", "f_score", "m_score"]].tolist() == [3, 3, 3]
    assert out.loc[7, "segment"] == "Needs attention"
    assert out.loc[7, "tier"] == "A"


def test_identical_customers_get_identical_results() -> None:
    rows = [(c, "order", d(k), 1000) for c in range(1, 21) for k in (30, 90, 150)]
    out = run(list(range(1, 21)), rows)
    cols = ["r_score", "f_score", "m_score", "segment", "tier", "stage"]
    assert len(out[cols].drop_duplicates()) == 1
    assert out.iloc[0]["segment"] == "Needs attention"


def test_future_transactions_are_excluded_and_counted() -> None:
    result = compute_tiers(
        np.array([1]),
        frame([(1, "order", d(5), 100), (1, "order", d(-3), 900), (1, "refund", d(-1), 50)]),
        AS_OF,
        CFG,
    )
    assert result.stats["future_excluded"] == 2
    assert result.frame.loc[0, "monetary"] == 100
    assert "2 transactions dated after 2024-12-31 were excluded" in result.warnings


def test_refunds_larger_than_orders_count_as_no_value() -> None:
    result = compute_tiers(
        np.array([1, 2]),
        frame([(1, "order", d(5), 100), (1, "refund", d(4), 300), (2, "order", d(5), 50)]),
        AS_OF,
        CFG,
    )
    out = result.frame.set_index("customer_id")
    assert out.loc[1, "monetary"] == -200
    assert out.loc[1, "tier"] == "D"
    assert out.loc[2, "tier"] == "A"
    assert result.stats["negative_value_customers"] == 1
    assert any("more refunds than orders" in w for w in result.warnings)


def test_as_of_before_any_data_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"before the first transaction \(2024-12-21\)"):
        compute_tiers(np.array([1]), frame([(1, "order", d(10), 100)]), date(2020, 1, 1), CFG)


def test_transactions_of_unknown_customers_are_ignored_and_counted() -> None:
    result = compute_tiers(
        np.array([1]), frame([(1, "order", d(1), 100), (99, "order", d(1), 100)]), AS_OF, CFG
    )
    assert result.stats["unknown_customer_transactions"] == 1


def test_bad_dates_and_kinds_are_input_errors() -> None:
    with pytest.raises(InputError, match="not a YYYY-MM-DD date"):
        frame([(1, "order", "2024-13-01", 100)])
    with pytest.raises(InputError, match="unknown transaction kind 'gift'"):
        frame([(1, "gift", "2024-01-01", 100)])


def test_windows_parse_and_bad_ones_say_so() -> None:
    assert parse_window("12m") == 365
    assert parse_window("90d") == 90
    assert parse_window("2y") == 730
    assert parse_window("4w") == 28
    with pytest.raises(InputError, match="not understood"):
        parse_window("a year")
    with pytest.raises(InputError, match="longer than zero"):
        parse_window("0d")


# ---- lifecycle ------------------------------------------------------------------------------
def monthly(start: date, months: int) -> list[date]:
    return [start + timedelta(days=30 * i) for i in range(months)]


def stage_at(days: list[date], as_of: date) -> str:
    rows = [(1, "order", x.isoformat(), 1000) for x in days]
    rows += [(2, "order", (as_of - timedelta(days=k)).isoformat(), 500) for k in (400, 200, 20)]
    result = compute_tiers(np.array([1, 2]), frame(rows), as_of, CFG)
    return str(result.frame.set_index("customer_id").loc[1, "stage"])


def test_a_customer_who_stops_buying_goes_at_risk_then_dormant_then_won_back() -> None:
    start = date(2023, 1, 1)
    history = monthly(start, 12)  # an order every 30 days, the last on 2023-11-27
    last = history[-1]
    assert stage_at(history, last + timedelta(days=20)) == "active"
    assert stage_at(history, last + timedelta(days=61)) == "at-risk"
    assert stage_at(history, last + timedelta(days=200)) == "dormant"
    assert stage_at(history, last + timedelta(days=400)) == "churned"
    back = [*history, last + timedelta(days=400)]
    assert stage_at(back, last + timedelta(days=410)) == "won-back"
    # buying regularly again ends the win-back
    again = [*back, last + timedelta(days=430), last + timedelta(days=460)]
    assert stage_at(again, last + timedelta(days=465)) == "active"


def test_new_and_prospect_stages() -> None:
    out = run([1, 2], [(1, "order", d(30), 100)])
    assert out.loc[1, "stage"] == "new"
    assert out.loc[2, "stage"] == "prospect"


def test_at_risk_uses_the_customers_own_interval() -> None:
    weekly = [(1, "order", d(k), 100) for k in range(200, 20, -7)]  # weekly until 3 weeks ago
    slow = [(2, "order", d(k), 100) for k in (380, 260, 140, 21)]  # every ~120 days
    out = run([1, 2], weekly + slow)
    assert out.loc[1, "stage"] == "at-risk"
    assert out.loc[2, "stage"] == "active"


# ---- kmeans ---------------------------------------------------------------------------------
def test_kmeans_orders_clusters_by_value_and_reports_silhouette() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for c in range(1, 301):
        big = c <= 30
        for _ in range(int(rng.integers(8, 12) if big else rng.integers(1, 3))):
            amount = int(rng.integers(50_000, 90_000) if big else rng.integers(100, 900))
            rows.append((c, "order", d(int(rng.integers(0, 300))), amount))
    result = compute_tiers(np.arange(1, 311), frame(rows), AS_OF, CFG, method="kmeans")
    out = result.frame.set_index("customer_id")
    assert result.stats["silhouette"] is not None and -1 <= result.stats["silhouette"] <= 1
    means = out.loc[1:300].groupby("tier")["monetary"].mean()
    assert list(means.index) == sorted(means.index)
    assert means.is_monotonic_decreasing
    assert (out.loc[1:30, "tier"] == "A").all()
    assert out.loc[301:, "cluster"].isna().all()  # prospects are not clustered
    assert all("label" in c for c in result.stats["clusters"])


def test_kmeans_on_identical_customers_is_one_cluster_without_silhouette() -> None:
    rows = [(c, "order", d(10), 100) for c in range(1, 6)]
    result = compute_tiers(np.arange(1, 6), frame(rows), AS_OF, CFG, method="kmeans")
    assert set(result.frame["tier"]) == {"A"}
    assert result.stats["silhouette"] is None


def test_unknown_method_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown method"):
        compute_tiers(np.array([1]), Transactions.empty(), AS_OF, CFG, method="magic")


txn_lists = st.lists(
    st.tuples(
        st.integers(1, 15),  # customer
        st.sampled_from(["order", "order", "order", "refund", "payment"]),
        st.integers(-20, 900),  # days before the as-of date (negative: in the future)
        st.integers(1, 50_000),  # cents
    ),
    min_size=0,
    max_size=60,
)


def as_rows(raw: list[tuple[int, str, int, int]]) -> list[tuple[int, str, str, int]]:
    return [(c, k, d(days), a) for c, k, days, a in raw]


@given(txn_lists)
@settings(max_examples=150, deadline=None)
def test_any_book_gives_every_customer_one_valid_result(
    raw: list[tuple[int, str, int, int]],
) -> None:
    ids = list(range(1, 18))
    counted = [days for _, kind, days, _ in raw if kind != "payment"]
    if counted and max(counted) < 0:  # every order and refund after the as-of date
        with pytest.raises(InputError, match="before the first transaction"):
            compute_tiers(np.array(ids), frame(as_rows(raw)), AS_OF, CFG)
        return
    result = compute_tiers(np.array(ids), frame(as_rows(raw)), AS_OF, CFG)
    out = result.frame
    assert sorted(out["customer_id"]) == ids
    assert out["segment"].isin(SEGMENTS).all()
    assert out["tier"].isin(list("ABCD")).all()
    assert out["stage"].notna().all()
    assert out[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()


@given(txn_lists, st.integers(1, 15), st.integers(1, 1_000_000))
@settings(max_examples=150, deadline=None)
def test_a_bigger_order_never_gives_a_lower_tier(
    raw: list[tuple[int, str, int, int]], who: int, extra: int
) -> None:
    rows = [*as_rows(raw), (who, "order", d(10), 100)]
    richer = [*as_rows(raw), (who, "order", d(10), 100 + extra)]
    ids = np.arange(1, 16)
    before = compute_tiers(ids, frame(rows), AS_OF, CFG).frame.set_index("customer_id")
    after = compute_tiers(ids, frame(richer), AS_OF, CFG).frame.set_index("customer_id")
    assert after.loc[who, "tier"] <= before.loc[who, "tier"]  # "A" < "B" < ...
    assert after.loc[who, "m_score"] >= before.loc[who, "m_score"]

"""Scoring on a real encrypted store: factors, outcome, registry, runs, bad input."""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.support.credit_sample import populate_store

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as F
from riskcli.services.scoring import registry
from riskcli.services.scoring import service as svc
from riskcli.services.scoring.config import ScoringConfig, load_scoring_config
from riskcli.storage.store import Store, open_with_key

AS_OF = date(2025, 9, 30)
FAST = ScoringConfig(folds=2)


@pytest.fixture
def book(store: Store) -> Store:
    populate_store(store, 2500, seed=5)
    return store


def _count(store: Store, table: str) -> int:
    return int(store.scalar(f"SELECT COUNT(*) FROM {table}"))


def _nothing_stored(store: Store) -> bool:
    """No score run and no score row in the store."""
    return _count(store, "score_runs") == 0 and _count(store, "scores") == 0


def test_migration_allows_only_one_champion(store: Store) -> None:
    assert {"score_models", "score_runs", "scores"} <= set(store.tables())
    row = ("m", "trained", "x", "champion", "u", "t", "{}", "f", "{}", "{}", "{}")
    sql = (
        "INSERT INTO score_models (name, version, kind, source, status, created_by, created_at, "
        "params, fingerprint, metrics, report, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    store.execute(sql, (row[0], 1, *row[1:]))
    with pytest.raises(Exception, match="UNIQUE"):
        store.execute(sql, (row[0], 2, *row[1:]))


def test_factors_and_outcome_by_hand(store: Store) -> None:
    with store.transaction():
        store.execute(
            "INSERT INTO customers (id, external_id, registered_date, credit_limit, industry) "
            "VALUES (1, 'C1', '2015-09-30', 1000000, 'retail')"
        )
        store.executemany(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
            "paid_amount, paid_date) VALUES (?, 1, ?, ?, ?, ?, ?)",
            [
                ("I1", "2025-01-01", "2025-02-01", 100000, 100000, "2025-03-15"),  # 42 days late
                ("I2", "2025-05-01", "2025-06-01", 200000, 0, None),  # open: 121 days at as-of
                ("I3", "2025-08-01", "2025-09-01", 50000, 50000, "2025-08-20"),  # early
                ("I4", "2025-09-01", "2025-10-01", 70000, 0, None),  # 90+ on 2025-12-30
            ],
        )
        store.executemany(
            "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
            "VALUES (?, 1, 'order', ?, ?)",
            [("T1", "2024-12-01", 300000), ("T2", "2025-08-01", 150000)],
        )
        store.executemany(
            "INSERT INTO financials (customer_id, period, revenue, total_assets, "
            "total_liabilities, current_assets, current_liabilities) VALUES (1, ?, ?, ?, ?, ?, ?)",
            [("2023", 1000, 500, 200, 100, 50), ("2024", 1200, 500, 300, 100, 80),
             ("2025", 9999, 1, 1, 1, 1)],  # ends after the as-of date: ignored
        )  # fmt: skip
    f = F.build_factors(store, AS_OF).iloc[0]
    assert f["worst_dpd_12m"] == 121
    assert f["late_invoices_12m"] == 2
    assert f["avg_dpd_12m"] == pytest.approx((42 + 121 + 0) / 3, abs=0.01)
    assert f["utilisation"] == pytest.approx((200000 + 70000) / 1000000)  # I2 + I4 open
    assert f["debt_ratio"] == pytest.approx(0.6)
    assert f["current_ratio"] == pytest.approx(100 / 80)
    assert f["revenue_trend"] == pytest.approx(0.2)
    assert f["years_in_business"] == pytest.approx(10.0, abs=0.01)
    assert f["order_trend"] == pytest.approx(150000 / 300000 - 1)
    assert f["oldest_open_dpd"] == 121
    assert f["overdue_share"] == pytest.approx(200000 / 270000, abs=1e-4)
    assert f["exposure"] == 270000 and f["overdue"] == 200000
    assert f["in_default"] == 1  # I2 is more than 90 days past due at the as-of date
    assert f["default_amount"] == 200000
    out = F.build_outcome(store, date(2025, 9, 1), 120, target="dpd90")
    assert int(out["bad"].iloc[0]) == 1
    dpd90 = F.build_outcome(store, AS_OF, 60, target="dpd90")
    assert int(dpd90["bad"].iloc[0]) == 0  # I4 turns 90+ later
    # entering default: I2 is 91 days past due on 2025-08-31 (more than 90: material)
    assert F.build_outcome(store, date(2025, 8, 1), 60)["bad"].tolist() == [1]
    assert F.build_outcome(store, date(2025, 8, 1), 29)["bad"].sum() == 0


def test_train_run_show_explain_list(book: Store) -> None:
    model = svc.train_from_store(book, FAST, as_of=AS_OF)
    assert model.status == "champion" and model.version == 1
    assert model.metrics["auc"] > 0.75
    stored = json.loads(book.scalar("SELECT model FROM score_models WHERE id = ?", (model.id,)))
    assert stored["format"] == "riskcli.scorecard/1"  # plain JSON, no pickle
    assert model.report["all_bins_monotonic"] is True
    result = svc.run(book, FAST)
    assert result["customers"] == 2500 == _count(book, "scores")
    rows = book.query("SELECT * FROM scores WHERE run_id = ?", (result["run"],))
    assert all(len(bytes(r["bins"])) == len(model.card.factors) for r in rows)
    assert all(
        (
            r["exposure"] - r["recommended_limit"] >= 1000_00
            or (r["grade"] in ("D", "E", "DF") and r["current_limit"] > r["recommended_limit"])
        )
        == bool(r["over_limit"])
        for r in rows
    )
    assert {r["grade"] for r in rows} <= {"A", "B", "C", "D", "E", "DF"}
    worst = min(rows, key=lambda r: r["score"])
    assert worst["grade"] in ("E", "DF") and worst["reasons"] and worst["reason1"] is None
    shown = svc.show(book, "C0000001")
    assert shown[0]["run"] == result["run"]
    head, factors = svc.explain(book, "C0000001")
    assert head["score"] == shown[0]["score"]
    assert sum(r["points"] for r in factors) == pytest.approx(head["score"])
    assert factors[0]["would_raise_by"] >= factors[-1]["would_raise_by"] >= 0
    listed = svc.list_scores(book, grade="E")
    assert listed and all(r["grade"] == "E" for r in listed)
    dist = svc.distribution(book)
    assert sum(g["customers"] for g in dist["grades"]) == 2500


def test_run_one_customer_keeps_history(book: Store) -> None:
    svc.setup_expert(book, FAST)
    first = svc.run(book, FAST, customer="C0000002")
    second = svc.run(book, FAST, customer="C0000002")
    assert first["customers"] == second["customers"] == 1
    assert [r["run"] for r in svc.show(book, "C0000002")] == [second["run"], first["run"]]


def test_expert_overrides_force_the_worst_grade(book: Store) -> None:
    model = svc.setup_expert(book, FAST)
    assert model.kind == "expert" and model.status == "champion"
    svc.run(book, FAST)
    flagged = book.query(
        "SELECT c.external_id, s.grade, s.reasons FROM scores s JOIN credit_reports r "
        "ON r.customer_id = s.customer_id JOIN customers c ON c.id = s.customer_id "
        "WHERE r.bankruptcy = 1"
    )
    assert flagged
    # the worst grade, or DF (below it) with the default first for those also in default
    assert {r["grade"] for r in flagged} <= {"E", "DF"}
    assert all(r["reasons"][r["grade"] == "DF"] == 0xFF for r in flagged)  # the bankruptcy flag
    assert all(r["reasons"][0] == 0xF0 for r in flagged if r["grade"] == "DF")  # the default
    first = {r["customer"]: r["reason1"] for r in svc.list_scores(book, grade="E")}
    assert all(
        first[r["external_id"]] == "bankruptcy on a third-party report"
        for r in flagged
        if r["grade"] == "E"
    )


def test_registry_promote_retire(book: Store) -> None:
    a = svc.setup_expert(book, FAST)
    b = svc.train_from_store(book, FAST, as_of=AS_OF)
    assert (a.status, b.status) == ("champion", "candidate")
    registry.promote(book, b.id)
    assert registry.get_model(book).id == b.id
    assert registry.get_model(book, a.id).status == "candidate"
    with pytest.raises(InputError, match="is the champion"):
        registry.retire(book, b.id)
    assert registry.retire(book, a.id).status == "retired"
    with pytest.raises(InputError, match="retired"):
        registry.promote(book, a.id)
    rows = svc.compare(book, str(a.id), str(b.id), FAST, as_of=AS_OF)
    assert rows[0]["metric"] == "model"


def test_unknown_model_is_an_error_and_nothing_is_stored(book: Store) -> None:
    with pytest.raises(InputError, match=r"no model 42 \(see `riskcli score models list`\)"):
        svc.run(book, FAST, ref="42")
    with pytest.raises(InputError, match="no champion model"):
        svc.run(book, FAST)
    assert _nothing_stored(book)


def test_too_few_bads_points_to_expert_and_stores_nothing(book: Store) -> None:
    cfg = ScoringConfig(min_bads=100_000)
    with pytest.raises(InputError, match="use `riskcli score expert`"):
        svc.train_from_store(book, cfg, as_of=AS_OF)
    assert _count(book, "score_models") == 0


def test_a_failed_write_leaves_no_run(book: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    svc.setup_expert(book, FAST)

    def broken(sql: str, rows: object) -> None:
        list(rows)  # type: ignore[call-overload]
        raise RuntimeError("disk full")

    monkeypatch.setattr(book, "executemany", broken)
    with pytest.raises(RuntimeError):
        svc.run(book, FAST)
    assert _count(book, "score_runs") == 0


def test_config_errors_are_clear() -> None:
    with pytest.raises(InputError, match=r"\[scoring\] scaling.pdo"):
        load_scoring_config({"scoring": {"scaling": {"pdo": -1}}})
    assert load_scoring_config({"scoring": {"limits": {"max_limit": 10}}}).limits.max_limit == 10


def test_store_model_scores_equal_sql_export(book: Store) -> None:
    import sqlite3

    from riskcli.services.scoring.export_sql import score_expression
    from riskcli.services.scoring.points import score_frame

    model = svc.train_from_store(book, FAST, as_of=AS_OF)
    frame = F.build_factors(book, date(2026, 9, 30))
    cols = model.card.factor_names
    con = sqlite3.connect(":memory:")
    frame[cols].astype(object).where(frame[cols].notna(), None).to_sql("t", con, index=False)
    got = [r[0] for r in con.execute(f"SELECT {score_expression(model.card)} FROM t")]
    assert np.array_equal(np.array(got, dtype=float), score_frame(model.card, frame).score)


# ---- two readers: the same run as one process ---------------------------------------------


NEEDS_FORK = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)


@pytest.fixture(autouse=True)
def _fork_on_any_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process is tested on a one-CPU machine too (where run() would not fork)."""
    monkeypatch.setattr(F, "_can_fork", lambda: "fork" in multiprocessing.get_all_start_methods())


def _run_rows(store: Store, run_id: int) -> list[dict[str, object]]:
    return store.query(
        "SELECT customer_id, score, pd, grade, reasons, bins, "
        "recommended_limit, current_limit, over_limit FROM scores WHERE run_id = ? "
        "ORDER BY customer_id",
        (run_id,),
    )


@NEEDS_FORK
def test_two_readers_give_the_frame_of_one(book: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(F, "PARALLEL_MIN_CUSTOMERS", 0)
    with F.factor_parts(book, AS_OF) as parts:
        frames = list(parts)
    assert len(frames) == 1 + F.CHUNKS and all(len(f) > 200 for f in frames)
    for before, after in itertools.pairwise(frames):
        assert before["customer_id"].max() < after["customer_id"].min()
    together = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(together, F.build_factors(book, AS_OF))


@NEEDS_FORK
@pytest.mark.parametrize("kind", ["trained", "expert"])
def test_two_readers_score_every_customer_as_one(
    book: Store, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "trained":
        svc.train_from_store(book, FAST, as_of=AS_OF)
    else:
        svc.setup_expert(book, FAST)
    monkeypatch.setattr(F, "PARALLEL_MIN_CUSTOMERS", 10**9)
    one = svc.run(book, FAST)
    monkeypatch.setattr(F, "PARALLEL_MIN_CUSTOMERS", 0)
    two = svc.run(book, FAST)
    assert {**one, "run": 0} == {**two, "run": 0}
    assert one["customers"] == 2500
    assert _run_rows(book, one["run"]) == _run_rows(book, two["run"])
    runs = book.query("SELECT customers, stats, params, as_of FROM score_runs ORDER BY id")
    assert runs[0] == runs[1]
    assert json.loads(runs[0]["stats"])["overrides"] > 0 or kind == "trained"


def _refuse_to_open(*args: object, **kwargs: object) -> Store:
    raise InputError("the second reader cannot open the store")


@NEEDS_FORK
@pytest.mark.parametrize(
    ("name", "replacement", "error"),
    [
        # only the forked reader opens a store
        ("open_with_key", _refuse_to_open, "the second reader cannot open the store"),
        # killed, as by the OOM killer
        (
            "_read_ranges",
            lambda *args: os._exit(3),
            r"second scoring process stopped \(exit code 3\)",
        ),
    ],
    ids=["fails", "dies"],
)
def test_a_second_reader_that_fails_or_dies_stores_nothing(
    book: Store, monkeypatch: pytest.MonkeyPatch, name: str, replacement: Any, error: str
) -> None:
    svc.setup_expert(book, FAST)
    monkeypatch.setattr(F, "PARALLEL_MIN_CUSTOMERS", 0)
    monkeypatch.setattr(F, name, replacement)
    with pytest.raises(InputError, match=error):
        svc.run(book, FAST)
    assert _nothing_stored(book)


def test_needed_columns_equal_the_full_frame(book: Store) -> None:
    full = F.build_factors(book, AS_OF)
    needed = frozenset(["customer_id", "credit_limit", "orders_12m", "avg_dpd_12m", "industry"])
    part = F.build_factors(book, AS_OF, needed=needed)
    assert list(part.columns) == list(full.columns)
    pd.testing.assert_frame_equal(part[sorted(needed)], full[sorted(needed)])
    assert part["bureau_score"].isna().all() and part["region"].isna().all()
    assert full["bureau_score"].notna().any() and full["region"].notna().all()


def test_reasons_are_a_blob_of_codes_and_bins_a_blob(book: Store) -> None:
    svc.setup_expert(book, FAST)
    run_id = svc.run(book, FAST)["run"]
    types = book.query(
        "SELECT typeof(reasons) AS r, length(reasons) AS n, typeof(bins) AS b, "
        "typeof(reason1) || typeof(reason2) || typeof(reason3) || typeof(reason4) AS texts "
        "FROM scores WHERE run_id = ? GROUP BY 1, 2, 3, 4",
        (run_id,),
    )
    assert {(t["r"], t["b"], t["texts"]) for t in types} == {("blob", "blob", "null" * 4)}
    assert {t["n"] for t in types} <= {0, 1, 2, 3, 4}
    assert any(t["n"] < 4 for t in types)  # fewer reasons: a shorter blob, no marker stored


def _commit_elsewhere_while_reading(book: Store, monkeypatch: pytest.MonkeyPatch, sql: str) -> None:
    """Another connection runs `sql` (and commits) after the run has read its factors."""
    original = F.factor_parts

    @contextlib.contextmanager
    def parts_then_commit(*args: Any, **kwargs: Any) -> Iterator[Iterator[Any]]:
        with original(*args, **kwargs) as parts:
            materialised = list(parts)
            other = open_with_key(
                book.path, book.master_key, book.keyfile, book.user, book.role, migrate=False
            )
            other.execute("PRAGMA foreign_keys = OFF")
            other.execute(sql)
            other.close()
            yield iter(materialised)

    monkeypatch.setattr(svc.store_factors, "factor_parts", parts_then_commit)


def test_a_run_keeps_foreign_keys_on_afterwards(book: Store) -> None:
    svc.setup_expert(book, FAST)
    svc.run(book, FAST)
    assert book.scalar("PRAGMA foreign_keys") == 1


def test_a_commit_elsewhere_during_the_run_is_checked_and_harmless(
    book: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.setup_expert(book, FAST)
    _commit_elsewhere_while_reading(
        book, monkeypatch, "UPDATE customers SET industry = industry WHERE id = 1"
    )
    result = svc.run(book, FAST)
    assert result["customers"] == _count(book, "customers") == _count(book, "scores")


def test_a_customer_removed_during_the_run_stores_nothing(
    book: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.setup_expert(book, FAST)
    _commit_elsewhere_while_reading(
        book, monkeypatch, "DELETE FROM customers WHERE id = (SELECT max(id) FROM customers)"
    )
    with pytest.raises(InputError, match="removed while the score run read"):
        svc.run(book, FAST)
    assert _nothing_stored(book)
    assert book.scalar("PRAGMA foreign_keys") == 1

"""Scores without an index by customer (m062): one customer's history is read run by run
through the primary key, never by a scan of every stored score."""

from __future__ import annotations

import re
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from tests.conftest import PASSPHRASE, USER, create_store_at
from tests.support.credit_sample import populate_store
from tests.support.plans import plans_of_reads

from riskcli.services.reports import data as report_data
from riskcli.services.scoring import service as svc
from riskcli.services.scoring.config import ScoringConfig
from riskcli.storage import migrations
from riskcli.storage.migrations import m070_expected_loss, m100_write_offs
from riskcli.storage.store import Store, open_store

FAST = ScoringConfig(folds=2)


@pytest.fixture
def scored(store: Store) -> Store:
    populate_store(store, 300, seed=4)
    svc.setup_expert(store, FAST)
    for _ in range(3):
        svc.run(store, FAST)
    return store


def _indexes(store: Store) -> set[str]:
    rows = store.query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scores'"
    )
    return {r["name"] for r in rows}


def _plans_of_score_reads(store: Store, read: partial[object]) -> list[list[str]]:
    """The query plan of every statement `read` runs against `scores`."""
    return plans_of_reads(store, read, "scores")


def test_a_customers_history_is_read_through_the_primary_key(scored: Store) -> None:
    assert "scores_customer" not in _indexes(scored)
    cid = int(scored.scalar("SELECT id FROM customers WHERE external_id = 'C0000007'"))
    for read in (
        partial(svc.show, scored, "C0000007"),
        partial(svc.explain, scored, "C0000007"),
        partial(report_data.score_history, scored, cid, date(2100, 1, 1)),
    ):
        for plan in _plans_of_score_reads(scored, read):
            assert not any(re.match(r"SCAN (s|scores)\b", step) for step in plan), plan
            assert any("USING PRIMARY KEY (run_id=? AND customer_id=?)" in s for s in plan), plan
    shown = svc.show(scored, "C0000007")
    assert [r["run"] for r in shown] == [3, 2, 1]  # newest first, every run
    head, _ = svc.explain(scored, "C0000007")
    assert head["run"] == 3
    history = report_data.score_history(scored, cid, date(2100, 1, 1))
    assert history is not None and history["run_id"].tolist() == [1, 2, 3]


def test_the_migration_drops_the_index_of_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = create_store_at(path, "m061_activity_through")
    assert "scores_customer" in _indexes(old)
    # today's writer also fills m070's columns and reads m100's: add them to the m061 schema
    m070_expected_loss.migrate(old.conn)
    m100_write_offs.migrate(old.conn)
    populate_store(old, 60, seed=2)
    svc.setup_expert(old, FAST)
    svc.run(old, FAST)
    old.close()
    with open_store(path, USER, PASSPHRASE.encode()) as store:
        assert "m062_scores_without_customer_index" in migrations.applied(store.conn)
        assert "scores_customer" not in _indexes(store)
        assert [r["run"] for r in svc.show(store, "C0000003")] == [1]

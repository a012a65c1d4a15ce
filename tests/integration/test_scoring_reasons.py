"""Score reasons stored as codes (m060) read back as the texts scoring gives, old rows as stored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import PASSPHRASE, USER, create_store_at
from tests.support.credit_sample import populate_store

from riskcli.domain.errors import InputError
from riskcli.services.reports import data as report_data
from riskcli.services.scoring import factors as F
from riskcli.services.scoring import service as svc
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.points import score_bins, score_frame
from riskcli.services.scoring.reason_codes import DEFAULT_REASON, ReasonTexts
from riskcli.storage import migrations
from riskcli.storage.store import Store, open_store

FAST = ScoringConfig(folds=2)
LEGACY = ("an old reason", "a second old reason", None, None)


@pytest.fixture
def book(store: Store) -> Store:
    populate_store(store, 600, seed=11)
    return store


def _expected(store: Store, run: dict[str, object]) -> dict[str, list[str]]:
    """Customer id -> the reason texts `score_frame` gives today (the top four, as stored)."""
    model = svc.get_model(store)
    frame = F.build_factors(store, date.fromisoformat(str(run["as_of"])))
    texts = score_frame(model.card, frame).reasons
    ids = {r["id"]: r["external_id"] for r in store.query("SELECT id, external_id FROM customers")}
    # a customer in default has the default as its first reason, then the model's
    defaulted = frame["in_default"].to_numpy() > 0
    return {
        ids[int(cid)]: [t for t in ([DEFAULT_REASON, *row] if d else row)[:4] if t]
        for cid, row, d in zip(frame["customer_id"], texts.tolist(), defaulted, strict=True)
    }


def _bankrupt(store: Store) -> list[str]:
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT c.external_id FROM customers c JOIN credit_reports r ON r.customer_id = c.id "
            "WHERE r.bankruptcy = 1 ORDER BY c.external_id"
        )
    ]


def _internal(store: Store, customer: str) -> int:
    return int(store.scalar("SELECT id FROM customers WHERE external_id = ?", (customer,)))


def test_show_list_and_report_read_back_the_texts_scoring_gives(book: Store) -> None:
    svc.setup_expert(book, FAST)
    run = svc.run(book, FAST)
    expected = _expected(book, run)
    assert any(len(v) == 4 for v in expected.values())
    assert any(len(v) < 4 for v in expected.values())
    bankrupt = _bankrupt(book)
    assert bankrupt and all(
        expected[c][expected[c][0] == DEFAULT_REASON] == "bankruptcy on a third-party report"
        for c in bankrupt
    )
    listed = svc.list_scores(book)
    assert len(listed) == len(expected) == 600
    assert {r["customer"]: r["reason1"] for r in listed} == {
        c: (texts[0] if texts else None) for c, texts in expected.items()
    }
    day = date.fromisoformat(run["as_of"])
    for customer in [*bankrupt[:3], "C0000001", "C0000002", "C0000003"]:
        assert svc.show(book, customer)[0]["reasons"] == "; ".join(expected[customer])
        cid = _internal(book, customer)
        assert report_data.score_reasons(book, cid, run["run"]) == expected[customer]
        history = report_data.score_history(book, cid, day)
        assert history is not None
        assert history["reasons"].tolist() == ["; ".join(expected[customer])]


def test_a_model_with_fewer_reasons_stores_fewer(book: Store) -> None:
    svc.setup_expert(book, FAST)
    book.execute("UPDATE score_models SET model = json_set(model, '$.reasons', 1)")
    run = svc.run(book, FAST)
    assert book.scalar("SELECT max(length(reasons)) FROM scores") == 1
    expected = _expected(book, run)
    listed = {r["customer"]: r["reason1"] for r in svc.list_scores(book)}
    assert listed == {c: (t[0] if t else None) for c, t in expected.items()}


def _insert_legacy_row(store: Store, customer: str) -> int:
    """A score run and row as riskcli wrote them before m060: texts, no codes."""
    model_id = int(store.scalar("SELECT id FROM score_models WHERE status = 'champion'"))
    cur = store.execute(
        "INSERT INTO score_runs (model_id, created_at, created_by, as_of, customers, params, "
        "stats) VALUES (?, '2025-01-01T00:00:00+00:00', 'alice', '2025-01-01', 1, '{}', '{}')",
        (model_id,),
    )
    run_id = int(cur.lastrowid)
    store.execute(
        "INSERT INTO scores (run_id, customer_id, score, pd, grade, reason1, reason2, reason3, "
        "reason4, bins, recommended_limit, current_limit, over_limit) "
        "VALUES (?, ?, 400, 0.3, 'E', ?, ?, ?, ?, zeroblob(?), 0, 100, 1)",
        (run_id, _internal(store, customer), *LEGACY, len(svc.get_model(store).card.factors)),
    )
    return run_id


def _reads_back_legacy(store: Store, run_id: int, customer: str) -> None:
    texts = [t for t in LEGACY if t]
    shown = {r["run"]: r["reasons"] for r in svc.show(store, customer)}
    assert shown[run_id] == "; ".join(texts)
    cid = _internal(store, customer)
    assert report_data.score_reasons(store, cid, run_id) == texts
    history = report_data.score_history(store, cid, date(2025, 1, 1))
    assert history is not None and history["reasons"].tolist() == ["; ".join(texts)]


def test_a_row_written_the_old_way_reads_back_its_texts(book: Store) -> None:
    svc.setup_expert(book, FAST)
    run_id = _insert_legacy_row(book, "C0000005")
    assert book.scalar("SELECT reasons FROM scores WHERE run_id = ?", (run_id,)) is None
    _reads_back_legacy(book, run_id, "C0000005")
    listed = svc.list_scores(book)  # the latest run is the old one
    assert listed == [{**listed[0], "customer": "C0000005", "reason1": LEGACY[0]}]
    new = svc.run(book, FAST)  # a run with codes next to it: both read back
    _reads_back_legacy(book, run_id, "C0000005")
    expected = _expected(book, new)
    assert svc.show(book, "C0000005")[0]["reasons"] == "; ".join(expected["C0000005"])


def test_the_migration_applies_on_a_store_of_the_previous_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = create_store_at(path, "m051_erasure_guard")
    assert migrations.applied(old.conn)[-1] == "m051_erasure_guard"
    assert "reasons" not in {r["name"] for r in old.query("PRAGMA table_info(scores)")}
    populate_store(old, 300, seed=3)
    svc.setup_expert(old, FAST)
    run_id = _insert_legacy_row(old, "C0000007")
    old.close()
    with open_store(path, USER, PASSPHRASE.encode()) as store:
        assert "m060_score_reason_codes" in migrations.applied(store.conn)
        columns = {r["name"]: r["type"] for r in store.query("PRAGMA table_info(scores)")}
        assert columns["reasons"] == "BLOB"
        _reads_back_legacy(store, run_id, "C0000007")
        new = svc.run(store, FAST)
        expected = _expected(store, new)
        assert svc.show(store, "C0000007")[0]["reasons"] == "; ".join(expected["C0000007"])


def test_a_model_too_big_for_one_byte_codes_is_refused(book: Store) -> None:
    svc.setup_expert(book, FAST)
    model = svc.get_model(book)
    many = model.card.model_copy(update={"overrides": model.card.overrides * 8})
    book.execute(
        "UPDATE score_models SET model = ? WHERE id = ?",
        (json.dumps(many.to_json_dict()), model.id),
    )
    with pytest.raises(InputError, match="the model has 16 overrides; a stored score run takes"):
        svc.run(book, FAST)
    assert book.scalar("SELECT COUNT(*) FROM score_runs") == 0


def test_texts_from_codes_equal_texts_from_bins(book: Store) -> None:
    """ReasonTexts.stored on the stored blobs gives exactly score_bins' texts."""
    svc.setup_expert(book, FAST)
    run = svc.run(book, FAST)
    card = svc.get_model(book).card
    rows = book.query(
        "SELECT customer_id, bins, reasons FROM scores WHERE run_id = ? ORDER BY customer_id",
        (run["run"],),
    )
    texts = ReasonTexts(card)
    bins = np.array([list(r["bins"]) for r in rows], dtype=np.int64)
    frame = F.build_factors(book, date.fromisoformat(run["as_of"]))
    assert frame["customer_id"].tolist() == [r["customer_id"] for r in rows]
    want = score_bins(card, bins, frame).reasons.tolist()
    defaulted = (frame["in_default"] > 0).tolist()
    assert any(defaulted)
    assert [texts.stored(r["bins"], r["reasons"]) for r in rows] == [
        [t for t in ([DEFAULT_REASON, *w] if d else w)[:4] if t]
        for w, d in zip(want, defaulted, strict=True)
    ]

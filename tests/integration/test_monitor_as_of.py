"""As-of truth for monitoring: `monitor run --as-of D` on the whole store raises exactly the
cases a run raises on a store built only from the rows dated on or before D."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.engine import run_monitor
from riskcli.services.synthetic import SyntheticConfig, generate
from riskcli.storage.store import Store, create_store

ROOT = Path(__file__).resolve().parents[2]
BOOK_AS_OF = dt.date(2026, 9, 30)
DATES = ("2025-12-31", "2026-03-31", "2026-06-30")
COLUMNS = ["rule", "customer", "subject", "severity", "title", "action", "evidence", "priority"]


def load_csvs(store: Store, data: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_monitoring", ROOT / "benchmarks" / "bench_monitoring.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.load_csvs(store, data)


def truncate(data: Path, out: Path, day: str) -> None:
    """The book's CSV files with only what was known on `day`: rows dated on or before it, and
    an invoice paid after it unpaid."""
    out.mkdir()
    read: dict[str, Any] = {"dtype": str, "keep_default_na": False}
    (out / "customers.csv").write_bytes((data / "customers.csv").read_bytes())
    for name, column in (("transactions", "date"), ("interactions", "date"),
                         ("credit_reports", "report_date")):  # fmt: skip
        frame = pd.read_csv(data / f"{name}.csv", **read)
        frame[frame[column] <= day].to_csv(out / f"{name}.csv", index=False)
    rec = pd.read_csv(data / "receivables.csv", **read)
    rec = rec[rec["issue_date"] <= day].copy()
    later = rec["paid_date"] > day
    rec.loc[later, "paid_amount"] = "0"
    rec.loc[later, "paid_date"] = ""
    rec.to_csv(out / "receivables.csv", index=False)
    con = pd.read_csv(data / "contracts.csv", **read)
    known = con["signed_date"].where(con["signed_date"] != "", con["start_date"])
    con[known <= day].to_csv(out / "contracts.csv", index=False)


def cases(path: Path, data: Path, day: str) -> pd.DataFrame:
    store = create_store(path, USER, PASSPHRASE.encode())
    try:
        load_csvs(store, data)
        result = run_monitor(store, MonitoringConfig(), as_of=dt.date.fromisoformat(day))
    finally:
        store.close()
    return comparable(result.alerts[COLUMNS])


#: event rules name their case by the row id of the transaction or interaction, which differs
#: between two stores loaded with different rows
EVENT_IDS = {"behaviour_anomaly": "transaction_id", "relationship_complaint": "interaction_id",
             "relationship_satisfaction": "interaction_id"}  # fmt: skip


def without_row_ids(value: Any) -> Any:
    """The evidence without row ids, also inside a folded case's evidence."""
    if isinstance(value, dict):
        ids = set(EVENT_IDS.values())
        return {k: without_row_ids(v) for k, v in value.items() if k not in ids}
    if isinstance(value, list):
        return [without_row_ids(v) for v in value]
    return value


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    event = frame["rule"].isin(list(EVENT_IDS))
    frame.loc[event, "subject"] = "(row id)"
    evidence = [without_row_ids(json.loads(e)) for e in frame["evidence"]]
    frame["evidence"] = [json.dumps(e, sort_keys=True, ensure_ascii=False) for e in evidence]
    return frame.sort_values(["rule", "customer", "subject", "title"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("asof") / "data"
    generate(data, SyntheticConfig(customers=800, seed=11, as_of=BOOK_AS_OF))
    return data


@pytest.mark.parametrize("day", DATES)
def test_a_run_as_of_a_date_equals_a_run_on_the_rows_known_then(
    book: Path, tmp_path: Path, day: str
) -> None:
    whole = cases(tmp_path / "whole.db", book, day)
    truncate(book, tmp_path / "then", day)
    known = cases(tmp_path / "then.db", tmp_path / "then", day)
    assert len(whole) > 20  # the book raises cases on every date
    assert {"default", "payment_overdue"} <= set(whole["rule"])
    pd.testing.assert_frame_equal(whole, known)

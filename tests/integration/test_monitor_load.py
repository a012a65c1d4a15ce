"""The SQL pre-filtered loader gives exactly the alerts the rules give on the whole tables."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from riskcli.services import book
from riskcli.services.monitoring import load as loader
from riskcli.services.monitoring import sources
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.engine import ALWAYS, evaluate, select_rules
from riskcli.services.monitoring.frames import Frames, day_number, normalise
from riskcli.services.synthetic import SyntheticConfig, generate
from riskcli.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 9, 30)

pytestmark = pytest.mark.slow


def _bench_module() -> object:
    spec = importlib.util.spec_from_file_location("bench_monitoring", ROOT / "benchmarks" /
                                                  "bench_monitoring.py")  # fmt: skip
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def whole_tables(store: Store) -> Frames:
    """Every row of every core table, converted the plain way (no pre-filter)."""
    q = store.query_df
    frames = {
        "customers": q("SELECT id, industry, region, credit_limit, status FROM customers"),
        "receivables": q(
            "SELECT invoice_number, customer_id, issue_date, due_date, amount, paid_amount, "
            "paid_date FROM receivables"
        ),
        "transactions": q("SELECT id, customer_id, kind, date, amount FROM transactions"),
        "credit_reports": q(
            "SELECT customer_id, provider, report_date, score, lawsuit, bankruptcy, "
            "tax_violation, dishonest_debtor FROM credit_reports"
        ),
        "contracts": q("SELECT contract_number, customer_id, end_date, status FROM contracts"),
        "interactions": q("SELECT id, customer_id, kind, date, satisfaction FROM interactions"),
    }
    out = Frames(as_of=day_number(AS_OF))
    for name, frame in frames.items():
        out.frames[name] = normalise(name, frame)
    for name in ("tiers", "scores", "score_dist", "score_bins"):
        out.frames[name] = None
        out.missing[name] = "absent"
    sources.load_defaults(store, out, book.CreditConfig())
    sources.load_groups(store, out)
    return out


def test_loader_matches_whole_tables(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(data, SyntheticConfig(customers=600, seed=5, as_of=AS_OF))
    _bench_module().load_csvs(store, data)  # type: ignore[attr-defined]
    config = MonitoringConfig()
    rules = select_rules(config)
    plan = loader.LoadPlan.build(day_number(AS_OF), config, {r.id for r in rules})
    wanted = {n for r in rules for n in r.needs} | ALWAYS
    fast, ran_fast, _ = evaluate(loader.load(store, plan, wanted), rules, config)
    slow, ran_slow, _ = evaluate(whole_tables(store), rules, config)
    assert ran_fast == ran_slow
    # every enabled rule whose data a core-only store has
    assert set(ran_fast) == {r.id for r in rules} - {
        "score_change", "score_limit", "portfolio_score_psi", "behaviour_churn",
        "relationship_no_contact",
    }  # fmt: skip
    assert len(fast) > 50  # the synthetic book does raise alerts
    cols = ["key", "severity", "title", "action", "evidence", "priority"]
    a = fast[cols].sort_values("key").reset_index(drop=True)
    b = slow[cols].sort_values("key").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert set(fast["rule"]) >= {"default", "payment_overdue", "exposure_limit",
                                 "thirdparty_adverse_flag"}  # fmt: skip

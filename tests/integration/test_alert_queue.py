"""Cases, not rows, on a real store: the default case and what it suppresses, closed accounts,
folded conditions, priority in money, score_change within one model, as-of reading, m080."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from tests.conftest import PASSPHRASE, USER, create_store_at

from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.engine import RunResult, run_monitor
from riskcli.storage import migrations
from riskcli.storage.store import Store, open_store

D = dt.date


def customers(store: Store, *rows: tuple[int, str, int, str]) -> None:
    store.executemany(
        "INSERT INTO customers (id, external_id, name, industry, credit_limit, status) "
        "VALUES (?, ?, ?, 'retail', ?, ?)",
        [(i, ext, f"Customer {i}", limit, status) for i, ext, limit, status in rows],
    )


def invoice(
    store: Store,
    number: str,
    cid: int,
    issue: str,
    due: str,
    amount: int,
    paid: int = 0,
    paid_on: str | None = None,
) -> None:
    store.execute(
        "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
        "paid_amount, paid_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (number, cid, issue, due, amount, paid, paid_on),
    )


def run(store: Store, day: str) -> RunResult:
    return run_monitor(store, MonitoringConfig(), as_of=D.fromisoformat(day))


def open_alerts(store: Store) -> list[dict[str, Any]]:
    return store.query(
        "SELECT a.rule, c.external_id AS customer, a.severity, a.priority, a.evidence, a.action "
        "FROM alerts a LEFT JOIN customers c ON c.id = a.customer_id "
        "WHERE a.status != 'resolved' ORDER BY a.id"
    )


def test_default_is_one_recovery_case_and_silences_the_ordinary_stream(store: Store) -> None:
    with store.transaction():
        customers(store, (1, "C001", 1_000_000, "active"))
        invoice(store, "OLD", 1, "2026-01-01", "2026-02-01", 2_000_000)  # 139 days past due
        store.execute(
            "INSERT INTO credit_reports (customer_id, provider, report_date, lawsuit) "
            "VALUES (1, 'bureau', '2026-06-01', 1)"
        )
    run(store, "2026-06-20")
    rows = open_alerts(store)
    assert [(r["rule"], r["severity"]) for r in rows] == [("default", "critical")]
    assert rows[0]["action"].startswith("recovery / legal")
    # in default, PD 1: priority = EAD x LGD = 20,000 x 0.40
    assert rows[0]["priority"] == 800_000
    evidence = json.loads(rows[0]["evidence"])
    assert [i["invoice"] for i in evidence["overdue_invoices"]] == ["OLD"]
    assert evidence["amount_past_due"] == "20000.00"


def test_a_new_adverse_flag_still_reaches_a_defaulted_customer(store: Store) -> None:
    with store.transaction():
        customers(store, (1, "C001", 1_000_000, "active"))
        invoice(store, "OLD", 1, "2026-01-01", "2026-02-01", 2_000_000)
        store.executemany(
            "INSERT INTO credit_reports (customer_id, provider, report_date, lawsuit) "
            "VALUES (1, 'bureau', ?, ?)",
            [("2026-01-01", 0), ("2026-06-01", 1)],
        )
    run(store, "2026-06-20")
    assert sorted(r["rule"] for r in open_alerts(store)) == ["default", "thirdparty_adverse_flag"]


def test_closed_accounts_get_only_overdue_and_default_cases(store: Store) -> None:
    with store.transaction():
        customers(store, (1, "C001", 100_000, "closed"), (2, "C002", 100_000, "suspended"))
        invoice(store, "A", 1, "2026-05-01", "2026-06-01", 500_000)  # overdue, over the limit
        invoice(store, "B", 2, "2026-06-01", "2026-12-01", 500_000)  # over the limit only
    run(store, "2026-06-10")
    assert [(r["rule"], r["customer"]) for r in open_alerts(store)] == [("payment_overdue", "C001")]


def test_a_limit_breach_of_an_overdue_customer_is_part_of_its_overdue_case(store: Store) -> None:
    with store.transaction():
        customers(store, (1, "C001", 100_000, "active"))
        invoice(store, "A", 1, "2026-05-01", "2026-06-01", 500_000)
    run(store, "2026-06-10")
    rows = open_alerts(store)
    assert [r["rule"] for r in rows] == ["payment_overdue"]
    folded = json.loads(rows[0]["evidence"])
    assert folded["exposure_limit"][0]["over_limit"] == "4000.00"
    assert folded["payment_overdue_growth"][0]["overdue_now"] == "5000.00"


def test_a_run_as_of_a_date_does_not_see_later_invoices_payments_or_reports(
    store: Store,
) -> None:
    with store.transaction():
        customers(store, (1, "C001", 10_000_000, "active"), (2, "C002", 10_000_000, "active"))
        invoice(store, "LATER", 1, "2026-07-01", "2026-07-15", 500_000)  # issued after D
        invoice(store, "PAIDLATE", 2, "2026-04-01", "2026-05-01", 500_000, 500_000, "2026-06-21")
        store.execute(
            "INSERT INTO credit_reports (customer_id, provider, report_date, bankruptcy) "
            "VALUES (1, 'bureau', '2026-06-25', 1)"
        )
    run(store, "2026-06-20")
    rows = open_alerts(store)
    # C002's invoice was paid the day after D: unpaid (and 50 days past due) as of D
    assert [(r["rule"], r["customer"]) for r in rows] == [("payment_overdue", "C002")]
    assert json.loads(rows[0]["evidence"])["oldest_days_past_due"] == 50


def model(store: Store, model_id: int, status: str) -> None:
    store.execute(
        "INSERT INTO score_models (id, name, version, kind, source, status, created_by, "
        "created_at, params, fingerprint, metrics, report, model) VALUES "
        "(?, 'm', ?, 'expert', 'test', ?, 'alice', '2026-01-01', '{}', 'f', '{}', '{}', ?)",
        (model_id, model_id, status, json.dumps({"scaling": {"pdo": 20}})),
    )


def score_run(
    store: Store, run_id: int, model_id: int, as_of: str, grade: str, score: float
) -> None:
    store.execute(
        "INSERT INTO score_runs (id, model_id, created_at, created_by, as_of, customers, params, "
        "stats) VALUES (?, ?, ?, 'alice', ?, 1, '{}', '{}')",
        (run_id, model_id, as_of, as_of),
    )
    store.execute(
        "INSERT INTO scores (run_id, customer_id, score, pd, grade, bins, recommended_limit, "
        "current_limit, over_limit) VALUES (?, 1, ?, 0.02, ?, x'00', 10000000, 10000000, 0)",
        (run_id, score, grade),
    )


def test_score_change_compares_runs_of_one_model_only(store: Store) -> None:
    with store.transaction():
        customers(store, (1, "C001", 10_000_000, "active"))
        invoice(store, "A", 1, "2026-06-01", "2026-12-01", 500_000)
        model(store, 1, "retired")
        model(store, 2, "champion")
        score_run(store, 1, 1, "2026-05-31", "A", 700.0)
        score_run(store, 2, 2, "2026-06-30", "D", 540.0)  # a new model's first run
    run(store, "2026-06-30")
    assert [r["rule"] for r in open_alerts(store)] == ["score_limit"]  # grade D, no change
    with store.transaction():
        score_run(store, 3, 2, "2026-07-31", "E", 480.0)  # same model: 60 points down
    run(store, "2026-07-31")
    rows = open_alerts(store)
    assert sorted(r["rule"] for r in rows) == ["score_change", "score_limit"]
    change = next(r for r in rows if r["rule"] == "score_change")
    # D -> E: one grade down and already C or worse; it fires on 60 points >= 2 x PDO 20
    assert change["severity"] == "medium"
    # the score's PD prices every case of the customer: 5,000 x 2% x 0.40
    assert {r["priority"] for r in rows} == {4000}


def test_a_score_run_after_the_as_of_date_is_not_used(store: Store) -> None:
    with store.transaction():
        customers(store, (1, "C001", 10_000_000, "active"))
        invoice(store, "A", 1, "2026-06-01", "2026-12-01", 500_000)
        model(store, 1, "champion")
        score_run(store, 1, 1, "2026-05-31", "A", 700.0)
        score_run(store, 2, 1, "2026-07-31", "E", 480.0)
    result = run(store, "2026-06-30")
    assert result.alerts.empty
    assert "score_change" in result.rules_run


def test_m080_keeps_alert_history_and_adds_the_queue(tmp_path: Path) -> None:
    old = create_store_at(tmp_path / "old.db", "m070_expected_loss")
    try:
        with old.transaction():
            customers(old, (1, "C001", 100, "active"))
            old.execute(
                "INSERT INTO monitor_runs (id, started_at, finished_at, duration_ms, as_of, user, "
                "pid) VALUES (1, 't', 't', 0, '2026-06-01', 'cron', 1)"
            )
            old.execute(
                "INSERT INTO alerts (id, dedup_key, rule, customer_id, subject, severity, "
                "severity_rank, title, evidence, action, first_run_id, last_run_id, created_at, "
                "updated_at) VALUES (1, 'k', 'payment_overdue', 1, 'INV', 'low', 1, 't', '{}', "
                "'a', 1, 1, 't', 't')"
            )
            old.execute(
                "INSERT INTO alert_events (alert_id, customer_id, run_id, at, user, event, "
                "to_status, to_severity) VALUES (1, 1, 1, 't', 'monitor', 'opened', 'open', 'low')"
            )
        assert "m080_alert_queue" not in migrations.applied(old.conn)
    finally:
        old.close()
    store = open_store(tmp_path / "old.db", USER, PASSPHRASE.encode())
    try:
        assert "m080_alert_queue" in migrations.applied(store.conn)
        row = store.query("SELECT priority, assignee, grade FROM alerts WHERE id = 1")[0]
        assert row == {"priority": 0, "assignee": None, "grade": None}
        events = store.query("SELECT alert_id, event, user FROM alert_events")
        assert events == [{"alert_id": 1, "event": "opened", "user": "monitor"}]
        store.execute(
            "INSERT INTO alert_events (alert_id, at, user, event, to_status, to_severity) "
            "VALUES (1, 't', 'alice', 'assigned', 'open', 'low')"
        )
        assert store.scalar("SELECT count(*) FROM customer_reviews") == 0
    finally:
        store.close()


def test_psi_waits_for_the_champions_second_run(store: Store) -> None:
    bands = {"score_bands": {"edges": [600.0], "development_shares": [0.5, 0.5]}}
    with store.transaction():
        customers(store, (1, "C001", 10_000_000, "active"))
        model(store, 1, "champion")
        store.execute("UPDATE score_models SET report = ?", (json.dumps(bands),))
        score_run(store, 1, 1, "2026-05-31", "A", 700.0)
    first = run(store, "2026-06-30")
    assert first.rules_skipped["portfolio_score_psi"] == (
        "the champion model has not scored the portfolio twice yet"
    )
    with store.transaction():
        score_run(store, 2, 1, "2026-06-30", "A", 710.0)
    second = run(store, "2026-06-30")
    assert "portfolio_score_psi" in second.rules_run
    psi_case = [a for a in open_alerts(store) if a["rule"] == "portfolio_score_psi"]
    assert len(psi_case) == 1  # every score above the band: PSI far over 0.25
    assert "csi" in json.loads(psi_case[0]["evidence"])

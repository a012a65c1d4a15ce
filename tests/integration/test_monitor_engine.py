"""Monitor runs against a real encrypted store: dedup, escalation, auto-resolve, atomicity."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest

from riskcli import failpoints
from riskcli.domain.errors import InputError, UsageError
from riskcli.services.monitoring import alerts as alert_service
from riskcli.services.monitoring import engine
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.engine import run_monitor
from riskcli.storage.store import Store

D = dt.date


def seed(store: Store) -> None:
    with store.transaction():
        store.executemany(
            "INSERT INTO customers (id, external_id, name, industry, region, credit_limit) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(1, "C001", "Acme", "steel", "north", 1_000_000),
             (2, "C002", "Bolt", "retail", "south", 500_000)],
        )  # fmt: skip
        store.execute(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
            "VALUES ('INV-1', 1, '2026-05-01', '2026-06-01', 500000)"
        )


def run(store: Store, day: str, **kw: Any) -> engine.RunResult:
    return run_monitor(store, MonitoringConfig(), as_of=D.fromisoformat(day), **kw)


def alert_rows(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM alerts ORDER BY id")


def events(store: Store, alert_id: int) -> list[str]:
    rows = store.query("SELECT event FROM alert_events WHERE alert_id = ? ORDER BY id", (alert_id,))
    return [r["event"] for r in rows]


def test_first_run_opens_alert_and_records_run(store: Store) -> None:
    seed(store)
    result = run(store, "2026-06-10")
    assert result.new == 1 and result.escalated == 0 and result.resolved == 0
    assert list(result.alerts["change"]) == ["new"]
    row = result.alerts.iloc[0]
    assert (row["rule"], row["customer"], row["severity"]) == ("payment_overdue", "C001", "low")
    assert json.loads(row["evidence"])["oldest_days_past_due"] == 9
    runs = store.query("SELECT * FROM monitor_runs")
    assert len(runs) == 1
    assert runs[0]["alerts_new"] == 1 and runs[0]["customers_scanned"] == 2
    assert runs[0]["as_of"] == "2026-06-10"
    skipped = json.loads(runs[0]["rules_skipped"])
    assert skipped["score_change"] == "no score run as of the date yet (riskcli score run)"
    assert skipped["behaviour_churn"] == (
        "no tier run as of the date yet (riskcli tier run); no rows in transactions"
    )
    assert skipped["relationship_complaint"] == "no rows in interactions"


def test_same_condition_does_not_alert_twice(store: Store) -> None:
    seed(store)
    run(store, "2026-06-10")
    again = run(store, "2026-06-12")
    assert again.new == 0 and again.escalated == 0 and again.alerts.empty
    assert len(alert_rows(store)) == 1
    assert alert_rows(store)[0]["last_run_id"] == again.run_id
    assert json.loads(alert_rows(store)[0]["evidence"])["oldest_days_past_due"] == 11


def test_worsening_condition_escalates_existing_alert(store: Store) -> None:
    seed(store)
    first = run(store, "2026-06-10")
    alert_id = int(first.alerts.iloc[0]["id"])
    alert_service.acknowledge(store, alert_id, note="calling them", user="alice")
    later = run(store, "2026-07-05")  # 34 days past due: stage 2
    assert later.new == 0 and later.escalated == 1
    assert list(later.alerts["id"]) == [alert_id]
    assert later.alerts.iloc[0]["change"] == "escalated"
    row = alert_rows(store)[0]
    assert (row["severity"], row["status"], row["escalations"]) == ("medium", "open", 1)
    assert events(store, alert_id) == ["opened", "acknowledged", "escalated"]


def test_cleared_condition_auto_resolves_and_recurrence_is_new(store: Store) -> None:
    seed(store)
    run(store, "2026-06-10")
    store.execute("UPDATE receivables SET paid_amount = amount, paid_date = '2026-06-11'")
    cleared = run(store, "2026-06-12")
    assert cleared.resolved == 1
    row = alert_rows(store)[0]
    assert (row["status"], row["resolution"], row["resolved_by"]) == (
        "resolved", "auto", "monitor"
    )  # fmt: skip
    assert events(store, row["id"]) == ["opened", "auto_resolved"]
    store.execute("UPDATE receivables SET paid_amount = 0, paid_date = NULL")
    back = run(store, "2026-06-13")
    assert back.new == 1
    assert len(alert_rows(store)) == 2


def test_manual_resolve_stays_quiet_until_worse(store: Store) -> None:
    seed(store)
    first = run(store, "2026-06-10")
    alert_id = int(first.alerts.iloc[0]["id"])
    alert_service.resolve(store, alert_id, note="promised to pay", user="alice")
    quiet = run(store, "2026-06-20")
    assert quiet.new == 0 and quiet.escalated == 0
    worse = run(store, "2026-07-05")
    assert worse.escalated == 1 and list(worse.alerts["change"]) == ["reopened"]
    row = alert_rows(store)[0]
    assert (row["status"], row["severity"], row["resolution"]) == ("open", "medium", None)
    assert events(store, alert_id) == ["opened", "resolved", "reopened"]


def test_skipped_rule_keeps_its_alerts(store: Store) -> None:
    seed(store)
    run(store, "2026-06-10")
    store.execute("UPDATE receivables SET paid_amount = amount")
    only_other = run(store, "2026-06-12", only=["exposure_limit"])
    assert only_other.resolved == 0
    assert alert_rows(store)[0]["status"] == "open"


def owes_not_yet_due(store: Store) -> None:
    """Customer 2 owes 3,000 not yet due: an exposure, so its relationship signals count."""
    store.execute(
        "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
        "VALUES ('INV-9', 2, '2026-05-01', '2026-12-31', 300000)"
    )


def test_event_alert_is_not_auto_resolved(store: Store) -> None:
    seed(store)
    owes_not_yet_due(store)
    store.execute(
        "INSERT INTO interactions (external_id, customer_id, kind, date) "
        "VALUES ('I1', 2, 'complaint', '2026-06-05')"
    )
    first = run(store, "2026-06-10", only=["relationship_complaint"])
    assert first.new == 1
    later = run(store, "2026-09-10", only=["relationship_complaint"])  # out of the window
    assert later.resolved == 0
    row = alert_rows(store)[0]
    assert (row["status"], row["condition_active"]) == ("open", 0)


def test_failed_run_leaves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(store)

    def boom() -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(failpoints, "_ACTIVE", {"monitor:alerts-written": boom})
    with pytest.raises(RuntimeError):
        run(store, "2026-06-10")
    assert store.scalar("SELECT count(*) FROM alerts") == 0
    assert store.scalar("SELECT count(*) FROM alert_events") == 0
    assert store.scalar("SELECT count(*) FROM monitor_runs") == 0


def test_unknown_rule_is_usage_error(store: Store) -> None:
    with pytest.raises(UsageError, match="unknown rule nope"):
        run(store, "2026-06-10", only=["nope"])


def test_ack_and_resolve_errors(store: Store) -> None:
    seed(store)
    alert_id = int(run(store, "2026-06-10").alerts.iloc[0]["id"])
    with pytest.raises(InputError, match="no alert with id 999"):
        alert_service.acknowledge(store, 999, note=None, user="alice")
    alert_service.resolve(store, alert_id, note=None, user="alice")
    with pytest.raises(InputError, match=f"alert {alert_id} is already resolved"):
        alert_service.acknowledge(store, alert_id, note=None, user="alice")


def seed_all_sources(store: Store) -> None:
    """Rows in every table the side reader loads, so the parallel load has work on both sides."""
    seed(store)
    owes_not_yet_due(store)
    with store.transaction():
        store.execute(
            "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
            "VALUES ('T1', 1, 'order', '2026-06-01', 10000)"
        )
        store.execute(
            "INSERT INTO credit_reports (customer_id, provider, report_date, score, "
            "dishonest_debtor) VALUES (2, 'acme-bureau', '2026-06-01', 610.5, 1)"
        )
        store.execute(
            "INSERT INTO interactions (external_id, customer_id, kind, date, satisfaction) "
            "VALUES ('I1', 2, 'complaint', '2026-06-05', NULL)"
        )


def test_load_reads_on_two_connections_of_one_snapshot(store: Store) -> None:
    seed_all_sources(store)
    result = run(store, "2026-06-10")
    assert result.timings["cpu:load_side"] >= 0  # the side reader ran
    assert {
        (r, c) for r, c in zip(result.alerts["rule"], result.alerts["customer"], strict=True)
    } == {
        ("payment_overdue", "C001"),
        ("thirdparty_adverse_flag", "C002"),
        ("relationship_complaint", "C002"),
    }


def test_load_falls_back_to_one_connection_while_another_process_writes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two readers need the write lock for a moment to share a snapshot; when another
    writer holds it the run reads on its own connection and still writes the same alerts."""
    import threading

    from riskcli.storage.store import connect_raw

    seed_all_sources(store)
    monkeypatch.setattr(engine, "PIN_WAIT_MS", 50)
    other = connect_raw(store.path, store.master_key, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.0, lambda: other.execute("ROLLBACK"))
    release.start()
    try:
        result = run(store, "2026-06-10")
    finally:
        release.join()
        other.close()
    assert "cpu:load_side" not in result.timings
    assert sorted(result.alerts["rule"]) == [
        "payment_overdue", "relationship_complaint", "thirdparty_adverse_flag"
    ]  # fmt: skip
    assert store.scalar("SELECT count(*) FROM alerts WHERE status = 'open'") == 3


def test_external_ids_read_the_same_one_by_one_or_all_at_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store)
    few = engine.external_ids(store, [2, 1, 99])
    monkeypatch.setattr(engine, "FEW_CUSTOMERS", 0)
    many = engine.external_ids(store, [2, 1, 99])
    for ids in (few, many):
        assert ids.get(1) == "C001" and ids.get(2) == "C002"
        assert pd.isna(ids.get(99, None))
    alerts = run(store, "2026-06-10").alerts
    assert list(alerts["customer"]) == ["C001"]


def test_text_holding_the_pack_separator_is_read_plainly(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text columns are fetched joined by the unit separator; a value holding it falls back
    to the plain fetch and gives the same alert."""
    from riskcli.services.monitoring import load as loader

    plain: list[str] = []
    fetch = loader._frame
    monkeypatch.setattr(loader, "_frame", lambda s, sql, *a: plain.append(sql) or fetch(s, sql, *a))
    seed(store)
    odd = "INV-2\x1fB"
    with store.transaction():
        store.execute(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
            "VALUES (?, 2, '2026-05-01', '2026-06-01', 700000)",
            (odd,),
        )
    result = run(store, "2026-06-10", only=["payment_overdue"])
    by = result.alerts.set_index("customer")
    assert sorted(by.index) == ["C001", "C002"]
    listed = json.loads(by.loc["C002", "evidence"])["overdue_invoices"]
    assert [i["invoice"] for i in listed] == [odd]
    assert len(plain) == 1 and "FROM receivables" in plain[0]


def _alert_indexes(store: Store) -> set[str]:
    rows = store.query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts'"
    )
    return {r["name"] for r in rows}


def test_m031_gives_early_m030_stores_todays_alert_indexes(store: Store) -> None:
    from riskcli.storage.migrations import m031_alert_indexes

    today = _alert_indexes(store)
    assert today == {
        "alerts_active_key", "alerts_quiet_key", "alerts_status", "alerts_customer", "alerts_queue",
        "alerts_active_order",  # m130
    }  # fmt: skip
    m031_alert_indexes.migrate(store.conn)  # nothing to do on a store made by today's m030
    assert _alert_indexes(store) == today
    with store.transaction():  # the index set of the first m030
        store.execute("DROP INDEX alerts_quiet_key")
        store.execute("CREATE INDEX alerts_key ON alerts(dedup_key, status)")
        store.execute("CREATE INDEX alerts_rule ON alerts(rule, status)")
    with store.transaction():
        m031_alert_indexes.migrate(store.conn)
    assert _alert_indexes(store) == today

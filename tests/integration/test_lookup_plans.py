"""The lookups read what they show through an index: `monitor alerts --limit N` and `monitor
queue` walk the active alerts in their listing order (m130), `monitor show` reads one alert, and
`audit log --limit N` reads the newest N events, never the whole trail."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from pathlib import Path

import pytest
from tests.conftest import PASSPHRASE, USER, create_store_at
from tests.support.credit_sample import populate_store
from tests.support.plans import plans_of_reads, statements_of

from riskcli.services import audit
from riskcli.services.monitoring import alerts
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.engine import run_monitor
from riskcli.storage import migrations
from riskcli.storage.audit import append_event
from riskcli.storage.store import Store, open_store


@pytest.fixture
def watched(store: Store) -> Store:
    populate_store(store, 300, seed=5)
    run_monitor(store, MonitoringConfig(), as_of=dt.date(2026, 9, 30))
    assert store.scalar("SELECT count(*) FROM alerts WHERE status != 'resolved'") >= 20
    return store


def test_the_first_page_of_alerts_walks_the_order_index(watched: Store) -> None:
    for read in (
        partial(alerts.alert_rows, watched, limit=20),
        partial(alerts.alert_rows, watched, limit=20, severity="medium"),
        partial(alerts.queue, watched, limit=20),
    ):
        plan = [step for p in plans_of_reads(watched, read, "alerts") for step in p]
        assert any("USING INDEX alerts_active_order" in step for step in plan), plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # no sort of every alert
    every = alerts.alert_rows(watched)
    assert alerts.alert_rows(watched, limit=20) == every[:20]
    queue = alerts.queue(watched, limit=20)
    assert queue["id"].tolist() == [a["id"] for a in every[:20]]  # nothing is assigned


def test_show_reads_one_alert_by_its_key(watched: Store) -> None:
    alert_id = int(watched.scalar("SELECT max(id) FROM alerts"))
    plans = plans_of_reads(watched, partial(alerts.alert_history, watched, alert_id), "alerts")
    for plan in plans:
        assert not any(re.match(r"SCAN (a|alerts)\b", step) for step in plan), plan
    alert, _history = alerts.alert_history(watched, alert_id)
    assert alert["id"] == alert_id


def test_audit_log_limit_reads_the_newest_events_only(store: Store) -> None:
    with store.transaction():
        for i in range(30):
            action = "customers.read" if i % 3 else "score.read"
            append_event(store.conn, user=USER, role="admin", action=action, command="riskcli",
                         args={}, affected={"i": i}, outcome="ok")  # fmt: skip
    for flt in (
        audit.LogFilter(limit=5),
        audit.LogFilter(limit=4, action="customers.*"),
        audit.LogFilter(limit=3, user=USER, action="score.read"),
        audit.LogFilter(limit=500),
    ):
        everything = audit.log(store, audit.LogFilter(**{**vars(flt), "limit": None}))
        assert audit.log(store, flt) == everything[-(flt.limit or 0) :]
    statements = statements_of(store, partial(audit.log, store, audit.LogFilter(limit=20)))
    assert any("ORDER BY seq DESC LIMIT 20" in s for s in statements), statements


def test_m130_adds_the_order_index_to_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = create_store_at(path, "m120_drills")
    assert "alerts_active_order" not in _indexes(old)
    old.close()
    with open_store(path, USER, PASSPHRASE.encode()) as store:
        assert "m130_alert_order" in migrations.applied(store.conn)
        assert "alerts_active_order" in _indexes(store)


def _indexes(store: Store) -> set[str]:
    rows = store.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {r["name"] for r in rows}

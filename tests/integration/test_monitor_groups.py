"""Customer groups in monitoring: a group's own limit is checked on its members' exposure, and
single-name concentration counts a group as one name."""

from __future__ import annotations

import json

from tests.integration.test_alert_queue import customers, invoice, open_alerts, run

from riskcli.storage.store import Store


def _book(store: Store) -> None:
    """20 customers owing 10,000 each (all within limits, none overdue); C001-C004 form
    group G1, whose own limit is 30,000."""
    with store.transaction():
        customers(store, *[(i, f"C{i:03d}", 5_000_000, "active") for i in range(1, 21)])
        store.execute("UPDATE customers SET group_id = 'G1' WHERE id <= 4")
        store.execute("INSERT INTO group_limits (group_id, credit_limit) VALUES ('G1', 3000000)")
        for i in range(1, 21):
            invoice(store, f"I{i}", i, "2026-09-01", "2026-10-31", 1_000_000)


def test_a_group_over_its_own_limit_is_one_case(store: Store) -> None:
    _book(store)
    run(store, "2026-09-30")
    alerts = [a for a in open_alerts(store) if a["rule"] == "exposure_limit"]
    assert len(alerts) == 1 and alerts[0]["customer"] is None  # no single customer breaches
    evidence = json.loads(alerts[0]["evidence"])
    assert evidence["group"] == "G1"
    assert evidence["outstanding"] == "40000.00" and evidence["over_limit"] == "10000.00"


def test_single_name_concentration_counts_a_group_as_one_name(store: Store) -> None:
    _book(store)
    run(store, "2026-09-30")
    single = [
        json.loads(a["evidence"])
        for a in open_alerts(store)
        if a["rule"] == "portfolio_concentration"
        and json.loads(a["evidence"]).get("measure") == "largest"
    ]
    # each customer is 5% of exposure (not over 5%); the group's 40,000 is 20%
    assert [e["share_pct"] for e in single] == [20.0]

"""`riskcli monitor` through the CLI: output formats, exit codes, handling alerts."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from riskcli.services.monitoring.lock import run_lock
from riskcli.storage.keyslots import KeyFile, keys_path
from riskcli.storage.store import open_store

PASSPHRASE = "correct horse battery staple"
SEVERITY_LIST = "info, low, medium, high, critical"
Cli = Callable[..., Any]


@pytest.fixture
def book(store_env: Path) -> Path:
    """The CLI store with two customers, one overdue invoice and one over its limit."""
    store = open_store(store_env, "alice", PASSPHRASE.encode())
    try:
        with store.transaction():
            store.executemany(
                "INSERT INTO customers (id, external_id, name, credit_limit) VALUES (?, ?, ?, ?)",
                [(1, "C001", "Acme", 1_000_000), (2, "C002", "Bolt", 1_000_000)],
            )
            store.executemany(
                "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
                "amount) VALUES (?, ?, ?, ?, ?)",
                [("INV-1", 1, "2026-05-01", "2026-06-01", 500_000),
                 ("INV-2", 2, "2026-06-01", "2026-07-31", 1_150_000)],
            )  # fmt: skip
    finally:
        store.close()
    return store_env


def scan(cli: Cli, *args: str) -> Any:
    return cli("monitor", "run", "--as-of", "2026-06-10", *args)


def test_run_prints_new_alerts_as_json_and_summary_on_stderr(cli: Cli, book: Path) -> None:
    result = scan(cli, "--format", "json")
    assert result.exit_code == 0, result.stderr
    alerts = json.loads(result.stdout)
    # highest money at risk first: no score, so 5% of the stage-1 overdue amount, then 0
    assert [(a["rule"], a["customer"], a["severity"], a["change"], a["priority"])
            for a in alerts] == [
        ("payment_overdue", "C001", "low", "new", "250.00"),
        ("exposure_limit", "C002", "high", "new", "0.00"),
    ]  # fmt: skip
    assert alerts[0]["evidence"]["oldest_days_past_due"] == 9
    assert "2 new, 0 escalated, 0 auto-resolved, 2 open" in result.stderr
    assert "skipped score_change: no score run as of the date yet (riskcli score run)" in (
        result.stderr
    )


def test_second_run_prints_nothing_new(cli: Cli, book: Path) -> None:
    scan(cli)
    again = scan(cli, "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout) == []


def test_csv_and_jsonl_formats(cli: Cli, book: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(scan(cli, "--format", "csv").stdout)))
    assert {r["rule"] for r in rows} == {"exposure_limit", "payment_overdue"}
    assert json.loads(rows[0]["evidence"])  # evidence is a JSON object in a CSV cell
    cli("monitor", "resolve", rows[0]["id"])
    cli("monitor", "resolve", rows[1]["id"])
    lines = scan(cli, "--format", "jsonl", "--as-of", "2026-07-05").stdout.splitlines()
    assert [json.loads(line)["change"] for line in lines] == ["reopened"]


def test_fail_on_exits_10_after_printing(cli: Cli, book: Path) -> None:
    result = scan(cli, "--format", "json", "--fail-on", "medium")
    assert result.exit_code == 10
    assert len(json.loads(result.stdout)) == 2  # the data is still on stdout
    assert result.stderr.endswith("\n1 new or escalated alert at or above medium (exit 10)\n")
    assert "Error:" not in result.stderr


def test_fail_on_below_threshold_exits_0(cli: Cli, book: Path) -> None:
    assert scan(cli, "--format", "json", "--fail-on", "critical").exit_code == 0


def test_fail_on_counts_only_new_or_escalated(cli: Cli, book: Path) -> None:
    scan(cli)
    assert scan(cli, "--fail-on", "low").exit_code == 0


def test_quiet_silences_the_summary(cli: Cli, book: Path) -> None:
    result = scan(cli, "--format", "json", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert len(json.loads(result.stdout)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-on", "severe"), f"Error: severity must be one of {SEVERITY_LIST}\n"),
        (
            ("--as-of", "10/06/2026"),
            "Error: Invalid value for '--as-of': '10/06/2026' is not a date; use YYYY-MM-DD "
            "or today\n",
        ),
        (("--rule", "nope"), "Error: unknown rule nope (see `riskcli monitor rules`)\n"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(cli: Cli, book: Path, args: tuple[str, ...], message: str) -> None:
    result = cli("monitor", "run", *args)
    assert result.exit_code == 2
    assert result.stderr == message


def test_bad_config_exits_1(cli: Cli, book: Path, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[monitoring.exposure_limit]\nutilisation_pct = -5\n")
    result = cli("--config", str(config), "monitor", "run")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid [monitoring] config: ")
    assert "monitoring.exposure_limit.utilisation_pct" in result.stderr


def test_config_turns_rules_off_and_changes_thresholds(
    cli: Cli, book: Path, tmp_path: Path
) -> None:
    config = tmp_path / "riskcli.toml"
    config.write_text(
        "[monitoring.payment_overdue]\nenabled = false\n"
        "[monitoring.payment_overdue_growth]\nenabled = false\n"
        "[monitoring.exposure_limit]\nutilisation_pct = 120\n"
    )
    result = cli("--config", str(config), "monitor", "run", "--as-of", "2026-06-10",
                 "--format", "json")  # fmt: skip
    assert json.loads(result.stdout) == []
    rules = json.loads(cli("--config", str(config), "monitor", "rules", "--format", "json").stdout)
    by = {r["rule"]: r for r in rules}
    assert by["payment_overdue"]["enabled"] is False
    assert by["exposure_limit"]["settings"]["utilisation_pct"] == 120


def test_locked_store_exits_1(cli: Cli, book: Path) -> None:
    with run_lock(book):
        result = scan(cli)
    assert result.exit_code == 1
    assert "Error: another monitor run is in progress on book.db (pid " in result.stderr
    assert result.stdout == ""


def test_role_without_monitor_run_exits_3(cli: Cli, book: Path, monkeypatch: Any) -> None:
    keyfile = KeyFile.load(keys_path(book))
    _, master = keyfile.unwrap("alice", PASSPHRASE.encode())
    keyfile.add_slot("vera", "viewer", b"viewer passphrase", master)
    keyfile.save(keys_path(book))
    monkeypatch.setenv("RISKCLI_USER", "vera")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "viewer passphrase")
    result = scan(cli)
    assert result.exit_code == 3
    assert result.stderr == "Error: user vera (role viewer) may not monitor.run\n"
    assert cli("monitor", "alerts").exit_code == 0  # a viewer may read


def test_wrong_passphrase_exits_3(cli: Cli, book: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "not it at all")
    assert scan(cli).exit_code == 3


def test_alerts_filters_ack_resolve_show_runs(cli: Cli, book: Path) -> None:
    scan(cli)
    listed = json.loads(cli("monitor", "alerts", "--format", "json").stdout)
    assert len(listed) == 2
    only = json.loads(cli("monitor", "alerts", "--customer", "C001", "--format", "json").stdout)
    assert [a["rule"] for a in only] == ["payment_overdue"]
    high = json.loads(cli("monitor", "alerts", "--severity", "medium", "--format", "json").stdout)
    assert [a["rule"] for a in high] == ["exposure_limit"]
    alert_id = str(only[0]["id"])

    acked = cli("monitor", "ack", alert_id, "--note", "called them")
    assert acked.exit_code == 0 and acked.stderr == f"alert {alert_id} acknowledged\n"
    again = cli("monitor", "ack", alert_id)
    assert again.exit_code == 1
    assert again.stderr == f"Error: alert {alert_id} is already acknowledged\n"
    status = json.loads(
        cli("monitor", "alerts", "--status", "acknowledged", "--format", "json").stdout
    )
    assert [a["id"] for a in status] == [int(alert_id)]

    assert cli("monitor", "resolve", alert_id, "--note", "paid by cheque").exit_code == 0
    shown = json.loads(cli("monitor", "show", alert_id, "--format", "json").stdout)
    assert shown["alert"]["status"] == "resolved"
    assert [e["event"] for e in shown["history"]] == ["opened", "acknowledged", "resolved"]
    assert shown["history"][2]["note"] == "paid by cheque"
    assert shown["history"][1]["user"] == "alice"

    missing = cli("monitor", "resolve", "999")
    assert missing.exit_code == 1 and missing.stderr == "Error: no alert with id 999\n"

    runs = json.loads(cli("monitor", "runs", "--format", "json").stdout)
    assert len(runs) == 1
    assert runs[0]["alerts_new"] == 2 and runs[0]["customers_scanned"] == 2


def test_contracts_expiring_lists_open_alerts(cli: Cli, book: Path) -> None:
    store = open_store(book, "alice", PASSPHRASE.encode())
    try:
        store.executemany(
            "INSERT INTO contracts (contract_number, customer_id, end_date, value, status) "
            "VALUES (?, ?, ?, ?, ?)",
            [("K-SOON", 1, "2026-06-25", 1_000_000, "active"),
             ("K-LATER", 2, "2026-12-31", 500_000, "active"),
             ("K-DONE", 2, "2026-06-20", 500_000, "terminated")],
        )  # fmt: skip
    finally:
        store.close()
    scan(cli)
    result = cli("contracts", "list", "--expiring", "30d", "--as-of", "2026-06-10",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["contract_number"] for r in rows] == ["K-SOON"]
    row = rows[0]
    assert (row["customer"], row["days_left"], row["value"], row["open_alerts"]) == (
        "C001", 15, "10000.00", 1,  # payment_overdue (contract_expiring is off by default)
    )  # fmt: skip
    expected = r"#\d+ low: 5000\.00 overdue on 1 invoice\(s\), oldest 9 days past due"
    assert re.fullmatch(expected, row["top_alert"])
    everything = json.loads(cli("contracts", "list", "--format", "json").stdout)
    assert [r["contract_number"] for r in everything] == ["K-DONE", "K-SOON", "K-LATER"]
    bad = cli("contracts", "list", "--expiring", "soon")
    assert bad.exit_code == 2
    assert bad.stderr == "Error: --expiring takes days like 30d or weeks like 4w, not 'soon'\n"


def test_customers_show_lists_open_alerts(cli: Cli, book: Path) -> None:
    scan(cli)
    shown = json.loads(
        cli("customers", "show", "C001", "--as-of", "2026-06-10", "--format", "json").stdout
    )
    assert [(a["rule"], a["severity"], a["status"]) for a in shown["alerts"]] == [
        ("payment_overdue", "low", "open")
    ]
    alert_id = str(shown["alerts"][0]["id"])
    cli("monitor", "resolve", alert_id)
    again = json.loads(cli("customers", "show", "C001", "--format", "json").stdout)
    assert again["alerts"] == []

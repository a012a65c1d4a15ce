"""The alert queue through the CLI: priority, sorting, queue, assignment, reviews, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskcli.storage.keyslots import KeyFile, keys_path
from riskcli.storage.store import open_store

PASSPHRASE = "correct horse battery staple"
Cli = Callable[..., Any]


@pytest.fixture
def book(store_env: Path) -> Path:
    """Three customers: C001 5,000 overdue 9 days, C002 11,500 against a 10,000 limit (not
    due), C003 50,000 overdue 40 days; C002 has a score (PD 10%)."""
    store = open_store(store_env, "alice", PASSPHRASE.encode())
    try:
        with store.transaction():
            store.executemany(
                "INSERT INTO customers (id, external_id, name, credit_limit) VALUES (?, ?, ?, ?)",
                [(1, "C001", "Acme", 10_000_000), (2, "C002", "Bolt", 1_000_000),
                 (3, "C003", "Core", 10_000_000)],
            )  # fmt: skip
            store.executemany(
                "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
                "amount) VALUES (?, ?, ?, ?, ?)",
                [("INV-1", 1, "2026-05-01", "2026-06-01", 500_000),
                 ("INV-2", 2, "2026-06-01", "2026-07-31", 1_150_000),
                 ("INV-3", 3, "2026-04-01", "2026-05-01", 5_000_000)],
            )  # fmt: skip
    finally:
        store.close()
    return store_env


def scan(cli: Cli, day: str = "2026-06-10") -> Any:
    result = cli("monitor", "run", "--as-of", day, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def add_user(path: Path, name: str, role: str) -> None:
    keyfile = KeyFile.load(keys_path(path))
    _, master = keyfile.unwrap("alice", PASSPHRASE.encode())
    keyfile.add_slot(name, role, f"{name} passphrase".encode(), master)
    keyfile.save(keys_path(path))


def alerts(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("monitor", "alerts", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    out: list[dict[str, Any]] = json.loads(result.stdout)
    return out


def test_alerts_sort_by_priority_severity_and_age(cli: Cli, book: Path) -> None:
    scan(cli)
    by_priority = alerts(cli)
    # C003: 50,000 at stage 2 x 15% = 7,500; C001: 5,000 at stage 1 x 5% = 250; C002: 0
    assert [(a["customer"], a["priority"]) for a in by_priority] == [
        ("C003", "7500.00"), ("C001", "250.00"), ("C002", "0.00")
    ]  # fmt: skip
    assert [a["customer"] for a in alerts(cli, "--sort", "severity")] == ["C002", "C003", "C001"]
    assert [a["id"] for a in alerts(cli, "--sort", "age")] == sorted(a["id"] for a in by_priority)


def test_queue_assign_and_history(cli: Cli, book: Path, monkeypatch: Any) -> None:
    add_user(book, "wang", "analyst")
    scan(cli)
    top = alerts(cli)[0]
    queue = json.loads(cli("monitor", "queue", "--limit", "2", "--format", "json").stdout)
    assert [q["customer"] for q in queue] == ["C003", "C001"]
    assert (queue[0]["name"], queue[0]["exposure"], queue[0]["overdue"]) == (
        "Core", "50000.00", "50000.00"
    )  # fmt: skip
    assert queue[0]["action"] == "move to collection stage 2"

    done = cli("monitor", "assign", str(top["id"]), "--to", "wang")
    assert done.exit_code == 0 and done.stderr == f"alert {top['id']} assigned to wang\n"
    assert [a["id"] for a in alerts(cli, "--assignee", "wang")] == [top["id"]]
    # alice's queue no longer holds wang's case; wang's does
    mine = json.loads(cli("monitor", "queue", "--format", "json").stdout)
    assert top["id"] not in [q["id"] for q in mine]
    his = json.loads(cli("monitor", "queue", "--user", "wang", "--format", "json").stdout)
    assert his[0]["id"] == top["id"] and his[0]["assignee"] == "wang"

    assert cli("monitor", "assign", str(top["id"]), "--clear").exit_code == 0
    shown = json.loads(cli("monitor", "show", str(top["id"]), "--format", "json").stdout)
    assert [(e["event"], e["user"], e["note"]) for e in shown["history"]] == [
        ("opened", "monitor", None), ("assigned", "alice", "to wang"),
        ("unassigned", "alice", "from wang"),
    ]  # fmt: skip
    assert shown["alert"]["assignee"] is None
    log = json.loads(cli("audit", "log", "--format", "json").stdout)
    assigned = [e for e in log if e["action"] == "monitor.assign"]
    assert len(assigned) == 2


def test_a_viewer_may_not_assign(cli: Cli, book: Path, monkeypatch: Any) -> None:
    add_user(book, "vera", "viewer")
    scan(cli)
    monkeypatch.setenv("RISKCLI_USER", "vera")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "vera passphrase")
    result = cli("monitor", "assign", "1", "--to", "alice")
    assert result.exit_code == 3
    assert result.stderr == "Error: user vera (role viewer) may not monitor.assign\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("1", "--to", "bob"), 1, "Error: no user 'bob' (see `riskcli user list`)\n"),
        (("99", "--to", "alice"), 1, "Error: no alert with id 99\n"),
        (("1",), 2, "Error: give either --to USER or --clear\n"),
        (("1", "--to", "alice", "--clear"), 2, "Error: give either --to USER or --clear\n"),
        (("1", "--clear"), 1, "Error: alert 1 is not assigned\n"),
    ],
)
def test_assign_bad_input_changes_nothing(
    cli: Cli, book: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    scan(cli)
    before = cli("monitor", "show", "1", "--format", "json").stdout
    result = cli("monitor", "assign", *args)
    assert (result.exit_code, result.stderr) == (code, message)
    assert cli("monitor", "show", "1", "--format", "json").stdout == before


def test_assigning_a_resolved_alert_is_refused(cli: Cli, book: Path) -> None:
    scan(cli)
    cli("monitor", "resolve", "1")
    result = cli("monitor", "assign", "1", "--to", "alice")
    assert (result.exit_code, result.stderr) == (1, "Error: alert 1 is resolved\n")


def test_unknown_sort_key_exits_2(cli: Cli, book: Path) -> None:
    result = cli("monitor", "alerts", "--sort", "money")
    assert result.exit_code == 2
    assert result.stderr == "Error: --sort must be one of priority, severity, age, not 'money'\n"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[monitoring.payment_overdue]\nmin_amount = -1\n",
         "monitoring.payment_overdue.min_amount"),
        ("[monitoring.payment_overdue]\nmin_amont = 5\n",
         "monitoring.payment_overdue.min_amont"),
        ("[monitoring.no_such_rule]\nenabled = true\n", "monitoring.no_such_rule"),
    ],
)  # fmt: skip
def test_bad_config_names_the_key_and_changes_nothing(
    cli: Cli, book: Path, tmp_path: Path, toml: str, key: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    result = cli("--config", str(config), "monitor", "run", "--as-of", "2026-06-10")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: invalid [monitoring] config: {key}: ")
    assert json.loads(cli("monitor", "runs", "--format", "json").stdout or "[]") == []


def test_reviews_follow_the_grade_cadence_from_the_last_review(cli: Cli, book: Path) -> None:
    today = date.today()
    store = open_store(book, "alice", PASSPHRASE.encode())
    try:
        with store.transaction():
            store.execute(
                "UPDATE customers SET registered_date = ? WHERE id IN (1, 2)",
                ((today - timedelta(days=80)).isoformat(),),  # new: first review at 3 months
            )
            store.execute(
                "UPDATE customers SET registered_date = '2020-01-15', status = 'closed' "
                "WHERE id = 3"
            )
    finally:
        store.close()
    due = json.loads(cli("monitor", "reviews", "--due", "30d", "--format", "json").stdout)
    assert sorted(r["customer"] for r in due) == ["C001", "C002"]  # C003 is closed
    assert {r["cadence_months"] for r in due} == {3}  # no score: reviewed like C
    done = cli("customers", "review", "C001", "--note", "accounts in, limit kept")
    assert done.exit_code == 0, done.stderr
    assert done.stderr.startswith("review 1 of C001 recorded")
    after = json.loads(cli("monitor", "reviews", "--due", "30d", "--format", "json").stdout)
    assert [r["customer"] for r in after] == ["C002"]
    every = json.loads(cli("monitor", "reviews", "--format", "json").stdout)
    c001 = next(r for r in every if r["customer"] == "C001")
    assert c001["last_review"] == today.isoformat()
    assert c001["days_left"] > 80
    log = json.loads(cli("audit", "log", "--format", "json").stdout)
    assert any(e["action"] == "customers.review" for e in log)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("customers", "review", "C999", "--note", "x"), 1, "Error: no customer 'C999'\n"),
        (("customers", "review", "C001", "--note", " "), 1,
         "Error: --note must say what the review found\n"),
        (("monitor", "reviews", "--due", "soon"), 2,
         "Error: --due takes days like 30d or weeks like 4w, not 'soon'\n"),
    ],
)  # fmt: skip
def test_review_bad_input(
    cli: Cli, book: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(*args)
    assert (result.exit_code, result.stderr) == (code, message)
    store = open_store(book, "alice", PASSPHRASE.encode())
    try:
        assert store.scalar("SELECT count(*) FROM customer_reviews") == 0
    finally:
        store.close()

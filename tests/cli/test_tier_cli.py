"""`riskcli tier ...` through the CLI: output formats, exit codes, error lines, roles."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.storage.store import open_store

AS_OF = date(2026, 9, 30)
Cli = Callable[..., Any]


def fill(path: Path, customers: int = 12) -> None:
    store = open_store(path, USER, PASSPHRASE.encode())
    try:
        with store.transaction():
            store.executemany(
                "INSERT INTO customers(id, external_id, name) VALUES (?, ?, ?)",
                [(i, f"K{i:03d}", f"Firm {i}") for i in range(1, customers + 1)],
            )
            rows = []
            for c in range(1, customers):
                for k in range(c % 4 + 1):
                    day = AS_OF - timedelta(days=20 * k + c)
                    rows.append((f"T{c}-{k}", c, "order", day.isoformat(), 1000 * c * c))
            store.executemany(
                "INSERT INTO transactions(external_id, customer_id, kind, date, amount) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        store.close()


@pytest.fixture
def book(store_env: Path) -> Path:
    fill(store_env)
    return store_env


def test_run_then_summary_as_csv(book: Path, cli: Cli) -> None:
    result = cli("tier", "run", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["run"] == 1 and record["customers"] == 12 and record["method"] == "rfm"
    assert sum(record[f"tier_{t}"] for t in "ABCD") == 12
    summary = cli("tier", "summary", "--format", "csv")
    assert summary.exit_code == 0
    lines = summary.stdout.splitlines()
    assert lines[0] == (
        "group,name,customers,share_customers,value,share_value,overdue_total,overdue_avg"
    )
    assert lines[1].startswith("tier,A,")
    assert "█" not in summary.stdout  # no bar chart when piped


def test_summary_draws_bars_on_a_terminal(
    book: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskcli.cli import tier as tier_cli

    cli("tier", "run", "--as-of", AS_OF.isoformat())
    monkeypatch.setattr(tier_cli, "_is_chart", lambda fmt: True)
    result = cli("tier", "summary", "--format", "table")
    assert result.exit_code == 0
    assert "value_bar" in result.stdout and "█" in result.stdout


def test_list_filters_and_show_customer(book: Path, cli: Cli) -> None:
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    a = json.loads(cli("tier", "list", "--tier", "A", "--format", "json").stdout)
    assert a and all(r["tier"] == "A" for r in a)
    assert a[0]["customer_id"] == "K011"  # the biggest spender
    prospects = json.loads(cli("tier", "list", "--stage", "prospect", "-f", "json").stdout)
    assert [r["customer_id"] for r in prospects] == ["K012"]
    shown = cli("tier", "show", "K011", "--format", "json")
    assert shown.exit_code == 0
    rows = json.loads(shown.stdout)
    assert rows[0]["run"] == 1 and rows[0]["tier"] == "A"
    assert "service policy (tier A): Dedicated account manager" in shown.stderr


def test_show_without_id_describes_the_latest_run(book: Path, cli: Cli) -> None:
    cli("tier", "run", "--as-of", AS_OF.isoformat(), "--window", "90d")
    record = json.loads(cli("tier", "show", "--format", "json").stdout)
    assert record["id"] == 1 and record["window_days"] == 90
    assert record["params"]["window"] == "90d"


def test_changes_and_matrix(book: Path, cli: Cli) -> None:
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    cli("tier", "run", "--as-of", (AS_OF + timedelta(days=300)).isoformat())
    movers = cli("tier", "changes", "--format", "json")
    assert movers.exit_code == 0
    assert "tier changes from run 1 to run 2" in movers.stderr
    for row in json.loads(movers.stdout):
        assert row["direction"] in {"up", "down"}
    grid = json.loads(cli("tier", "changes", "--matrix", "--format", "json").stdout)
    assert sum(v for row in grid for k, v in row.items() if k != "from \\ to") == 12


def test_policy_is_configurable_and_exportable(book: Path, cli: Cli) -> None:
    (book.parent / "riskcli.toml").write_text('[tiering.policies]\nD = "Web shop only"\n')
    out = cli("tier", "policy", "--format", "csv")
    assert out.exit_code == 0
    assert "D,Web shop only" in out.stdout.splitlines()
    one = json.loads(cli("tier", "policy", "a", "--format", "json").stdout)
    assert one[0]["tier"] == "A"
    bad = cli("tier", "policy", "Z")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "Error: no tier 'Z': tiers are A, B, C and D"


def test_runs_lists_history(book: Path, cli: Cli) -> None:
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    cli("tier", "run", "--as-of", AS_OF.isoformat(), "--method", "kmeans")
    rows = json.loads(cli("tier", "runs", "--format", "json").stdout)
    assert [r["run"] for r in rows] == [2, 1]
    assert rows[0]["silhouette"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--as-of", "2000-01-01"),
            "Error: as-of date 2000-01-01 is before the first transaction (2026-07-21); "
            "choose a later --as-of",
        ),
    ],
)
def test_bad_run_arguments_exit_1_with_one_line(
    book: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli("tier", "run", *args)
    assert result.exit_code == 1
    assert result.stderr.strip() == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--as-of", "2026-02-30"),
            "Error: Invalid value for '--as-of': '2026-02-30' is not a date; use YYYY-MM-DD "
            "or today",
        ),
        (
            ("--window", "soon"),
            "Error: Invalid value for '--window': window 'soon' is not understood: use a number "
            "and d, w, m or y (12m)",
        ),
        (
            ("--method", "dice"),
            "Error: Invalid value for '--method': 'dice' is not one of 'rfm', 'kmeans'.",
        ),
    ],
)
def test_bad_option_values_are_usage_errors(
    book: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli("tier", "run", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_empty_store_and_no_runs(store_env: Path, cli: Cli) -> None:
    result = cli("tier", "run")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: nothing to tier: the store has no customers (import some first)"
    )
    for args in (("summary",), ("list",), ("show",), ("changes",)):
        out = cli("tier", *args)
        assert out.exit_code == 1
        assert out.stderr.strip() == "Error: no tier runs yet: run `riskcli tier run` first"


def test_unknown_customer_and_run(book: Path, cli: Cli) -> None:
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    out = cli("tier", "show", "NOPE")
    assert out.exit_code == 1 and out.stderr.strip() == "Error: no customer NOPE"
    out = cli("tier", "summary", "9")
    assert out.exit_code == 1
    assert out.stderr.strip() == "Error: no tier run 9 (see `riskcli tier runs`)"


def test_future_transactions_warning_goes_to_stderr(book: Path, cli: Cli) -> None:
    result = cli("tier", "run", "--as-of", (AS_OF - timedelta(days=30)).isoformat(), "-f", "csv")
    assert result.exit_code == 0
    assert "transactions dated after 2026-08-31 were excluded" in result.stderr
    assert "Warning" not in result.stdout


def test_viewer_may_read_but_not_run(book: Path, cli: Cli, tmp_path: Path) -> None:
    from riskcli.storage.keyslots import KeyFile, keys_path

    store = open_store(book, USER, PASSPHRASE.encode())
    try:
        master = store.keyfile.unwrap(USER, PASSPHRASE.encode())[1]
        kf = KeyFile.load(keys_path(book))
        kf.add_slot("vera", "viewer", b"viewer passphrase", master)
        kf.seal(master)
        kf.save(keys_path(book))
    finally:
        store.close()
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    denied = cli("--user", "vera", "tier", "run", env={"RISKCLI_PASSPHRASE": "viewer passphrase"})
    assert denied.exit_code == 3
    assert denied.stderr.strip() == "Error: user vera (role viewer) may not tier.run"
    ok = cli(
        "--user",
        "vera",
        "tier",
        "summary",
        "-f",
        "csv",
        env={"RISKCLI_PASSPHRASE": "viewer passphrase"},
    )
    assert ok.exit_code == 0


def test_customers_show_includes_tier_and_service_policy(book: Path, cli: Cli) -> None:
    before = json.loads(cli("customers", "show", "K011", "--format", "json").stdout)
    assert before["customer"]["tier"] is None
    assert before["customer"]["service_policy"].startswith("No tier yet")
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    after = json.loads(cli("customers", "show", "K011", "--format", "json").stdout)
    customer = after["customer"]
    assert customer["tier"] == "A" and customer["tier_run"] == 1
    assert customer["segment"] and customer["stage"]
    assert customer["service_policy"].startswith("Dedicated account manager")

"""One as-of rule: the latest activity in the store by default, `today`, one usage error."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer

from riskcli.cli.app import app
from riskcli.cli.options import parse_day

Cli = Callable[..., Any]
LATEST = "2024-03-03"


@pytest.fixture
def book(store_env: Path, tmp_path: Path, cli: Cli) -> Path:
    (tmp_path / "c.csv").write_text(
        "customer_id,name,kind,industry,region,status\nC1,甲贸易公司,company,批发零售,华东,active\n",
        encoding="utf-8",
    )
    (tmp_path / "t.csv").write_text(
        "txn_id,customer_id,kind,date,amount\n"
        "T1,C1,order,2023-12-09,39595.00\n"
        f"T2,C1,payment,{LATEST},39595.00\n",
        encoding="utf-8",
    )
    (tmp_path / "r.csv").write_text(
        "invoice_number,customer_id,issue_date,due_date,amount,paid_amount\n"
        "I1,C1,2024-01-01,2024-01-31,100,0\n",
        encoding="utf-8",
    )
    for kind, name in (("customers", "c"), ("transactions", "t"), ("receivables", "r")):
        assert cli("import", kind, str(tmp_path / f"{name}.csv")).exit_code == 0
    return store_env


def test_parse_day_reads_iso_dates_and_today_only() -> None:
    assert parse_day("2026-09-30") == date(2026, 9, 30)
    assert parse_day(" Today ") == date.today()
    for bad in ("2026-13-01", "20260930", "30/09/2026", "2026-9-30", ""):
        with pytest.raises(typer.BadParameter, match="is not a date; use YYYY-MM-DD or today"):
            parse_day(bad)


def test_the_default_is_the_latest_activity_and_the_header_says_so(book: Path, cli: Cli) -> None:
    result = cli("customers", "show", "C1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"as of {LATEST} (the latest activity in the store")
    aging = json.loads(result.stdout)
    assert aging  # the customer, shown as of the data's end
    today = cli("customers", "show", "C1", "--as-of", "today", "--format", "json")
    assert today.exit_code == 0, today.stderr
    assert today.stderr.strip() == f"as of {date.today().isoformat()}"


def test_the_empty_store_defaults_to_today(store_env: Path, cli: Cli) -> None:
    result = cli("contracts", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert f"as of {date.today().isoformat()}" in result.stderr


def _as_of_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found = []

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        ctx = typer.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if hasattr(command, "commands"):
                walk(command, (*prefix, name))
            elif any("--as-of" in getattr(p, "opts", ()) for p in command.params):
                found.append((*prefix, name))

    walk(root, ())
    return found


def test_every_as_of_refuses_a_bad_date_the_same_way(store_env: Path, cli: Cli) -> None:
    commands = _as_of_commands()
    assert {("customers", "show"), ("tier", "run"), ("monitor", "run"), ("score", "run")} <= set(
        commands
    )
    for path in commands:
        args = [*path, "--as-of", "2026-13-01"]
        if path in {("customers", "show"), ("report", "customer")}:
            args.insert(len(path), "C1")
        if path == ("generate",):
            args.insert(1, str(store_env.parent / "out"))
        result = cli(*args)
        assert result.exit_code == 2, (path, result.stderr)
        assert result.stderr == (
            "Error: Invalid value for '--as-of': '2026-13-01' is not a date; use YYYY-MM-DD "
            "or today\n"
        ), path

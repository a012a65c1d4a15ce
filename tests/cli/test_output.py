"""Output a person and a script can trust: no silent cuts, tables that fit, business form,
no styling under NO_COLOR, phase lines only on a terminal, one parseable status."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from tests.conftest import PASSPHRASE, USER

from riskcli.cli import output

Cli = Callable[..., Any]


@pytest.fixture
def many(store_env: Path, tmp_path: Path, cli: Cli) -> Path:
    lines = ["customer_id,name,kind,industry,region,status"]
    lines += [f"C{i:08d},客户{i},company,制造业,华东,active" for i in range(1, 1006)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    return store_env


def test_a_script_gets_every_row_and_a_cut_says_so(many: Path, cli: Cli) -> None:
    every = cli("customers", "list", "--format", "csv")
    assert every.exit_code == 0
    assert len(every.stdout.splitlines()) == 1006  # header + 1,005: no silent 1,000 cap
    assert every.stderr == ""
    cut = cli("customers", "list", "--format", "jsonl", "--limit", "3")
    assert len(cut.stdout.splitlines()) == 3
    assert cut.stderr == "showing 3 of 1,005 rows; --limit 0 for all\n"
    quiet = cli("-q", "customers", "list", "--format", "json", "--limit", "3")
    assert len(json.loads(quiet.stdout)) == 3
    assert "showing 3 of 1,005" in quiet.stderr  # the data is incomplete: said even with -q
    assert len(cli("customers", "list", "-f", "csv", "--limit", "0").stdout.splitlines()) == 1006


def test_row_limit_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert output.row_limit(None) == output.SCREEN_ROWS
    assert output.row_limit(0) is None and output.row_limit(5) == 5
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert output.row_limit(None) is None


def test_cells_in_business_form() -> None:
    assert output.cell_text(0.0765, output.column_kind("pd", [0.0765])) == "7.65%"
    assert output.column_kind("share_customers", [0.1]) == "percent"
    assert output.column_kind("mean_pd", [0.0204]) == "percent"
    kind = output.column_kind("recommended_limit", [3000.0, 0.0])
    assert kind == "money" and output.cell_text(3000.0, kind) == "3,000.00"
    assert output.cell_text(Decimal("39014924.55")) == "39,014,924.55"
    assert output.column_kind("customers", [1875]) == "number"
    assert output.cell_text(1875, "number") == "1,875"
    # counts named after money are counts: customers over their limit, limit requests raised
    assert output.column_kind("over_limit", [3]) == "number"
    assert output.column_kind("limit_requests", [0, 12]) == "number"
    assert output.column_kind("credit_limit", [5000]) == "money"
    # money kept as exact text (alerts, the queue) shows as money in a table, and stays text
    # in CSV
    kind = output.column_kind("exposure", ["1471323.35", None, "-5.00"])
    assert kind == "money" and output.cell_text("1471323.35", kind) == "1,471,323.35"
    assert output.column_kind("priority", ["588529.34"]) == "money"
    assert output.column_kind("invoice", ["2024.01"]) != "money"
    text = output.format_text([{"exposure": "1471323.35"}], "csv")
    assert text == "exposure\n1471323.35\n"
    assert output.column_kind("run", [12]) == "key" and output.cell_text(1833, "key") == "1833"
    # csv and json keep plain numbers
    text = output.format_text([{"pd": 0.0765, "limit": Decimal("3000.00")}], "csv")
    assert text == "pd,limit\n0.0765,3000\n"


_ID = re.compile(r"(?<![\w-])C\d+(?![\w-])")
_DATE = re.compile(r"(?<![\w-])\d{4}-\d{1,2}(?:-\d{0,2})?(?![\w-])")
_NUMBERISH = re.compile(r"[-\d][\d,.]*%?")
_NUMBER = re.compile(r"-?\d{1,3}(,\d{3})*(\.\d+)?%?|-?\d+(\.\d+)?(e[-+]?\d+)?%?")


def _split_pieces(text: str) -> list[str]:
    """Cells of a rendered table that show an id, a date or an amount cut in two."""
    bad = []
    for line in text.splitlines():
        for cell in re.split(r"[│┃]", line)[1:-1]:
            value = cell.strip()
            for token in _ID.findall(value):
                if not re.fullmatch(r"C\d{8}", token):
                    bad.append(value)
            for token in _DATE.findall(value):
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", token):
                    bad.append(value)
            if _NUMBERISH.fullmatch(value) and not _NUMBER.fullmatch(value):
                bad.append(value)
    return bad


def test_every_list_fits_80_columns_without_splitting_ids_dates_or_amounts(
    store_env: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    assert cli("generate", str(data), "--customers", "120", "--seed", "3").exit_code == 0
    for kind in ("customers", "transactions", "receivables", "credit-reports", "contracts",
                 "interactions", "financials"):  # fmt: skip
        assert cli("import", kind, str(data / f"{kind.replace('-', '_')}.csv")).exit_code == 0
    assert cli("tier", "run").exit_code == 0
    assert cli("score", "expert").exit_code == 0
    assert cli("score", "models", "promote", "1").exit_code == 0
    assert cli("score", "run").exit_code == 0
    assert cli("monitor", "run").exit_code in (0, 10)
    monkeypatch.setenv("COLUMNS", "80")
    listings = [
        ("customers", "list"), ("customers", "show", "C00000007"), ("monitor", "alerts"),
        ("monitor", "runs"), ("score", "list"), ("score", "show", "C00000007"),
        ("score", "models", "list"), ("tier", "list"), ("tier", "summary"), ("tier", "runs"),
        ("contracts", "list"), ("import", "history"), ("audit", "log", "--limit", "20"),
        ("user", "list"), ("status",),
    ]  # fmt: skip
    for args in listings:
        result = cli(*args, "--format", "table")
        assert result.exit_code == 0, (args, result.stderr)
        wide = [line for line in result.stdout.splitlines() if cell_len(line) > 80]
        assert not wide, (args, wide[:2])
        assert not _split_pieces(result.stdout), (args, _split_pieces(result.stdout)[:5])
        assert "│" in result.stdout or "none" in result.stdout, args


def test_no_color_removes_all_styling(store_env: Path) -> None:
    forced = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    forced |= {"FORCE_COLOR": "1", "COLUMNS": "120"}  # rich styles as on a terminal

    def table(env: dict[str, str]) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "riskcli", "status", "--format", "table"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "\x1b[" in table(forced)  # bold headers without NO_COLOR
    assert "\x1b[" not in table({**forced, "NO_COLOR": "1"})  # no colour and no bold


def test_status_piped_is_one_parseable_result(store_env: Path, cli: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("status").stdout)))
    assert [r["section"] for r in rows][:1] == ["store"]
    assert {r["section"] for r in rows} == {"store", "users", "tables"}
    assert any(r.get("user") == USER for r in rows)
    data = json.loads(cli("status", "--format", "json").stdout)
    assert set(data) == {"store", "users", "tables"}
    assert PASSPHRASE not in json.dumps(data)


def test_phase_lines_only_on_a_terminal_or_with_verbose(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "c.csv").write_text(
        "customer_id,name,kind,industry,region,status\nC1,甲贸易公司,company,批发零售,华东,active\n",
        encoding="utf-8",
    )
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    assert cli("score", "expert").exit_code == 0
    assert cli("score", "models", "promote", "1").exit_code == 0
    quiet = cli("score", "run", "--format", "json")
    assert quiet.exit_code == 0, quiet.stderr
    assert "score:" not in quiet.stderr  # stderr is not a terminal: no phase lines
    loud = cli("--verbose", "score", "run", "--format", "json")
    assert "score:" in loud.stderr


def test_plural() -> None:
    assert output.plural(1, "customer") == "1 customer"
    assert output.plural(3000, "customer") == "3,000 customers"


def test_a_piped_table_is_as_wide_as_its_rows(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # piped, no terminal width to fit
    rows = [
        {"group": "tier", "name": "A" * 60, "value": Decimal("39014924.55"), "share": 0.293}
        for _ in range(2)
    ]
    output.render(rows, "table")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6  # top rule, header, rule, two rows, bottom rule: nothing wrapped
    assert all("39,014,924.55" in line and "29.30%" in line for line in lines[3:5])

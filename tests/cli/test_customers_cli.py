"""`riskcli customers list/show` through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]


@pytest.fixture
def book(store_env: Path, tmp_path: Path, cli: Cli) -> Path:
    (tmp_path / "c.csv").write_text(
        "customer_id,name,kind,industry,region,phone,email,national_id,status\n"
        "C1,甲贸易公司,company,批发零售,华东,13800138000,a@example.com,91350100M000100Y43,active\n"
        "C2,张三,individual,制造业,华北,13900139000,zs@example.com,11010519491231002X,closed\n"
        "C3,乙制造公司,company,制造业,华东,,,,active\n",
        encoding="utf-8",
    )
    (tmp_path / "r.csv").write_text(
        "invoice_number,customer_id,issue_date,due_date,amount,paid_amount\n"
        "I1,C1,2024-01-01,2024-01-31,100,0\n"
        "I2,C1,2024-01-01,2024-03-31,50,20\n"
        "I3,C1,2024-01-01,2024-05-31,70,70\n",
        encoding="utf-8",
    )
    (tmp_path / "k.csv").write_text(
        "customer_id,provider,report_date,score,rating,lawsuit,dishonest_debtor\n"
        "C1,百行征信,2024-02-01,650,BB,是,0\n",
        encoding="utf-8",
    )
    for kind, name in (("customers", "c"), ("receivables", "r"), ("credit-reports", "k")):
        assert cli("import", kind, str(tmp_path / f"{name}.csv")).exit_code == 0
    return store_env


def test_list_masks_pii_and_filters(book: Path, cli: Cli) -> None:
    rows = json.loads(cli("customers", "list", "--format", "json").stdout)
    assert [r["customer_id"] for r in rows] == ["C1", "C2", "C3"]
    assert rows[0]["phone"] == "138****8000"
    assert "13800138000" not in json.dumps(rows)
    revealed = json.loads(cli("customers", "list", "--reveal", "--format", "json").stdout)
    assert revealed[0]["phone"] == "13800138000"
    only = json.loads(
        cli("customers", "list", "--industry", "制造业", "--status", "active", "-f", "json").stdout
    )
    assert [r["customer_id"] for r in only] == ["C3"]
    found = json.loads(cli("customers", "list", "--search", "贸易", "-f", "json").stdout)
    assert [r["customer_id"] for r in found] == ["C1"]
    region = json.loads(cli("customers", "list", "--region", "华北", "-f", "json").stdout)
    assert [r["customer_id"] for r in region] == ["C2"]


def test_show_has_aging_and_attached_records(book: Path, cli: Cli) -> None:
    result = cli("customers", "show", "C1", "--as-of", "2024-04-15", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["customer"]["name"] == "甲贸易公司"
    assert data["customer"]["national_id"] != "91350100M000100Y43"
    aging = {b["bucket"]: (b["invoices"], b["outstanding"]) for b in data["aging"]}
    assert aging == {"current": (0, 0), "1-30": (1, 30), "31-60": (0, 0), "61-90": (1, 100),
                     "90+": (0, 0)}  # fmt: skip
    assert data["customer"]["overdue"] == 130
    assert [r["invoice_number"] for r in data["open_receivables"]] == ["I1", "I2"]
    assert data["credit_reports"][0]["lawsuit"] == 1
    assert data["credit_reports"][0]["provider"] == "百行征信"


def test_show_unknown_customer(book: Path, cli: Cli) -> None:
    result = cli("customers", "show", "NOPE")
    assert result.exit_code == 1
    assert result.stderr == "Error: no customer with id 'NOPE'\n"


def test_show_bad_date_is_usage_error(book: Path, cli: Cli) -> None:
    result = cli("customers", "show", "C1", "--as-of", "15/04/2024")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid value for '--as-of': '15/04/2024' is not a date; use YYYY-MM-DD or today\n"
    )

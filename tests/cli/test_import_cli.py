"""`riskcli import ...` through the CLI: exit codes, stdout data, stderr messages without PII."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., Any]

HEADER = "customer_id,name,kind,phone,email,national_id,credit_limit\n"
GOOD = [
    "C1,甲公司,company,13800138000,a@example.com,91350100M000100Y43,1000\n",
    "C2,张三,individual,13900139000,,11010519491231002X,500\n",
]


def _file(tmp_path: Path, *rows: str, name: str = "customers.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_import_prints_counts_then_reimport_changes_nothing(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    path = _file(tmp_path, *GOOD)
    result = cli("import", "customers", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data[0]["inserted"] == 2 and data[0]["rejected"] == 0
    again = cli("import", "customers", str(path))
    assert again.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(again.stdout)))
    assert (rows[0]["inserted"], rows[0]["unchanged"]) == ("0", "2")
    assert f"{path}: nothing changed (2 rows already up to date)" in again.stderr


def test_rejected_rows_show_reasons_and_lines_never_values(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    bad = "C3,李四,individual,12345,li@secret.example,110105194912310021,9\n"
    path = _file(tmp_path, *GOOD, bad)
    rejects = tmp_path / "rejects.csv"
    result = cli("import", "customers", str(path), "--rejects", str(rejects))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: import aborted: 1 rejected row(s) exceed --max-rejects 0; nothing was written; "
        f"see {rejects}"
    )
    assert "phone: invalid phone number (line 4)" in result.stderr
    assert "national_id: resident id check character should be X, found 1" in result.stderr
    for secret in ("12345", "li@secret", "110105194912310021", "李四"):
        assert secret not in result.stderr
    assert "12345" in rejects.read_text(encoding="utf-8")
    listed = cli("customers", "list", "--format", "json")
    assert json.loads(listed.stdout) == []


def test_max_rejects_and_history(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    path = _file(tmp_path, *GOOD, "C3,x,company,1,,,\n")
    result = cli("import", "customers", str(path), "--max-rejects", "1", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["rejected"] == 1
    hist = cli("import", "history", "--format", "json")
    rows = json.loads(hist.stdout)
    assert rows[0]["kind"] == "customers" and rows[0]["inserted"] == 2
    assert rows[0]["rejected"] == 1 and rows[0]["file_name"] == str(path)


def test_dry_run(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    result = cli("import", "customers", str(_file(tmp_path, *GOOD)), "--dry-run")
    assert result.exit_code == 0
    assert "dry run: nothing was written" in result.stderr
    assert json.loads(cli("customers", "list", "--format", "json").stdout) == []
    assert json.loads(cli("import", "history", "--format", "json").stdout)[0]["dry_run"] == 1


def test_stdin_and_map_and_unknown_columns(store_env: Path, cli: Cli) -> None:
    data = "编号,Firma,备用\nC9,乙公司,x\n".encode("gbk")
    result = cli("import", "customers", "-", "--map", "Firma=name", "--format", "json", input=data)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["inserted"] == 1
    assert "ignored unknown column(s): 备用" in result.stderr


def test_usage_and_input_errors(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    missing = cli("import", "customers", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: {tmp_path / 'nope.csv'}: no such file\n"
    bad_map = cli("import", "customers", str(_file(tmp_path, *GOOD)), "--map", "oops")
    assert bad_map.exit_code == 2
    assert "--map expects 'source=field'" in bad_map.stderr
    no_key = tmp_path / "k.csv"
    no_key.write_text("name\nx\n")
    result = cli("import", "customers", str(no_key))
    assert result.exit_code == 1
    assert "missing required column(s) for customers: customer_id" in result.stderr


def test_transactions_need_known_customers(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    cli("import", "customers", str(_file(tmp_path, *GOOD)))
    tx = tmp_path / "tx.csv"
    tx.write_text(
        '交易编号,客户编号,类型,日期,金额\nT1,C1,订单,2024年3月5日,"1,000.50"\nT2,ZZ,订单,2024-03-05,1\n'
    )
    result = cli("import", "transactions", str(tx), "--max-rejects", "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "customer_id: unknown customer (line 3)" in result.stderr
    shown = json.loads(cli("customers", "show", "C1", "--format", "json").stdout)
    assert shown["transactions"] == [
        {"txn_id": "T1", "kind": "order", "date": "2024-03-05", "amount": 1000.5}
    ]


def test_every_kind_has_a_command_with_help(cli: Cli) -> None:
    for kind in ("customers", "transactions", "receivables", "credit-reports", "contracts",
                 "interactions", "financials", "history"):  # fmt: skip
        result = cli("import", kind, "--help")
        assert result.exit_code == 0
        assert "Example: riskcli import" in result.stdout


def test_real_process_stdin_pipe(store_env: Path) -> None:
    """A real pipe into `riskcli import customers -`: CSV on stdout, nothing else."""
    proc = subprocess.run(
        [sys.executable, "-m", "riskcli", "import", "customers", "-"],
        input=(HEADER + "".join(GOOD)).encode(),
        capture_output=True,
        env={**os.environ},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines() == [
        "kind,file,rows,inserted,updated,unchanged,rejected,dry_run,limit_requests",
        "customers,<stdin>,2,2,0,0,0,0,0",
    ]


def test_summary_names_the_kind_as_the_command_and_rejects_follow_the_file(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    assert cli("import", "customers", str(_file(tmp_path, *GOOD))).exit_code == 0
    reports = tmp_path / "k.csv"
    reports.write_text(
        "customer_id,provider,report_date,score,rating\nC1,百行征信,2024-02-01,650,BB\n",
        encoding="utf-8",
    )
    done = cli("import", "credit-reports", str(reports), "--format", "json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)[0]["kind"] == "credit-reports"
    # a later line's problem sorts after an earlier line's, whatever the column
    bad = _file(
        tmp_path,
        *GOOD,
        "C3,王五,company,13700137000,not-an-email,,1\n",  # line 4: email
        "C4,赵六,company,12345,,,1\n",  # line 5: phone
        name="bad.csv",
    )
    result = cli("import", "customers", str(bad), "--max-rejects", "5")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "(line " in line]
    assert [line.rsplit("(line ", 1)[1] for line in lines] == ["4)", "5)"]

"""`riskcli generate OUT_DIR`: files, messages, exit codes; it never needs or opens a store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from riskcli.services.synthetic import COLUMNS

Cli = Callable[..., Any]


def test_generate_writes_the_seven_files_without_a_store(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = cli("generate", str(out), "--customers", "300", "--seed", "9")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.csv" for n in COLUMNS)
    header = (out / "customers.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(COLUMNS["customers"])
    assert len((out / "customers.csv").read_text(encoding="utf-8").splitlines()) == 301
    assert "Wrote" in result.stderr and "seed 9, as of 2026-09-30" in result.stderr
    assert "defaulters (91+ days past due)" in result.stderr
    assert result.stdout == ""  # no data on stdout: the files are the data
    assert not (tmp_path / "unset.db").exists()  # RISKCLI_DB points here: never created


def test_same_seed_same_bytes_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    for name in ("a", "b"):
        args = (
            "generate",
            str(tmp_path / name),
            "-n",
            "200",
            "--seed",
            "4",
            "--as-of",
            "2025-12-31",
        )
        assert cli(*args).exit_code == 0
    for name in COLUMNS:
        a = (tmp_path / "a" / f"{name}.csv").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.csv").read_bytes(), name
    dates = (tmp_path / "a" / "transactions.csv").read_text().splitlines()[1:]
    assert max(line.split(",")[3] for line in dates) <= "2025-12-31"


def test_existing_files_need_force(cli: Cli, tmp_path: Path) -> None:
    assert cli("generate", str(tmp_path), "-n", "50").exit_code == 0
    before = (tmp_path / "customers.csv").read_bytes()
    result = cli("generate", str(tmp_path), "-n", "80")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path} already holds customers.csv")
    assert "(use --force to replace)" in result.stderr
    assert (tmp_path / "customers.csv").read_bytes() == before
    result = cli("generate", str(tmp_path), "-n", "80", "--force")
    assert result.exit_code == 0
    assert len((tmp_path / "customers.csv").read_text().splitlines()) == 81


def test_bad_options_are_usage_errors(cli: Cli, tmp_path: Path) -> None:
    cases = [
        (["--customers", "0"], "Error: --customers must be between 1 and 10,000,000"),
        (
            ["--as-of", "2026-02-30"],
            "Error: Invalid value for '--as-of': '2026-02-30' is not a date; use YYYY-MM-DD "
            "or today",
        ),
        (["--transactions-per-customer", "-2"], "Error: --transactions-per-customer must be"),
        (["--workers", "0"], "Error: --workers must be between 1 and 64"),
        (["--format", "csv"], "Error: No such option: --format"),  # CSV only: no choice
    ]
    for extra, message in cases:
        result = cli("generate", str(tmp_path / "x"), *extra)
        assert result.exit_code == 2, extra
        assert result.stderr.startswith(message), result.stderr
    assert not (tmp_path / "x").exists()


def test_out_dir_that_is_a_file_is_an_input_error(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = cli("generate", str(target), "-n", "10")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {target} exists and is not a folder"


def test_help_has_an_example(cli: Cli) -> None:
    result = cli("generate", "--help")
    assert result.exit_code == 0
    assert "riskcli generate ./data --customers" in result.stdout
    assert "--transactions-per-customer" in result.stdout


def test_real_process_quiet_prints_nothing_and_exits_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    proc = subprocess.run(
        [sys.executable, "-m", "riskcli", "--quiet", "generate", str(tmp_path / "q"), "-n", "120"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert (tmp_path / "q" / "financials.csv").exists()

"""init, status, passphrase sources, the error boundary and exit codes, through the CLI."""

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

import pytest
from tests.conftest import PASSPHRASE

Cli = Callable[..., Any]


def test_init_creates_store_and_status_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    db = tmp_path / "book.db"
    monkeypatch.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
    result = cli("--db", str(db), "--user", "carol", "init")
    assert result.exit_code == 0, result.output
    assert db.exists() and Path(f"{db}.keys").exists()
    result = cli("--db", str(db), "--user", "carol", "status", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["store"]["schema_version"].startswith("m")
    assert data["users"] == [
        {
            "user": "carol",
            "role": "admin",
            "kind": "passphrase",
            "created": data["users"][0]["created"],
        }
    ]
    assert {"table": "customers", "rows": 0} in data["tables"]


def test_init_refuses_existing_store(store_env: Path, cli: Cli) -> None:
    before = store_env.read_bytes()
    result = cli("init")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {store_env} already exists; riskcli never overwrites a store\n"
    assert store_env.read_bytes() == before


def test_init_rejects_short_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "short")
    result = cli("--db", str(tmp_path / "x.db"), "init")
    assert result.exit_code == 1
    assert "passphrase too short" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_wrong_passphrase_exit_3(
    store_env: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "not it at all")
    result = cli("status")
    assert result.exit_code == 3
    assert result.stderr == "Error: wrong passphrase for user alice\n"
    assert result.stdout == ""


def test_unknown_user_exit_3(store_env: Path, cli: Cli) -> None:
    result = cli("--user", "mallory", "status")
    assert result.exit_code == 3
    assert result.stderr == "Error: unknown user mallory for this store\n"


def test_no_passphrase_source_and_no_terminal(
    store_env: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    result = cli("status")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no passphrase: set RISKCLI_PASSPHRASE_FILE")


def test_passphrase_file_option_and_env(
    store_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSPHRASE + "\n")
    assert cli("--passphrase-file", str(pw), "status", "-f", "json").exit_code == 0
    monkeypatch.setenv("RISKCLI_PASSPHRASE_FILE", str(pw))
    assert cli("status", "-f", "json").exit_code == 0
    missing = cli("--passphrase-file", str(tmp_path / "nope"), "status")
    assert missing.exit_code == 3
    assert "passphrase file" in missing.stderr and "does not exist" in missing.stderr


def test_passphrase_command_wins_over_env(
    store_env: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "wrong one")
    monkeypatch.setenv("RISKCLI_PASSPHRASE_COMMAND", f"printf '%s' '{PASSPHRASE}'")
    assert cli("status", "-f", "json").exit_code == 0
    monkeypatch.setenv("RISKCLI_PASSPHRASE_COMMAND", "exit 7")
    result = cli("status")
    assert result.exit_code == 3
    assert result.stderr == "Error: RISKCLI_PASSPHRASE_COMMAND failed with exit code 7\n"


def test_status_check_ok(store_env: Path, cli: Cli) -> None:
    result = cli("status", "--check", "-f", "json")
    assert result.exit_code == 0
    checks = json.loads(result.stdout)["checks"]
    assert [c["result"] for c in checks] == ["ok", "ok"]


def test_missing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    monkeypatch.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
    result = cli("--db", str(tmp_path / "none.db"), "status")
    assert result.exit_code == 1
    assert "no store at" in result.stderr and "riskcli init" in result.stderr


def test_usage_error_exit_2(cli: Cli) -> None:
    result = cli("status", "--no-such-option")
    assert result.exit_code == 2


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskcli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_real_process_damaged_store_no_cipher_noise(store_env: Path) -> None:
    data = bytearray(store_env.read_bytes())
    data[200] ^= 0x01
    store_env.write_bytes(bytes(data))
    done = _run(["status"], {})
    assert done.returncode == 4
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no SQLCipher log lines
    assert done.stderr.startswith("Error: store ") and "damaged" in done.stderr
    assert "Traceback" not in done.stderr


def test_real_process_wrong_passphrase(store_env: Path) -> None:
    done = _run(["status"], {"RISKCLI_PASSPHRASE": "bad bad bad"})
    assert done.returncode == 3
    assert done.stderr == "Error: wrong passphrase for user alice\n"
    assert "correct horse" not in done.stdout + done.stderr


def test_piped_output_defaults_to_csv(store_env: Path) -> None:
    done = _run(["status"], {})
    assert done.returncode == 0
    # one parseable result: a single csv table, its first column naming the section
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {r["section"] for r in rows} == {"store", "users", "tables"}
    assert next(r for r in rows if r["section"] == "store")["file"].endswith(".db")

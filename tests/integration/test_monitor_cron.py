"""The cron wrapper in examples/cron: notifies on exit 10, passes other codes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskcli.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "examples" / "cron" / "riskcli-monitor.sh"
PASSPHRASE = "correct horse battery staple"

pytestmark = pytest.mark.slow


def seed(store: Store, due: str) -> None:
    store.execute(
        "INSERT INTO customers (id, external_id, name, credit_limit) VALUES (1, 'C001', 'A', 0)"
    )
    store.execute(
        "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
        "VALUES ('INV-1', 1, '2026-01-01', ?, 500000)",
        (due,),
    )


def wrapper_env(tmp_path: Path, store_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    riskcli = bin_dir / "riskcli"
    # today's date is not fixed in a test: pin the scan date through a shim
    riskcli.write_text(
        f'#!/bin/sh\nexec {sys.executable} -m riskcli "$@" --as-of 2026-06-10\n', encoding="utf-8"
    )
    mail = bin_dir / "mail"
    mail.write_text(
        f'#!/bin/sh\necho "$@" > {tmp_path}/mail.args\ncat > {tmp_path}/mail.body\n',
        encoding="utf-8",
    )
    for exe in (riskcli, mail):
        exe.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.update(
        PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
        RISKCLI_DB=str(store_path), RISKCLI_USER="alice", RISKCLI_PASSPHRASE=PASSPHRASE,
        RISKCLI_ALERT_MAIL="credit@example.com",
    )  # fmt: skip
    return env


def test_wrapper_mails_the_json_when_the_scan_exits_10(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    seed(store, "2026-02-01")  # 129 days past due on 5,000: in default, critical
    result = subprocess.run(
        ["bash", str(WRAPPER)], env=wrapper_env(tmp_path, store_path), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    alerts = json.loads((tmp_path / "mail.body").read_text())
    assert [(a["rule"], a["severity"]) for a in alerts] == [("default", "critical")]
    args = (tmp_path / "mail.args").read_text()
    assert args.startswith("-s riskcli: 1 new or escalated alert(s), some high or worse")
    assert args.strip().endswith("credit@example.com")


def test_wrapper_stays_quiet_below_the_threshold(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    seed(store, "2026-06-01")  # 9 days past due: low
    result = subprocess.run(
        ["bash", str(WRAPPER)], env=wrapper_env(tmp_path, store_path), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "mail.body").exists()


def test_wrapper_passes_riskcli_errors_on(store_path: Path, tmp_path: Path) -> None:
    env = wrapper_env(tmp_path, store_path)
    env["RISKCLI_PASSPHRASE"] = "wrong passphrase"
    result = subprocess.run(["bash", str(WRAPPER)], env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 3
    assert result.stderr == "Error: wrong passphrase for user alice\n"
    assert not (tmp_path / "mail.body").exists()

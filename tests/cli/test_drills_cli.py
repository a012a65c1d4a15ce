"""Drills on a sandbox: every scenario end to end, the real store changed only by the record."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services import drills
from riskcli.storage.store import open_store

EXAMPLES = Path(__file__).parents[2] / "examples"
SCENARIOS = ["data-leak", "key-compromise", "major-default", "industry-shock", "restore"]
BOOK_TABLES = ("customers", "receivables", "score_models", "score_runs", "scores", "alerts")


def _fill(cli: Callable[..., Any]) -> None:
    for kind in ("customers", "receivables", "credit-reports", "financials"):
        cli("import", kind, str(EXAMPLES / f"{kind.replace('-', '_')}.csv"), "--format", "json")
    assert cli("score", "expert").exit_code == 0
    assert cli("score", "run").exit_code == 0


def _fingerprint(db: Path) -> dict[str, str]:
    """What a drill must never change: the book's tables, the keys file, the store id."""
    out = {"keys": hashlib.sha256(Path(f"{db}.keys").read_bytes()).hexdigest()}
    with open_store(db, USER, PASSPHRASE.encode()) as s:
        out["store_id"] = s.keyfile.store_id
        for table in BOOK_TABLES:
            if s.has_table(table):
                rows = sorted(repr(r) for r in s.query(f"SELECT * FROM {table}"))
                out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


@pytest.fixture
def book(store_env: Path, cli: Callable[..., Any]) -> Path:
    _fill(cli)
    return store_env


def _sandbox(cli: Callable[..., Any], folder: Path, n: int = 150) -> None:
    result = cli("sandbox", "create", str(folder), "--generate", str(n), "--format", "json")
    assert result.exit_code == 0, result.output


def _run(cli: Callable[..., Any], command: str) -> int:
    if command.startswith("riskcli "):
        return int(cli(*shlex.split(command)[1:]).exit_code)
    return subprocess.run(command, shell=True, check=False).returncode


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_runs_end_to_end_on_a_sandbox(
    scenario: str, book: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    before = _fingerprint(book)
    folder = tmp_path / "practice"
    _sandbox(cli, folder)
    started = cli("drill", "start", scenario, "--sandbox", str(folder), "--format", "json")
    assert started.exit_code == 0, started.output
    steps = json.loads(started.stdout)
    assert steps and all(
        str(folder.resolve()) in s["command"]
        or not s["command"].startswith("riskcli")
        or s["command"] == "(by hand)"
        for s in steps
    )
    for step in steps:
        if step["command"] != "(by hand)":
            code = _run(cli, step["command"])
            assert code == step["expect_exit"], f"step {step['step']}: {step['command']}"
        done = cli("drill", "step", str(step["step"]), "--done", "--note", "ok", "--format", "json")
        assert done.exit_code == 0, done.output
    assert cli("drill", "finish", "--findings", "plan holds").exit_code == 0
    assert _fingerprint(book) == before
    shown = json.loads(cli("drill", "show", "1", "--format", "json").stdout)
    assert shown["drill"][0]["status"] == "finished"
    assert shown["drill"][0]["steps_done"] == len(steps)
    assert all(s["done_at"] for s in shown["steps"])
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        assert s.scalar("SELECT count(*) FROM drills") == 1


def test_a_drill_on_the_real_store_is_refused(book: Path, cli: Callable[..., Any]) -> None:
    before = _fingerprint(book)
    result = cli("drill", "start", "restore")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: drills run on a sandbox, never on the real store: give --sandbox DIR "
        "(make one with `riskcli sandbox create DIR --generate 2000`)"
    )
    assert _fingerprint(book) == before
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        assert s.scalar("SELECT count(*) FROM drills") == 0


def test_a_real_store_given_as_the_sandbox_is_refused(
    book: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    real = tmp_path / "other"
    real.mkdir()
    (real / "sandbox.db").write_bytes(book.read_bytes())
    (real / "sandbox.db.keys").write_bytes(Path(f"{book}.keys").read_bytes())
    result = cli("drill", "start", "restore", "--sandbox", str(real))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {real} is not a sandbox: drills run on a sandbox, never on a real store"
    )


def test_a_playbook_with_an_unknown_key_is_refused(
    book: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    _sandbox(cli, tmp_path / "practice", 20)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'scenario = "x"\ntitle = "X"\n[[steps]]\ntitle = "a"\ncomand = "riskcli status"\n',
        encoding="utf-8",
    )
    result = cli("drill", "start", str(bad), "--sandbox", str(tmp_path / "practice"))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: playbook bad.toml: unknown key 'steps.0.comand'"
    )
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        assert s.scalar("SELECT count(*) FROM drills") == 0


def test_an_unknown_scenario_names_the_playbooks(
    book: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("drill", "start", "flood", "--sandbox", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: unknown scenario 'flood'; playbooks: data-leak, industry-shock, key-compromise, "
        "major-default, restore, tutorial"
    )


def test_steps_are_timed_and_the_training_record_lists_them(
    book: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    _sandbox(cli, tmp_path / "practice", 20)
    assert cli("drill", "start", "restore", "--sandbox", str(tmp_path / "practice")).exit_code == 0
    assert cli("drill", "step", "2", "--done", "--note", "restored in 3 s").exit_code == 0
    again = cli("drill", "step", "2", "--done")
    assert again.exit_code == 1
    assert again.stderr.strip() == "Error: step 2 of drill 1 is already done"
    out_of_range = cli("drill", "step", "9", "--done")
    assert out_of_range.stderr.strip() == "Error: drill 1 has steps 1 to 4, not 9"
    assert cli("drill", "finish", "--findings", "no backup folder on the NAS").exit_code == 0
    record = json.loads(cli("report", "drills", "--since", "2026-01-01", "--format", "json").stdout)
    drills_rows = next(s for s in record["sections"] if s["key"] == "drills")["rows"]
    assert len(drills_rows) == 1
    row = drills_rows[0]
    assert (row["scenario"], row["user"], row["status"], row["steps_done"]) == (
        "restore", USER, "finished", "1/4")  # fmt: skip
    assert row["minutes_per_step"].startswith("2: ")
    assert row["findings"] == "no backup folder on the NAS"
    listed = json.loads(cli("drill", "list", "--format", "json").stdout)
    assert [r["id"] for r in listed] == [1]
    not_done = cli("drill", "step", "1")
    assert not_done.exit_code == 1
    assert not_done.stderr.strip() == (
        "Error: say --done to record the step (see the steps with `riskcli drill show ID`)"
    )
    none_open = cli("drill", "finish")
    assert none_open.exit_code == 1
    assert none_open.stderr.strip() == (
        "Error: you have no open drill (start one with `riskcli drill start SCENARIO`)"
    )


def test_doctor_warns_on_a_stale_drill(book: Path, cli: Callable[..., Any]) -> None:
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        old = (datetime.now(UTC) - timedelta(days=120)).isoformat(timespec="seconds")
        recent = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds")
        for scenario, when in (("restore", old), ("data-leak", recent)):
            s.execute(
                "INSERT INTO drills(scenario, title, user, sandbox, sandbox_store_id, playbook, "
                "started_at, finished_at) VALUES (?, 't', ?, '/x', 'id', '{}', ?, ?)",
                (scenario, USER, when, when),
            )
    result = cli("doctor", "--format", "json")
    found = {r["check"]: r for r in json.loads(result.stdout)}
    assert found["drill restore"]["status"] == "warn"
    assert found["drill restore"]["detail"] == f"last finished {old[:10]} (limit 3 months)"
    assert found["drill data-leak"]["status"] == "pass"
    assert found["drill key-compromise"]["status"] == "warn"
    assert found["drill key-compromise"]["detail"] == "never drilled (limit 12 months)"


def test_stale_periods_come_from_the_config() -> None:
    cfg = drills.drills_config(
        {"drills": {"stale_months": 6, "stale_months_by_scenario": {"restore": 1}}}
    )
    assert (cfg.stale_months, cfg.stale_months_by_scenario) == (6, {"restore": 1})
    with pytest.raises(Exception, match="unknown key 'stale'"):
        drills.drills_config({"drills": {"stale": 3}})


def test_shipped_playbooks_are_the_examples_and_all_parse() -> None:
    names = sorted(p.stem for p in (EXAMPLES / "drills").glob("*.toml"))
    assert names == sorted([*SCENARIOS, "tutorial"])
    cfg = drills.DrillsConfig()
    assert drills.available(cfg) == names
    for name in names:
        assert drills.load_playbook(name, cfg).scenario == name


@pytest.mark.slow
def test_the_tutorial_runs_on_a_sandbox_and_is_recorded(
    book: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    before = _fingerprint(book)
    _sandbox(cli, tmp_path / "practice", 60)
    result = cli("tutorial", "--sandbox", str(tmp_path / "practice"), "--yes")
    assert result.exit_code == 0, result.output
    assert "Tutorial recorded as drill 1: completed." in result.stderr
    assert "138****" in result.stdout or "****" in result.stdout  # the masked list ran
    listed = json.loads(cli("drill", "list", "--format", "json").stdout)
    assert (listed[0]["scenario"], listed[0]["status"]) == ("tutorial", "finished")
    assert listed[0]["steps_done"] == listed[0]["steps"]
    assert _fingerprint(book) == before

"""One help style, every command's help text intact, global options anywhere, completion."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from riskcli.cli.app import LAZY_COMMANDS, app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = (*prefix, name)
        yield path, command
        if hasattr(command, "commands"):
            yield from _commands(command, path)


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def test_every_help_is_plain_and_shows_its_first_paragraph_in_full(
    cli: Callable[..., Any],
) -> None:
    root = typer.main.get_command(app)
    failures = []
    for path, command in _commands(root):
        result = cli(*path, "--help")
        shown = " ".join(result.output.split())
        if result.exit_code != 0:
            failures.append(f"{' '.join(path)}: exit {result.exit_code}")
        elif _first_paragraph(command.help or "") not in shown:
            failures.append(f"{' '.join(path)}: first paragraph not shown in full")
        elif "╭" in result.output or "<bool>" in result.output:
            failures.append(f"{' '.join(path)}: not the plain help style")
        elif "--install-completion" in result.output:
            failures.append(f"{' '.join(path)}: completion options belong to the root")
    assert not failures, failures


def test_tier_help_keeps_the_bracketed_config_section(cli: Callable[..., Any]) -> None:
    assert "[tiering.policies]" in cli("tier", "policy", "--help").output


def test_root_short_helps_match_the_commands() -> None:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    for name, (_module, _attr, _kind, short) in LAZY_COMMANDS.items():
        assert root.get_command(ctx, name).get_short_help_str(limit=10**6) == short, name


def test_global_options_after_the_command(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "correct horse battery staple")
    db = tmp_path / "late.db"
    result = cli("init", "-q", "--db", str(db), "--user", "bob")
    assert result.exit_code == 0, result.output
    assert db.exists() and result.stderr == ""
    status = cli("status", "--format", "json", "--db", str(db), "-u", "bob")
    assert status.exit_code == 0, status.output
    assert '"bob"' in status.stdout


def test_an_option_the_command_defines_stays_the_commands(
    cli: Callable[..., Any], store_env: Path
) -> None:
    # `audit log --user` filters by user; it is not the global --user
    result = cli("audit", "log", "--user", "nobody", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "[]"


def _complete(env: dict[str, str]) -> str:
    run_env = {**os.environ, **env}
    done = subprocess.run(
        [sys.executable, "-m", "riskcli"], env=run_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bash_completion_completes_commands_and_choices() -> None:
    words = {"_RISKCLI_COMPLETE": "complete_bash", "COMP_WORDS": "riskcli sc", "COMP_CWORD": "1"}
    assert _complete(words).split() == ["score"]
    words = {**words, "COMP_WORDS": "riskcli customers list --format j", "COMP_CWORD": "4"}
    assert _complete(words).split() == ["json", "jsonl"]


def test_zsh_completion_completes_commands() -> None:
    out = _complete({"_RISKCLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "riskcli sc"})
    assert '"score"' in out


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_show_completion_at_the_root(shell: str) -> None:
    # the shell is named, not detected from the parent processes (which differ under pytest)
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "riskcli", "--show-completion", shell],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "_RISKCLI_COMPLETE" in done.stdout


HEAVY = ("pandas", "numpy", "sklearn", "openpyxl", "pyarrow")


def test_help_imports_no_analytics_library() -> None:
    """`riskcli --help` and every `COMMAND ... --help` load none of the heavy libraries."""
    code = f"""
import sys
import typer
from riskcli.cli.app import app

def walk(group, prefix):
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from walk(command, (*prefix, name))

def run(args):
    try:
        app([*args, "--help"], prog_name="riskcli")
    except SystemExit:
        pass

run([])
print("HEAVY:" + ",".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
for path in list(walk(typer.main.get_command(app), ())):
    run(list(path))
print("HEAVY:" + ",".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    root, every = [line[6:] for line in done.stderr.splitlines() if line.startswith("HEAVY:")]
    assert root == "", f"riskcli --help imported {root}"
    assert every == "", f"some COMMAND --help imported {every}"


#: the lookups a user runs many times a day: none may load an analytics library
LOOKUPS = (
    ("customers", "show", "C0000042"),
    ("score", "show", "C0000042"),
    ("score", "explain", "C0000042"),
    ("tier", "show", "C0000042"),
    ("monitor", "alerts", "--customer", "C0000042"),
    ("monitor", "alerts", "--limit", "20"),
    ("monitor", "show", "1"),
    ("audit", "log", "--limit", "20"),
)


def test_lookups_import_no_analytics_library(store_path: Path) -> None:
    """Each lookup, run as a user runs it on a scored and monitored store, loads none of the
    heavy libraries (they cost more than the lookup itself)."""
    import datetime as dt

    from tests.conftest import PASSPHRASE, USER
    from tests.support.credit_sample import populate_store

    from riskcli.services.monitoring.config import MonitoringConfig
    from riskcli.services.monitoring.engine import run_monitor
    from riskcli.services.scoring import service as scoring
    from riskcli.services.scoring.config import ScoringConfig
    from riskcli.services.tiering.service import run_tiering
    from riskcli.storage.store import open_store

    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        populate_store(store, 200, seed=3)
        run_tiering(store, as_of="2026-09-30")
        scoring.setup_expert(store, ScoringConfig(folds=2))
        scoring.run(store, ScoringConfig(folds=2))
        run_monitor(store, MonitoringConfig(), as_of=dt.date(2026, 9, 30))
        assert store.scalar("SELECT count(*) FROM alerts WHERE id = 1") == 1
    env = {
        **os.environ,
        "RISKCLI_DB": str(store_path),
        "RISKCLI_USER": USER,
        "RISKCLI_PASSPHRASE": PASSPHRASE,
    }
    code = f"""
import sys
from riskcli.cli.app import app
try:
    app([*sys.argv[1:], "--format", "json"], prog_name="riskcli")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print("HEAVY:" + ",".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
"""
    for lookup in LOOKUPS:
        done = subprocess.run(
            [sys.executable, "-c", code, *lookup], capture_output=True, text=True, env=env,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, (lookup, done.stderr)
        assert done.stdout.strip(), lookup
        heavy = [line[6:] for line in done.stderr.splitlines() if line.startswith("HEAVY:")]
        assert heavy == [""], f"riskcli {' '.join(lookup)} imported {heavy}"

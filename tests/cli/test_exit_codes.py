"""One exit code per kind of error, as the table in docs/exit-codes.md says: every bad option is
a usage error (exit 2) on one `Error:` line, for every command."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from riskcli.cli.app import app

Cli = Callable[..., Any]
PAGE = (Path(__file__).parents[2] / "docs" / "exit-codes.md").read_text(encoding="utf-8")


def _table() -> dict[int, str]:
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| (.+) \|$", PAGE, re.M)}


def _leaves(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if hasattr(command, "commands"):
            yield from _leaves(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def _options(command: Any) -> set[str]:
    return {o for p in command.params if p.param_type_name == "option" for o in p.opts}


def test_the_page_lists_every_exit_code() -> None:
    table = _table()
    assert set(table) == {0, 1, 2, 3, 4, 10, 130}
    assert "usage" in table[2] and "date" in table[2]
    assert "not an error" in table[10]


def test_every_bad_option_is_a_usage_error_on_one_line(store_env: Path, cli: Cli) -> None:
    cases = []
    for path, command in _leaves(typer.main.get_command(app)):
        options = _options(command)
        cases.append([*path, "--no-such-option"])
        if "--format" in options:
            cases.append([*path, "--format", "xml"])
        if "--limit" in options:
            cases.append([*path, "--limit", "many"])
        if "--as-of" in options:
            cases.append([*path, "--as-of", "31/12/2026"])
    assert len(cases) > 60
    wrong = []
    for args in cases:
        result = cli(*args)
        lines = result.stderr.splitlines()
        if result.exit_code != 2 or len(lines) != 1 or not lines[0].startswith("Error: "):
            wrong.append((" ".join(args), result.exit_code, result.stderr[:120]))
    assert not wrong, wrong

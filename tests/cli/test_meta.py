"""Every command has help text with an example, and the README shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from riskcli.cli.app import app

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield path, command
            yield from _commands(command, path)
        else:
            yield path, command


def test_every_command_has_help_and_is_in_the_readme() -> None:
    root = typer.main.get_command(app)
    missing_help, missing_readme = [], []
    for path, command in _commands(root):
        if not (command.help or "").strip():
            missing_help.append(" ".join(path))
        if f"riskcli {' '.join(path)}" not in README:
            missing_readme.append(" ".join(path))
    assert not missing_help, f"commands without help: {missing_help}"
    assert not missing_readme, f"commands not shown in README.md: {missing_readme}"


def test_leaf_commands_show_an_example() -> None:
    root = typer.main.get_command(app)
    without = [
        " ".join(path)
        for path, command in _commands(root)
        if not hasattr(command, "commands") and "riskcli" not in (command.help or "")
    ]
    assert not without, f"commands whose --help has no example: {without}"

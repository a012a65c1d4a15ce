"""Every command has help text with an example, and the README or the guide (docs/) shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from riskcli.cli.app import app

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The README is a few screens; the guide pages under docs/ show the rest, and their ```sh
# blocks are run by tests/docs/test_guide.py.
GUIDE = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").rglob("*.md")))


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


def test_every_command_has_help_and_is_in_the_readme_or_the_guide() -> None:
    root = typer.main.get_command(app)
    missing_help, missing_docs = [], []
    for path, command in _commands(root):
        if not (command.help or "").strip():
            missing_help.append(" ".join(path))
        shown = f"riskcli {' '.join(path)}"
        if shown not in README and shown not in GUIDE:
            missing_docs.append(" ".join(path))
    assert not missing_help, f"commands without help: {missing_help}"
    assert not missing_docs, f"commands shown neither in README.md nor in docs/: {missing_docs}"


def test_leaf_commands_show_an_example() -> None:
    root = typer.main.get_command(app)
    without = [
        " ".join(path)
        for path, command in _commands(root)
        if not hasattr(command, "commands") and "riskcli" not in (command.help or "")
    ]
    assert not without, f"commands whose --help has no example: {without}"

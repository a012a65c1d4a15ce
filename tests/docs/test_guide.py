"""The guide cannot drift from the code: every ```sh block of README.md and of every page under
docs/ is run, command by command, and each command's exit code is checked.

How a page is run:
- in a fresh temporary folder holding a copy of `examples/`, with `riskcli` on PATH and
  RISKCLI_DB (`book.db` in that folder), RISKCLI_USER and RISKCLI_PASSPHRASE set;
- the store is the example book already imported, tiered, scored and scanned as of 2026-09-30
  (see `_book`), unless the page says `<!-- guide-test: no-store -->`: then there is no store and
  the page creates its own;
- the blocks of a page run in order in one bash process (`set -o pipefail`), so files and
  variables carry from block to block;
- a command must exit 0, unless its line carries `# exit N` (e.g. `riskcli monitor run
  --fail-on high   # exit 10`). A line ending in `\\` continues on the next.
Blocks fenced as anything else (```console, ```toml, ```text) are shown, never run: use them for
what cannot run here (make targets, crontab lines, commands that need a terminal).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PASSPHRASE = "correct horse battery staple"
NO_STORE = "<!-- guide-test: no-store -->"
_FENCE = re.compile(r"^```sh[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"#\s*exit\s+(\d+)\b")


@dataclass(frozen=True)
class Command:
    text: str
    line: int  # 1-based line in the page where the command starts
    exit_code: int


def commands(page: str) -> list[Command]:
    """The commands of a page's ```sh blocks, in order, continuation lines joined."""
    found: list[Command] = []
    for block in _FENCE.finditer(page):
        first_line = page.count("\n", 0, block.start(1)) + 1
        pending: list[str] = []
        start = 0
        for offset, raw in enumerate(block.group(1).splitlines()):
            line = raw.rstrip()
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if not pending:
                start = first_line + offset
            pending.append(line)
            if line.endswith("\\"):
                continue
            text = "\n".join(pending)
            match = _EXIT.search(text)
            found.append(Command(text, start, int(match.group(1)) if match else 0))
            pending = []
        if pending:
            text = "\n".join(pending)
            found.append(Command(text, start, 0))
    return found


def script(name: str, cmds: list[Command]) -> str:
    """A bash script that runs `cmds` and stops at the first unexpected exit code."""
    out = [
        "set -o pipefail",
        'check() { if [ "$1" -ne "$2" ]; then',
        '  printf \'\\n!! %s: exit %s, expected %s\\n\' "$3" "$1" "$2"; exit 97; fi; }',
    ]
    for cmd in cmds:
        where = f"{name}:{cmd.line}"
        out.append(f"printf '\\n$ %s\\n' {shlex.quote(cmd.text)}")
        out.append(cmd.text)
        out.append(f"check $? {cmd.exit_code} {shlex.quote(where)}")
    out.append("exit 0")
    return "\n".join(out) + "\n"


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _env(work: Path) -> dict[str, str]:
    bin_dir = work / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "riskcli"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m riskcli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    (work / "home").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(work / "home"),
        RISKCLI_DB=str(work / "book.db"),
        RISKCLI_USER="alice",
        RISKCLI_PASSPHRASE=PASSPHRASE,
        NO_COLOR="1",
        COLUMNS="120",
    )
    return env


def run_page(name: str, text: str, work: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script(name, commands(text))],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        check=False,
    )
    return proc.returncode, proc.stdout


@pytest.fixture(scope="module")
def _book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example book in a store: imported, tiered, scored and scanned as of 2026-09-30."""
    work = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "examples", work / "examples")
    kinds = "customers transactions receivables credit-reports contracts interactions financials"
    setup = f"""```sh
riskcli init
for kind in {kinds}; do riskcli -q import "$kind" "examples/${{kind//-/_}}.csv" >/dev/null; done
riskcli -q tier run --as-of 2026-09-30 >/dev/null
riskcli -q score expert >/dev/null
riskcli -q score run --as-of 2026-09-30 >/dev/null
riskcli -q monitor run --as-of 2026-09-30 >/dev/null
```
"""
    code, log = run_page("setup", setup, work, _env(work))
    assert code == 0, log
    return work / "book.db"


@pytest.mark.slow
@pytest.mark.parametrize(
    "page",
    [p for p in pages() if commands(p.read_text(encoding="utf-8"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_guide_commands_run(page: Path, _book: Path, tmp_path: Path) -> None:
    text = page.read_text(encoding="utf-8")
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    if NO_STORE not in text:
        for part in _book.parent.glob(_book.name + "*"):
            shutil.copy2(part, work / part.name)
    name = str(page.relative_to(ROOT))
    code, log = run_page(name, text, work, _env(work))
    assert code == 0, f"{name}: a command did not exit as documented\n{log[-6000:]}"


def test_commands_are_parsed_with_their_expected_exit_codes() -> None:
    page = (
        "text\n```sh\n# a comment\nriskcli status\n\nriskcli monitor run \\\n"
        "  --fail-on high      # exit 10\n```\n```console\n$ make test\n```\n"
        "```sh\nriskcli doctor   # exit 1 when a check fails\n```\n"
    )
    assert commands(page) == [
        Command("riskcli status", 4, 0),
        Command("riskcli monitor run \\\n  --fail-on high      # exit 10", 6, 10),
        Command("riskcli doctor   # exit 1 when a check fails", 13, 1),
    ]


@pytest.mark.parametrize(
    ("block", "ok"),
    [("true\nfalse   # exit 1\n", True), ("false\n", False), ("true   # exit 3\n", False)],
)
def test_an_unexpected_exit_code_fails_the_page(block: str, ok: bool, tmp_path: Path) -> None:
    code, log = run_page("page.md", f"```sh\n{block}```\n", tmp_path, _env(tmp_path))
    assert (code == 0) is ok, log
    if not ok:
        assert "!! page.md:" in log


def test_every_page_is_in_the_site_and_builds_without_warnings(tmp_path: Path) -> None:
    """`make docs`: the MkDocs site builds in strict mode (broken links and anchors fail)."""
    pytest.importorskip("mkdocs")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # the theme's end-of-life banner
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for page in (ROOT / "docs").rglob("*.md"):
        rel = page.relative_to(ROOT / "docs").with_suffix("")
        html = tmp_path / ("index.html" if rel.name == "index" else rel / "index.html")
        assert html.is_file(), f"{page} is not in the built site"

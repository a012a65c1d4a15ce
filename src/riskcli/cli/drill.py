"""`riskcli drill` and `riskcli tutorial`: emergency drills and training on a sandbox."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import Session, get_globals, session
from riskcli.cli.output import FormatOpt
from riskcli.cli.secrets import passphrase
from riskcli.domain.errors import InputError
from riskcli.services import drills, sandbox
from riskcli.storage.store import open_store

app = typer.Typer(
    help="Emergency drills on a sandbox (data leak, key compromise, major default, industry "
    "shock, restore): playbooks, progress, findings, the training record.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SandboxOpt = Annotated[
    Path | None,
    typer.Option(
        "--sandbox",
        help="Sandbox folder (see `riskcli sandbox create`). Default: --db, if a sandbox.",
    ),
]
IdOpt = Annotated[
    int | None, typer.Option("--id", help="The drill (default: your newest open drill).")
]


@dataclass(frozen=True)
class Target:
    db: Path
    store_id: str


def resolve_sandbox(s: Session, secret: bytes, folder: Path | None) -> Target:
    """The sandbox a drill runs on; the real store is refused."""
    if folder is None:
        if sandbox.is_sandbox(s.store):
            return Target(s.store.path, s.store.keyfile.store_id)
        raise InputError(
            "drills run on a sandbox, never on the real store: give --sandbox DIR "
            "(make one with `riskcli sandbox create DIR --generate 2000`)"
        )
    db = sandbox.sandbox_db(folder)
    if not db.exists():
        raise InputError(
            f"no sandbox at {folder} (make one with `riskcli sandbox create {folder}`)"
        )
    other = open_store(db, s.user, secret)
    try:
        if not sandbox.is_sandbox(other):
            raise InputError(
                f"{folder} is not a sandbox: drills run on a sandbox, never on a real store"
            )
        return Target(db, other.keyfile.store_id)
    finally:
        other.close()


def _secret(ctx: typer.Context) -> bytes:
    g = get_globals(ctx)
    return passphrase(g.passphrase_file, g.user)


@app.command("start")
def start(
    ctx: typer.Context,
    scenario: Annotated[
        str,
        typer.Argument(
            help="data-leak, key-compromise, major-default, industry-shock, restore, or a "
            "playbook .toml file."
        ),
    ],
    folder: SandboxOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Open a drill on a sandbox and print its playbook: the steps, each with the command that
    does it. The record (who, when, each step's time, the findings) stays in --db.

    Example: riskcli drill start data-leak --sandbox ./practice
    """
    secret = _secret(ctx)
    with session(ctx, "drill.run", secret=secret) as s:
        playbook = drills.load_playbook(scenario, drills.drills_config(s.config), s.store.path)
        target = resolve_sandbox(s, secret, folder)
        started = drills.start(s.store, playbook, target.db, target.store_id)
        s.audit_affected(drill=started.drill_id, scenario=playbook.scenario)
    output.info(f"Drill {started.drill_id}: {playbook.title} — on sandbox {target.db.parent}")
    if playbook.summary:
        output.info(playbook.summary)
    output.info("Mark each step with `riskcli drill step N --done [--note TEXT]`.")
    output.render(started.rows(), fmt)


@app.command("step")
def step(
    ctx: typer.Context,
    n: Annotated[int, typer.Argument(help="The step number.")],
    done: Annotated[bool, typer.Option("--done", help="Mark the step done (required).")] = False,
    note: Annotated[str | None, typer.Option("--note", help="What happened.")] = None,
    drill_id: IdOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Record a step of your open drill as done, with the minutes since the previous one.

    Example: riskcli drill step 3 --done --note "exposure list sent to the DPO"
    """
    if not done:
        raise InputError(
            "say --done to record the step (see the steps with `riskcli drill show ID`)"
        )
    with session(ctx, "drill.run") as s:
        row = drills.step_done(s.store, n, note=note, drill_id=drill_id)
        s.audit_affected(drill=row["drill"], step=n)
    output.render(row, fmt)


@app.command("finish")
def finish(
    ctx: typer.Context,
    findings: Annotated[
        str | None, typer.Option("--findings", help="What to improve in the plan.")
    ] = None,
    drill_id: IdOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Close your open drill with its findings.

    Example: riskcli drill finish --findings "backups older than the rotation were not listed"
    """
    with session(ctx, "drill.run") as s:
        ident = drills.finish(s.store, findings=findings, drill_id=drill_id)
        rows = drills.show(s.store, ident)["drill"]
        s.audit_affected(drill=ident)
    output.render(rows[0], fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    scenario: Annotated[str | None, typer.Option("--scenario", help="Only this one.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """All drills and completed tutorials: who, when, scenario, steps done, minutes, findings.

    Example: riskcli drill list --scenario restore
    """
    with session(ctx, "drill.read") as s:
        rows = drills.list_drills(s.store, scenario=scenario)
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, empty_message="no drills yet")


@app.command("show")
def show(
    ctx: typer.Context,
    drill_id: Annotated[int, typer.Argument(metavar="ID", help="The drill.")],
    fmt: FormatOpt = None,
) -> None:
    """One drill with its steps: command, when done, minutes, note.

    Example: riskcli drill show 4
    """
    with session(ctx, "drill.read") as s:
        data = drills.show(s.store, drill_id)
        s.audit_affected(drill=drill_id)
    output.render_sections(data, fmt)


# ---- the tutorial ------------------------------------------------------------------------------
def tutorial_command(
    ctx: typer.Context,
    folder: SandboxOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Run every step without waiting for Enter.")
    ] = False,
) -> None:
    """A guided walkthrough on a sandbox: each step explains one practice (masking and --reveal,
    passphrase sources, grades and reasons, the alert queue, limits) and runs its command there.
    Completing it is recorded like a drill.

    Example: riskcli tutorial --sandbox ./practice
    """
    secret = _secret(ctx)
    g = get_globals(ctx)
    with session(ctx, "drill.run", secret=secret) as s:
        playbook = drills.load_playbook(
            drills.TUTORIAL, drills.drills_config(s.config), s.store.path
        )
        target = resolve_sandbox(s, secret, folder)
        started = drills.start(s.store, playbook, target.db, target.store_id)
        failed = 0
        pause = not yes and sys.stdin.isatty()
        for i, (st, command) in enumerate(zip(playbook.steps, started.commands, strict=True), 1):
            code = st.expect_exit
            output.info(f"\n— Step {i}/{len(playbook.steps)}: {st.title}")
            if st.explain:
                output.info(st.explain)
            if command:
                output.info(f"$ {command}")
                if pause:
                    typer.prompt("Enter to run it", default="", show_default=False)
                code = _run(command, g.user, secret)
                if code != st.expect_exit:
                    failed += 1
            drills.step_done(
                s.store, i, drill_id=started.drill_id,
                note=None if code == st.expect_exit else f"exit {code}",
            )  # fmt: skip
        findings = "completed" if not failed else f"{failed} step(s) did not run cleanly"
        drills.finish(s.store, findings=findings, drill_id=started.drill_id)
        s.audit_affected(drill=started.drill_id, scenario=drills.TUTORIAL, failed=failed)
    output.info(f"\nTutorial recorded as drill {started.drill_id}: {findings}.")


def _run(command: str, user: str, secret: bytes) -> int:
    """Run one riskcli step in a child process on the sandbox and pass its output through."""
    words = shlex.split(command)
    if words[:1] == ["riskcli"]:
        words = [sys.executable, "-m", "riskcli", *words[1:]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_PASSPHRASE")}
    env |= {"RISKCLI_USER": user, "RISKCLI_PASSPHRASE": secret.decode("utf-8", "replace")}
    done = subprocess.run(words, env=env, capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    if done.stderr:
        sys.stderr.write(done.stderr)
    return done.returncode

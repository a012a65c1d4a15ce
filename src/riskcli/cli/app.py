"""The root command: global options, sub-apps, and the one error boundary."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from riskcli import __version__
from riskcli import config as settings
from riskcli.cli import output
from riskcli.cli.context import Globals, set_globals
from riskcli.domain.errors import AlertsFound, RiskError

#: command name -> (module, attribute, kind, short help); loaded only when the command runs, so
#: a command pays for the libraries it uses and `riskcli --help` imports none of them. The short
#: help is the first sentence of the command's own help (tests/cli/test_help.py keeps them equal).
LAZY_COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "import": (
        "riskcli.cli.imports",
        "app",
        "group",
        "Import customer data from CSV, TSV, JSON Lines, JSON or XLSX (UTF-8 or GBK).",
    ),
    "customers": (
        "riskcli.cli.customers",
        "app",
        "group",
        "Read the customer book: list with filters, or one customer in full.",
    ),
    "contracts": (
        "riskcli.cli.contracts",
        "app",
        "group",
        "Contracts and their renewal dates, with the customers' open alerts.",
    ),
    "tier": (
        "riskcli.cli.tier",
        "app",
        "group",
        "Tier customers by value: RFM segments, tiers A-D, lifecycle stages, history.",
    ),
    "score": (
        "riskcli.cli.score",
        "app",
        "group",
        "Credit scoring: train or configure scorecards, score customers, explain, export.",
    ),
    "monitor": (
        "riskcli.cli.monitor",
        "app",
        "group",
        "Watch customers for warning signs: rules, alerts with a lifecycle, cron-ready runs.",
    ),
    "backup": (
        "riskcli.cli.backup",
        "app",
        "group",
        "Back the store up into verified, optionally age-encrypted files; list, verify, prune "
        "and drill them.",
    ),
    "restore": (
        "riskcli.cli.backup",
        "restore_command",
        "command",
        "Verify a backup, then put its store and keys file in place atomically.",
    ),
    "user": ("riskcli.cli.users", "app", "group", "Users and roles."),
    "key": ("riskcli.cli.key", "app", "group", "The store's master key."),
    "audit": (
        "riskcli.cli.audit",
        "app",
        "group",
        "The tamper-evident audit trail: who did what, when, to which records.",
    ),
    "doctor": (
        "riskcli.cli.doctor",
        "doctor_command",
        "command",
        "Check permissions, KDF cost, users, admins, backups, drills, the audit trail, "
        "secure_delete and integrity: one pass/warn/fail line each, with how to fix it.",
    ),
    "report": (
        "riskcli.cli.report",
        "app",
        "group",
        "Risk reports: portfolio, customer profile, audit — as table, CSV, JSON, XLSX or an "
        "offline HTML file with charts.",
    ),
    "generate": (
        "riskcli.cli.generate",
        "app",
        "group",
        "Write customers, transactions, receivables, credit_reports, contracts, interactions "
        "and financials CSV files with the canonical import columns, consistent and "
        "reproducible by seed.",
    ),
    "export": (
        "riskcli.cli.export",
        "app",
        "group",
        "Export the canonical tables (Parquet).",
    ),
    "receivables": (
        "riskcli.cli.receivables",
        "app",
        "group",
        "Write invoices off, record recoveries, list open and written-off invoices.",
    ),
    "limits": (
        "riskcli.cli.limits",
        "app",
        "group",
        "Credit limits under control: requests, maker-checker approval, expiry, review.",
    ),
    "sandbox": (
        "riskcli.cli.sandbox",
        "app",
        "group",
        "Practice stores for drills and training: restored from a backup or generated, with "
        "their own store id and keys, never mistaken for the real book.",
    ),
    "drill": (
        "riskcli.cli.drill",
        "app",
        "group",
        "Emergency drills on a sandbox (data leak, key compromise, major default, industry "
        "shock, restore): playbooks, progress, findings, the training record.",
    ),
    "tutorial": (
        "riskcli.cli.drill",
        "tutorial_command",
        "command",
        "A guided walkthrough on a sandbox: each step explains one practice (masking and "
        "--reveal, passphrase sources, grades and reasons, the alert queue, limits) and runs its "
        "command there.",
    ),
    "unlock": (
        "riskcli.cli.unlock",
        "unlock_command",
        "command",
        "Unlock the store once for a while: print a session key for RISKCLI_SESSION.",
    ),
    "lock": (
        "riskcli.cli.unlock",
        "lock_command",
        "command",
        "End your unlock session of this store now (it also ends by itself when it expires).",
    ),
}

#: options every sub-app's Typer would add on its own; completion lives at the root only
_SUB_APP_OPTIONS = {"install_completion", "show_completion"}


def _load(name: str) -> Any:
    module_name, attr, kind, _help = LAZY_COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attr)
    if kind == "group":
        command = typer.main.get_command(target)
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _one_help_style(command)
    return command


def _one_help_style(command: Any) -> None:
    """Plain help for every command (no boxed panels, no markup to swallow `[section]` names,
    flags shown as flags), and no per-group completion options."""
    command.rich_markup_mode = None
    command.params = [p for p in command.params if p.name not in _SUB_APP_OPTIONS]
    for sub in getattr(command, "commands", {}).values():
        _one_help_style(sub)


def _global_options(group: Any) -> dict[str, bool]:
    """The root's options that may also follow the command: option string -> takes a value."""
    found: dict[str, bool] = {}
    for param in group.params:
        if param.param_type_name != "option" or param.name in {"version", *_SUB_APP_OPTIONS}:
            continue
        for opt in (*param.opts, *param.secondary_opts):
            found[opt] = not (param.is_flag or param.count)
    return found


def _takes_value(command: Any) -> dict[str, bool]:
    found: dict[str, bool] = {"--help": False}
    for param in command.params:
        if param.param_type_name == "option":
            for opt in (*param.opts, *param.secondary_opts):
                found[opt] = not (param.is_flag or param.count)
    return found


def hoist_global_options(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """Move global options given after the command (`riskcli init -q`) before it.

    An option the command defines itself (`audit log --user`) stays the command's; `--` ends
    the options.
    """
    globals_ = _global_options(group)
    i = 0
    while i < len(args) and args[i].startswith("-"):  # global options before the command
        i += 2 if globals_.get(args[i]) else 1
    head, rest = args[:i], args[i:]
    if not rest:
        return args
    command = group.get_command(ctx, rest[0]) if rest[0] in group.list_commands(ctx) else None
    if command is None:
        return args
    own: dict[str, bool] = dict(_takes_value(command))
    path = 1
    while hasattr(command, "commands") and path < len(rest) and rest[path] in command.commands:
        command = command.commands[rest[path]]
        own.update(_takes_value(command))
        path += 1
    moved: list[str] = []
    kept: list[str] = rest[:path]
    j = path
    while j < len(rest):
        token = rest[j]
        if token == "--":
            kept.extend(rest[j:])
            break
        name = token.split("=", 1)[0]
        if name in globals_ and name not in own:
            if globals_[name] and "=" not in token and j + 1 < len(rest):
                moved.extend(rest[j : j + 2])
                j += 2
            else:
                moved.append(token)
                j += 1
            continue
        kept.append(token)
        if own.get(name) and "=" not in token and j + 1 < len(rest):
            kept.append(rest[j + 1])
            j += 1
        j += 1
    return [*head, *moved, *kept]


class OneLineUsageError(ClickException):
    """A usage error (a bad option value, an unknown option, a missing argument) shown as one
    `Error: ...` line like every other error, with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        output.error(self.format_message())


def _one_line(exc: ClickUsageError) -> ClickException:
    if isinstance(exc, NoArgsIsHelpError):  # `riskcli tier` with nothing after: the help
        return exc
    # Typer words a refused choice "Value error, 'x' is not one of ...": the value's error alone
    return OneLineUsageError(exc.format_message().replace(": Value error, ", ": "))


class RiskGroup(TyperGroup):
    """The root group: loads sub-apps lazily and is the one error boundary.

    Every typed error raised below becomes `Error: <message>` on stderr and its exit code.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            self.commands[cmd_name] = _load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, args))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from the table above: `riskcli --help` loads no sub-app."""
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, LAZY_COMMANDS[name][3]))
            else:
                command = self.get_command(ctx, name)
                rows.append((name, command.get_short_help_str(limit=10**6)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except ClickUsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClickUsageError as exc:
            raise _one_line(exc) from None
        except AlertsFound as exc:  # a designed outcome, not a failure: a summary, no "Error:"
            print(str(exc), file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None
        except RiskError as exc:
            output.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            output.error("interrupted; nothing was changed")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:
            # the reader of our stdout went away (e.g. `| head`): not an error of ours
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:
            if os.environ.get("RISKCLI_DEBUG"):
                traceback.print_exc()
            output.error(
                f"internal error ({type(exc).__name__}); "
                "set RISKCLI_DEBUG=1 to see the traceback and report it"
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=RiskGroup,
    name="riskcli",
    help="Keep a company's customer risk under control: one encrypted store, import, tiering, "
    "scoring, monitoring, backup, audit and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Store file. Env: RISKCLI_DB. Default: ./riskcli.db"),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", "-u", help="User name. Env: RISKCLI_USER. Default: login name."),
    ] = None,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--passphrase-file",
            help="Read the passphrase (or a service token) from this file. "
            "Env: RISKCLI_PASSPHRASE_FILE.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML settings. Env: RISKCLI_CONFIG. Default: riskcli.toml beside the store.",
        ),
    ] = None,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="Audit anchor file. Env: RISKCLI_ANCHOR. Default: <db>.anchor beside the store.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only data and errors; no messages or progress.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Phase lines of long work even when stderr is not a terminal."
        ),
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            metavar="SECONDS",
            help="How long a change waits for another process's write to finish. "
            "Env: RISKCLI_WAIT. Default: 60.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """riskcli: the customer book in one encrypted file, and the commands that keep it safe."""
    env_anchor = os.environ.get("RISKCLI_ANCHOR")
    g = Globals(
        db=settings.db_path(db),
        user=settings.user_name(user),
        passphrase_file=passphrase_file,
        config=config,
        anchor=anchor or (Path(env_anchor) if env_anchor else None),
        quiet=quiet,
        wait=settings.wait_seconds(wait),
    )
    output.STATE.quiet = quiet
    output.STATE.sandbox, output.STATE.sandbox_shown = None, False  # set when a sandbox opens
    output.STATE.verbose = verbose
    ctx.obj = g
    set_globals(g)


from riskcli.cli import store_cmds  # noqa: E402  (after `app` exists)

store_cmds.register(app)


def main() -> None:
    app(prog_name="riskcli")

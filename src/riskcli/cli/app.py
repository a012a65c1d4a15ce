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
from typer.core import TyperGroup

from riskcli import __version__
from riskcli import config as settings
from riskcli.cli import output
from riskcli.cli.context import Globals, set_globals
from riskcli.domain.errors import RiskError

#: command name -> (module, attribute, kind); loaded only when the command runs, so a command
#: pays for the libraries it uses and `riskcli status` does not import scikit-learn.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "import": ("riskcli.cli.imports", "app", "group"),
    "customers": ("riskcli.cli.customers", "app", "group"),
    "contracts": ("riskcli.cli.contracts", "app", "group"),
    "tier": ("riskcli.cli.tier", "app", "group"),
    "score": ("riskcli.cli.score", "app", "group"),
    "monitor": ("riskcli.cli.monitor", "app", "group"),
    "backup": ("riskcli.cli.backup", "app", "group"),
    "restore": ("riskcli.cli.backup", "restore_command", "command"),
    "user": ("riskcli.cli.users", "app", "group"),
    "key": ("riskcli.cli.key", "app", "group"),
    "audit": ("riskcli.cli.audit", "app", "group"),
    "doctor": ("riskcli.cli.doctor", "doctor_command", "command"),
    "report": ("riskcli.cli.report", "app", "group"),
    "generate": ("riskcli.cli.generate", "app", "group"),
}


def _load(name: str) -> Any:
    module_name, attr, kind = LAZY_COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attr)
    if kind == "group":
        command = typer.main.get_command(target)
    else:
        single = typer.Typer(rich_markup_mode=None)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


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

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
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
    add_completion=False,
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
    ctx.obj = g
    set_globals(g)


from riskcli.cli import store_cmds  # noqa: E402  (after `app` exists)

store_cmds.register(app)


def main() -> None:
    app()

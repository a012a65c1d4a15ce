"""The root command: global options, sub-apps, and the one error boundary."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from riskcli import __version__
from riskcli import config as settings
from riskcli.cli import output
from riskcli.cli.context import Globals, set_globals
from riskcli.domain.errors import RiskError


class RiskGroup(TyperGroup):
    """Turns every typed error raised below into `Error: <message>` and its exit code."""

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
    )
    output.STATE.quiet = quiet
    ctx.obj = g
    set_globals(g)


def _register() -> None:
    from riskcli.cli import store_cmds

    store_cmds.register(app)
    import importlib
    import importlib.util

    # (module, attribute, command name, kind) — sub-apps and top-level commands
    entries = [
        ("riskcli.cli.imports", "app", "import", "group"),
        ("riskcli.cli.customers", "app", "customers", "group"),
        ("riskcli.cli.generate", "app", "generate", "group"),
        ("riskcli.cli.tier", "app", "tier", "group"),
        ("riskcli.cli.score", "app", "score", "group"),
        ("riskcli.cli.monitor", "app", "monitor", "group"),
        ("riskcli.cli.contracts", "app", "contracts", "group"),
        ("riskcli.cli.backup", "app", "backup", "group"),
        ("riskcli.cli.backup", "restore_command", "restore", "command"),
        ("riskcli.cli.users", "app", "user", "group"),
        ("riskcli.cli.key", "app", "key", "group"),
        ("riskcli.cli.audit", "app", "audit", "group"),
        ("riskcli.cli.doctor", "doctor_command", "doctor", "command"),
        ("riskcli.cli.report", "app", "report", "group"),
    ]
    for module_name, attr, name, kind in entries:
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        target = getattr(module, attr, None)
        if target is None:
            continue
        if kind == "group":
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)


_register()


def main() -> None:
    app()

"""`riskcli sandbox create|remove`: practice stores for drills and training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import announce_sandbox, get_globals, record
from riskcli.cli.output import FormatOpt
from riskcli.cli.secrets import passphrase
from riskcli.domain.errors import UsageError
from riskcli.services import sandbox
from riskcli.storage.store import open_store

app = typer.Typer(
    help="Practice stores for drills and training: restored from a backup or generated, with "
    "their own store id and keys, never mistaken for the real book.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DEFAULT_CUSTOMERS = 2000  # enough for every scenario and the tutorial, made in about a second
FolderArg = Annotated[Path, typer.Argument(metavar="DIR", help="The sandbox folder.")]


@app.command("create")
def create(
    ctx: typer.Context,
    folder: FolderArg,
    from_backup: Annotated[
        Path | None,
        typer.Option("--from-backup", help="Restore this backup file into the sandbox."),
    ] = None,
    generate: Annotated[
        int | None,
        typer.Option(
            "--generate", help="A synthetic book of N customers (the default, with 2000)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic book.")] = 42,
    identity: Annotated[
        Path | None,
        typer.Option("--identity", "-i", help="age identity file for an age-encrypted backup."),
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Make a practice store in a new (or empty) folder DIR: restored from a backup (the real
    store is not touched) or generated. It gets its own store id and master key, and only you
    hold a slot in it (with your role in the backup; admin in a generated one). Your passphrase
    is read as usual and opens the sandbox too.

    Example: riskcli sandbox create ./practice --generate 2000
    Example: riskcli sandbox create ./leak-drill --from-backup nightly.rcbk
    """
    if from_backup is not None and generate is not None:
        raise UsageError("give --from-backup FILE or --generate N, not both")
    g = get_globals(ctx)
    secret = passphrase(g.passphrase_file, g.user)
    if from_backup is None:
        n = DEFAULT_CUSTOMERS if generate is None else generate
        created = sandbox.create_generated(folder, g.user, secret, customers=n, seed=seed)
    else:
        from riskcli.services.backup import agewrap

        ids = agewrap.load_identities(identity) if identity is not None else None
        backup = Path(str(from_backup))
        created = sandbox.create_from_backup(folder, backup, g.user, secret, identities=ids)
    store = open_store(created.store, g.user, secret)
    try:
        announce_sandbox(store)
        record(store, ctx, "sandbox.create", "ok", {"source": created.source})
    finally:
        store.close()
    output.info(
        f"Sandbox ready: run commands on it with `riskcli --db {created.store} ...`, "
        f"a drill with `riskcli drill start SCENARIO --sandbox {folder}`."
    )
    output.render(created.as_row(), fmt)


@app.command("remove")
def remove(ctx: typer.Context, folder: FolderArg, fmt: FormatOpt = None) -> None:
    """Delete a sandbox: it must open with your passphrase and say it is a sandbox; every file
    is overwritten with zeros, synced and unlinked, and the folder removed.

    Example: riskcli sandbox remove ./practice
    """
    g = get_globals(ctx)
    sandbox.check_removable(folder, g.db)
    row = sandbox.remove(folder, g.user, passphrase(g.passphrase_file, g.user), real_db=g.db)
    output.info(f"Sandbox {folder} removed ({row['files_shredded']} files overwritten).")
    output.render(row, fmt)

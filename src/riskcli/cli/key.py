"""`riskcli key rotate`: a new master key for the store."""

from __future__ import annotations

import typer

from riskcli.cli import output
from riskcli.cli.context import session
from riskcli.cli.output import FormatOpt
from riskcli.services import access

app = typer.Typer(help="The store's master key.", no_args_is_help=True)


@app.callback()
def key() -> None:
    """The store's master key: `riskcli key rotate`."""


@app.command("rotate")
def rotate(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Re-encrypt the store under a new master key and re-seal it to every user. Admins only.

    Use it after a suspected leak of a passphrase or of the master key. Backups taken
    earlier keep the old key.

    Example: riskcli key rotate
    """
    with session(ctx, "key.rotate") as s:
        rotation = access.rotate(s.store)
        s.audit_affected(key_rotated=True, count=len(rotation.users))
    output.render(rotation.summary(), fmt)
    output.warn(rotation.note)

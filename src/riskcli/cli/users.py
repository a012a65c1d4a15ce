"""`riskcli user`: add, list, remove, passwd, role."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import get_globals, session
from riskcli.cli.output import FormatOpt
from riskcli.cli.secrets import read_secret_file
from riskcli.domain.errors import InputError, UsageError
from riskcli.domain.permissions import ROLES
from riskcli.services import access

app = typer.Typer(
    help="Users and roles. Each user has their own keyslot; removing one rotates the key.",
    no_args_is_help=True,
)

NewPassphraseOpt = Annotated[
    Path | None,
    typer.Option(
        "--new-passphrase-file",
        help="Read the new passphrase from this file instead of asking twice on a terminal.",
    ),
]
TokenFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="Service user: write a random token to this new file (mode 0600) instead of a "
        "passphrase; the user unlocks with --passphrase-file / RISKCLI_PASSPHRASE_FILE=PATH.",
    ),
]
ROLE_HELP = f"One of: {', '.join(ROLES)}."


def ask_new_passphrase(file_option: Path | None, user: str) -> bytes:
    """The new passphrase: from --new-passphrase-file, or typed twice on a terminal. Never the
    caller's own passphrase sources, which would silently hand them to another user."""
    if file_option is not None:
        return access.check_secret(read_secret_file(file_option))
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask the new passphrase on: give --new-passphrase-file")
    first = getpass.getpass(f"New passphrase for {user}: ")
    second = getpass.getpass("Repeat it: ")
    if first != second:
        raise InputError("the two passphrases differ")
    return access.check_secret(first.encode("utf-8"))


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The new user's name.")],
    role: Annotated[str, typer.Option("--role", "-r", help=ROLE_HELP)],
    token_file: TokenFileOpt = None,
    new_passphrase_file: NewPassphraseOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Add a user with their own keyslot (no re-encryption). Admins only.

    Example: riskcli user add bob --role analyst
    Example: riskcli user add cron --role operator --token-file /etc/riskcli/cron.token
    """
    access.check_name(name)
    access.check_role(role)
    if token_file is not None and new_passphrase_file is not None:
        raise UsageError("give --token-file or --new-passphrase-file, not both")
    with session(ctx, "users.admin") as s:
        secret = None if token_file else ask_new_passphrase(new_passphrase_file, name)
        row = access.add_user(s.store, name, role, secret=secret, token_file=token_file)
        s.audit_affected(users=[name], role=role)
    output.render(row, fmt)
    if token_file is not None:
        output.info(f"Token written to {token_file} (mode 0600); keep it like a password.")


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """List users: role, slot kind, KDF cost, newest activity.

    Example: riskcli user list --format json
    """
    with session(ctx, "users.read") as s:
        rows = access.list_users(s.store)
        s.audit_affected(count=len(rows))
    output.render(rows, fmt)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user to remove.")],
    fmt: FormatOpt = None,
) -> None:
    """Remove a user and rotate the master key, so their old key opens nothing. Admins only.

    Backups taken earlier keep their old access. The last admin cannot be removed.

    Example: riskcli user remove bob
    """
    with session(ctx, "users.admin") as s:
        rotation = access.remove_user(s.store, name)
        s.audit_affected(users=[name], key_rotated=True)
    output.render(rotation.summary(), fmt)
    output.warn(rotation.note)


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Whose passphrase (default: yours; others: admins).")
    ] = None,
    new_passphrase_file: NewPassphraseOpt = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="Service user: write the new token to this new file."),
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Change a passphrase (or a service user's token). The slot gets a fresh key pair.

    If the old passphrase leaked, also run `riskcli key rotate`: a copy of the old keys file
    still opens the store with the old passphrase until the master key changes.

    Example: riskcli user passwd --new-passphrase-file new.txt
    """
    me = get_globals(ctx).user
    target = name or me
    action = "account.passwd" if target == me else "users.admin"
    with session(ctx, action) as s:
        slot = s.store.keyfile.find(target)
        secret = None
        if slot.kind != access.TOKEN:
            secret = ask_new_passphrase(new_passphrase_file, target)
        row = access.change_secret(s.store, target, secret=secret, token_file=token_file)
        s.audit_affected(users=[target])
    output.render(row, fmt)


@app.command("role")
def role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user.")],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=ROLE_HELP)],
    fmt: FormatOpt = None,
) -> None:
    """Change a user's role. Admins only; the last admin keeps theirs.

    Example: riskcli user role bob viewer
    """
    access.check_role(new_role)
    with session(ctx, "users.admin") as s:
        row = access.set_role(s.store, name, new_role)
        s.audit_affected(users=[name], role=new_role)
    output.render(row, fmt)

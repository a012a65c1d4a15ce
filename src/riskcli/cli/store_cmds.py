"""`riskcli init` and `riskcli status`."""

from __future__ import annotations

from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import get_globals, record, session
from riskcli.cli.output import FormatOpt
from riskcli.cli.secrets import new_passphrase
from riskcli.services import status as status_service
from riskcli.storage.store import create_store


def init(ctx: typer.Context) -> None:
    """Create a new encrypted store and its keys file, with you as its first admin.

    The passphrase is asked twice on a terminal, or read from RISKCLI_PASSPHRASE_FILE /
    RISKCLI_PASSPHRASE_COMMAND / RISKCLI_PASSPHRASE. An existing file is never overwritten.

    Example: riskcli --db book.db --user alice init
    """
    g = get_globals(ctx)
    secret = new_passphrase(g.passphrase_file, g.user)
    store = create_store(g.db, g.user, secret)
    try:
        record(store, ctx, "store.init", "ok", {})
    finally:
        store.close()
    output.info(
        f"Created encrypted store {g.db} with keys file {g.db}.keys; admin user {g.user}. "
        "Keep the keys file with the store and back up both."
    )


def status(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option("--check", help="Run cipher_integrity_check and integrity_check (exit 4)."),
    ] = False,
    fmt: FormatOpt = None,
) -> None:
    """Show the store: file, size, schema and SQLCipher versions, users, row counts.

    Example: riskcli status --check
    """
    with session(ctx, "status.read") as s:
        sections: dict[str, object] = {
            "store": status_service.overview(s.store),
            "users": status_service.users(s.store),
            "tables": status_service.table_counts(s.store),
        }
        if check:
            sections["checks"] = status_service.check(s.store)
    # piped, one parseable result: one csv table (a `section` column first) or one JSON object
    output.render_sections(sections, fmt, single=True)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("status")(status)

"""`riskcli unlock` and `riskcli lock`: an unlock session, so that a run of commands derives the
passphrase's key once (see `riskcli.storage.sessions`)."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import get_globals, session
from riskcli.storage import sessions
from riskcli.storage.store import load_keyfile


def unlock_command(
    ctx: typer.Context,
    lifetime: Annotated[
        str,
        typer.Option(
            "--for",
            help="How long the session lasts: 15m, 2h, 1h30m (10s to 24h).",
        ),
    ] = "15m",
    raw: Annotated[
        bool, typer.Option("--raw", help="Print only the session key, not an export line.")
    ] = False,
) -> None:
    """Unlock the store once for a while: print a session key for RISKCLI_SESSION.

    The passphrase is asked (or read) once; the unwrapped master key is kept sealed under a
    random session key in a 0600 file in $XDG_RUNTIME_DIR (else /tmp/riskcli-UID). Commands
    run with RISKCLI_SESSION set open the store without the passphrase until the session
    expires or `riskcli lock` ends it. Without RISKCLI_SESSION nothing changes.

    Example: eval "$(riskcli unlock --for 30m)"
    """
    duration = sessions.parse_lifetime(lifetime)
    with session(ctx, "session.unlock", keep_secret=True, check_role=False) as s:
        key, started = sessions.start(s.store, duration)
        s.audit_affected(expires=started.expires.isoformat(), seconds=int(duration.total_seconds()))
    typer.echo(key if raw else f"export {sessions.ENV}={shlex.quote(key)}")
    output.info(
        f"Unlocked {s.store.path.name} for {s.user} until "
        f"{started.expires:%Y-%m-%d %H:%M} UTC. Run the line above in your shell "
        f'(or: eval "$(riskcli unlock)"); `riskcli lock` ends it sooner.'
    )


def lock_command(ctx: typer.Context) -> None:
    """End your unlock session of this store now (it also ends by itself when it expires).

    Example: riskcli lock
    """
    g = get_globals(ctx)
    store_id = load_keyfile(g.db).store_id
    if not sessions.session_path(store_id, g.user).exists():
        output.info(f"No unlock session of {g.user} on {g.db.name}.")
        return
    try:
        # opened through the session itself when RISKCLI_SESSION is its key, to audit the lock
        with session(ctx, "session.lock", check_role=False) as s:
            s.audit_affected(ended=sessions.end(store_id, g.user))
    finally:
        if sessions.end(store_id, g.user):  # the store did not open: end it all the same
            output.warn("the unlock session is ended, but the lock could not be audited")
    output.info(f"Locked: the unlock session of {g.user} on {g.db.name} is ended.")

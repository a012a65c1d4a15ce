"""Global options and the one command boundary: unlock, open, check the role, audit.

A command body is `with session(ctx, "area.verb") as s: result = service(s.store, ...)`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from riskcli import config as settings
from riskcli.cli.secrets import passphrase
from riskcli.domain.errors import AccessError, AlertsFound, RiskError, StoreBusy
from riskcli.domain.permissions import allowed
from riskcli.storage import audit, sessions
from riskcli.storage.store import Store, open_store

#: parameter names whose values never reach the audit trail
SECRET_PARAMS = ("passphrase", "token", "secret", "identity", "key")


@dataclass
class Globals:
    db: Path = field(default_factory=lambda: settings.db_path(None))
    user: str = field(default_factory=lambda: settings.user_name(None))
    passphrase_file: Path | None = None
    config: Path | None = None
    anchor: Path | None = None
    quiet: bool = False
    #: seconds a writer waits for the write lock (--wait, RISKCLI_WAIT)
    wait: float = settings.DEFAULT_WAIT_S


class _Holder:
    current = Globals()


def set_globals(g: Globals) -> None:
    _Holder.current = g


def get_globals(ctx: typer.Context | None = None) -> Globals:
    if ctx is not None:
        root = ctx.find_root()
        if isinstance(root.obj, Globals):
            return root.obj
    return _Holder.current


@dataclass
class Session:
    store: Store
    config: dict[str, Any]
    globals: Globals
    action: str
    affected: dict[str, Any] = field(default_factory=dict)
    kept_secret: bytes | None = field(default=None, repr=False)

    @property
    def user(self) -> str:
        return self.store.user

    @property
    def role(self) -> str:
        return self.store.role

    def audit_affected(self, **values: Any) -> None:
        """Record counts or ids the command touched (no PII: ids and numbers only)."""
        self.affected.update(values)

    def audit_revealed(self, ids: list[str], columns: Any) -> None:
        """Record which customers' personal data a --reveal showed, and which fields."""
        from riskcli.domain.pii import PII_COLUMNS

        self.affected["ids"] = [str(i) for i in ids]
        self.affected["pii_fields"] = [c for c in PII_COLUMNS if c in columns]

    def section(self, name: str) -> dict[str, Any]:
        return settings.section(self.config, name)

    @property
    def secret(self) -> bytes:
        """The passphrase read by `session(..., keep_secret=True)`."""
        if self.kept_secret is None:
            raise RuntimeError("this session did not keep the passphrase")
        return self.kept_secret


def command_name(ctx: typer.Context | None) -> str:
    return ctx.command_path if ctx is not None else "riskcli"


def safe_args(ctx: typer.Context | None) -> dict[str, Any]:
    if ctx is None:
        return {}
    return {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in ctx.params.items()
        if not any(s in k.lower() for s in SECRET_PARAMS)
    }


def record(
    store: Store, ctx: typer.Context | None, action: str, outcome: str, affected: dict[str, Any]
) -> None:
    with store.transaction():  # waits in turn for the write lock
        head = audit.append_event(
            store.conn,
            user=store.user,
            role=store.role,
            action=action,
            command=command_name(ctx),
            args=safe_args(ctx),
            affected=affected,
            outcome=outcome,
        )
    anchor_event(store, ctx, head)


def record_done(
    store: Store, ctx: typer.Context | None, action: str, affected: dict[str, Any]
) -> None:
    """Record a command that succeeded. Its work is committed: a store kept busy past --wait
    costs the audit event (with a warning), never the command's success."""
    from riskcli.cli import output

    try:
        record(store, ctx, action, "ok", affected)
    except StoreBusy as exc:
        output.warn(f"{exc} (the audit event of this command was not recorded)")


def record_failed(
    store: Store,
    ctx: typer.Context | None,
    action: str,
    outcome: str,
    affected: dict[str, Any],
) -> None:
    """Record a command that failed or was denied; when the store stays busy the failure is
    what the user sees (waiting again only to record it would double the wait)."""
    with suppress(StoreBusy):
        record(store, ctx, action, outcome, affected)


def anchor_event(store: Store, ctx: typer.Context | None, head: audit.ChainHead) -> None:
    """Append the committed chain head to the anchor file outside the store."""
    from riskcli.cli import output
    from riskcli.services import audit as audit_service

    g = get_globals(ctx)
    try:
        config = settings.load_config(g.config, g.db)
    except RiskError:
        config = {}
    try:
        path = sandbox_anchor(store) or audit_service.anchor_path(store.path, config, g.anchor)
        audit_service.append_anchor(path, store.keyfile.store_id, head)
    except RiskError as exc:  # the event is committed; say the anchor lags, do not fail
        output.warn(f"audit anchor not updated: {exc}")


def open_for(ctx: typer.Context | None, secret: bytes | None = None) -> tuple[Store, bool]:
    """Open the store of the global options: with `secret` when given, else with the user's
    unlock session when RISKCLI_SESSION names a live one, else with the user's passphrase.
    The flag says whether the unlock session opened it."""
    g = get_globals(ctx)
    if secret is None:
        token = os.environ.get(sessions.ENV)
        if token:
            try:
                store = sessions.open_with_session(g.db, g.user, token, wait=g.wait)
                store.activity = _activity(ctx)
                announce_sandbox(store)
                return store, True
            except sessions.SessionGone as gone:
                from riskcli.cli import output

                output.warn(f"{gone}; unlocking with the passphrase")
        secret = passphrase(g.passphrase_file, g.user)
    store = open_store(g.db, g.user, secret, wait=g.wait)
    store.activity = _activity(ctx)
    announce_sandbox(store)
    return store, False


def _activity(ctx: typer.Context | None) -> str:
    """What the store is open for, named to the writers it may keep waiting."""
    return command_name(ctx).removeprefix("riskcli ").strip() or "riskcli"


def announce_sandbox(store: Store) -> None:
    """On a sandbox: say so on stderr (never silenced) and in every output header."""
    from riskcli.cli import output
    from riskcli.services import sandbox

    if sandbox.is_sandbox(store):
        output.STATE.sandbox = sandbox.banner(store)
        print(output.STATE.sandbox, file=sys.stderr)


def sandbox_anchor(store: Store) -> Path | None:
    """A sandbox's audit anchor is always beside it, never the real store's."""
    from riskcli.services import sandbox

    return sandbox.anchor_beside(store)


@contextmanager
def session(
    ctx: typer.Context | None,
    action: str,
    *,
    reveal: bool = False,
    keep_secret: bool = False,
    secret: bytes | None = None,
    check_role: bool = True,
) -> Iterator[Session]:
    """The one command boundary: open the store, enforce the role, leave an audit event.

    A failing command's open transaction is rolled back before its audit event is written.
    `keep_secret` reads the passphrase here (never an unlock session) and keeps it on the
    session, for the commands that need it again (a backup unlocks its keyslot of its time
    with it); a `secret` already read is used and kept the same way. `check_role=False` for
    what every user may do with their own access."""
    g = get_globals(ctx)
    if keep_secret and secret is None:
        secret = passphrase(g.passphrase_file, g.user)
    store, by_session = open_for(ctx, secret)
    try:
        config = settings.load_config(g.config, g.db)
        s = Session(store, config, g, action, kept_secret=secret)
        if by_session:  # the audit trail tells commands run without the passphrase
            s.affected["unlock_session"] = True
        checks = (action, "pii.reveal") if reveal else (action,)
        for needed in checks if check_role else ():
            if not allowed(store.role, needed):
                record(store, ctx, needed, "denied", {})
                raise AccessError(f"user {store.user} (role {store.role}) may not {needed}")
        if reveal:
            s.affected["pii_revealed"] = True
        try:
            yield s
        except BaseException as exc:
            store.rollback()
            if isinstance(exc, AlertsFound):  # monitoring's exit 10 is a successful run
                record(store, ctx, action, "ok", {**s.affected, "exit_code": exc.exit_code})
                raise
            # an AccessError raised by a service (maker-checker, an approval band) is a denial
            outcome = "denied" if isinstance(exc, AccessError) else "error"
            detail: dict[str, Any] = {"error": type(exc).__name__}
            if isinstance(exc, RiskError):
                detail["exit_code"] = exc.exit_code
            record_failed(store, ctx, action, outcome, {**s.affected, **detail})
            raise
        record_done(store, ctx, action, s.affected)
    finally:
        store.close()

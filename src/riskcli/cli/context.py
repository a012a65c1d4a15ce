"""Global options and the per-command session: unlock, open, check the role, audit.

A command body is `with session(ctx, "area.verb") as s: result = service(s.store, ...)`.
"""

from __future__ import annotations

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
from riskcli.storage import audit
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

    @property
    def user(self) -> str:
        return self.store.user

    @property
    def role(self) -> str:
        return self.store.role

    def audit_affected(self, **values: Any) -> None:
        """Record counts or ids the command touched (no PII: ids and numbers only)."""
        self.affected.update(values)

    def section(self, name: str) -> dict[str, Any]:
        return settings.section(self.config, name)


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
    store: Store, ctx: typer.Context | None, action: str, affected: dict[str, Any]
) -> None:
    """Record a command that failed; when the store stays busy the failure is what the user
    sees (waiting again only to record it would double the wait)."""
    with suppress(StoreBusy):
        record(store, ctx, action, "error", affected)


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
        path = audit_service.anchor_path(store.path, config, g.anchor)
        audit_service.append_anchor(path, store.keyfile.store_id, head)
    except RiskError as exc:  # the event is committed; say the anchor lags, do not fail
        output.warn(f"audit anchor not updated: {exc}")


def open_for(ctx: typer.Context | None) -> Store:
    g = get_globals(ctx)
    return open_for_command(ctx, g, passphrase(g.passphrase_file, g.user))


def open_for_command(ctx: typer.Context | None, g: Globals, secret: bytes) -> Store:
    """Open the store for a command, named for the writers it may keep waiting."""
    store = open_store(g.db, g.user, secret, wait=g.wait)
    store.activity = command_name(ctx).removeprefix("riskcli ").strip() or "riskcli"
    return store


@contextmanager
def session(ctx: typer.Context | None, action: str, *, reveal: bool = False) -> Iterator[Session]:
    """Open the store for one command, enforce the role, and leave an audit event."""
    g = get_globals(ctx)
    store = open_for(ctx)
    try:
        config = settings.load_config(g.config, g.db)
        s = Session(store, config, g, action)
        for needed in (action, "pii.reveal") if reveal else (action,):
            if not allowed(store.role, needed):
                record(store, ctx, needed, "denied", {})
                raise AccessError(f"user {store.user} (role {store.role}) may not {needed}")
        if reveal:
            s.affected["pii_revealed"] = True
        try:
            yield s
        except BaseException as exc:
            if store.conn.in_transaction:  # a service left its transaction open: roll it back
                store.conn.execute("ROLLBACK")
            if isinstance(exc, AlertsFound):  # monitoring's exit 10 is a successful run
                record(store, ctx, action, "ok", {**s.affected, "exit_code": exc.exit_code})
                raise
            detail = (
                {"error": type(exc).__name__}
                if not isinstance(exc, RiskError)
                else {"error": type(exc).__name__, "exit_code": exc.exit_code}
            )
            record_failed(store, ctx, action, {**s.affected, **detail})
            raise
        record_done(store, ctx, action, s.affected)
    finally:
        store.close()

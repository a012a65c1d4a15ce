"""Ordered, named schema migrations, recorded in the store and applied on open.

Each module `mNNN_name.py` in this package exposes `migrate(conn)`; modules are applied in
name order, each in its own transaction together with its record in `schema_migrations`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from riskcli.storage.dbapi import Connection

Migration = Callable[[Any], None]


def names() -> list[str]:
    """The migrations this riskcli has, in the order they apply (no module is imported)."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(__path__)
        if m.name[:1] == "m" and m.name[1:4].isdigit()
    )


def load(name: str) -> Migration:
    migrate: Migration = importlib.import_module(f"{__name__}.{name}").migrate
    return migrate


def available() -> list[tuple[str, Migration]]:
    return [(n, load(n)) for n in names()]


def _ensure_table(conn: Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )


def applied(conn: Connection) -> list[str]:
    _ensure_table(conn)
    return [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]


def apply(conn: Connection, upto: str | None = None) -> list[str]:
    """Apply every pending migration (or those up to `upto`); return the names applied."""
    done = set(applied(conn))
    ran: list[str] = []
    for name in names():  # a store that is up to date imports no migration module
        if upto is not None and name > upto:
            break
        if name in done:
            continue
        migrate = load(name)
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have applied it while we waited for the lock
            if conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("ROLLBACK")
                continue
            migrate(conn)
            conn.execute(
                "INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        ran.append(name)
    return ran


def current_version(conn: Connection) -> str:
    names = applied(conn)
    return names[-1] if names else "none"

"""What is inside a store: sizes, versions, users, row counts, last import, health checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from riskcli.domain.errors import IntegrityError
from riskcli.storage.store import Store, sqlcipher_version


def _file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def overview(store: Store) -> dict[str, Any]:
    """The store's identity and health at a glance."""
    last = store.query(
        "SELECT kind, file_name, finished_at, inserted, updated, unchanged, rejected "
        "FROM import_batches WHERE dry_run = 0 ORDER BY id DESC LIMIT 1"
    )
    info: dict[str, Any] = {
        "file": str(store.path),
        "size_bytes": _file_size(store.path),
        "store_id": store.meta("store_id"),
        "schema_version": store.schema_version(),
        "sqlcipher_version": sqlcipher_version(),
        "created_at": store.meta("created_at"),
        "users": len(store.keyfile.slots),
        "last_import": (
            f"{last[0]['kind']} {last[0]['file_name']} at {last[0]['finished_at']}"
            if last
            else "never"
        ),
    }
    if importlib.util.find_spec("riskcli.services.backup") is not None:
        from riskcli.services import backup

        status_fn = getattr(backup, "backup_status", None)
        if status_fn is not None:
            info.update(status_fn(store))
    return info


def users(store: Store) -> list[dict[str, Any]]:
    return [
        {"user": s.user, "role": s.role, "kind": s.kind, "created": s.created}
        for s in store.keyfile.slots
    ]


def table_counts(store: Store) -> list[dict[str, Any]]:
    return [{"table": t, "rows": n} for t, n in store.row_counts().items()]


def check(store: Store) -> list[dict[str, Any]]:
    """Run cipher_integrity_check and integrity_check; raise IntegrityError on damage."""
    cipher = [str(r[0]) for r in store.execute("PRAGMA cipher_integrity_check").fetchall()]
    sqlite = [str(r[0]) for r in store.execute("PRAGMA integrity_check").fetchall()]
    results = [
        {"check": "cipher_integrity_check", "result": "ok" if not cipher else "; ".join(cipher)},
        {"check": "integrity_check", "result": "; ".join(sqlite)},
    ]
    if cipher or sqlite != ["ok"]:
        problems = "; ".join(cipher + [s for s in sqlite if s != "ok"])
        raise IntegrityError(f"store {store.path} is damaged: {problems[:300]}")
    return results

"""Backup records in the store (`backup_events`), the listing of a backup folder, and the
status line for `riskcli status`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskcli.domain.errors import IntegrityError
from riskcli.services.backup import files
from riskcli.services.backup.container import read_manifest_quick
from riskcli.services.backup.manifest import read_unauthenticated
from riskcli.storage.store import Store

Progress = Callable[[int], None] | None


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def record_event(
    store: Store,
    kind: str,
    *,
    ok: bool,
    path: Path | None = None,
    backup_created_at: datetime | None = None,
    size: int | None = None,
    seconds: float | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    if not store.has_table("backup_events"):
        return
    store.execute(
        "INSERT INTO backup_events(at, kind, file_name, folder, backup_created_at, user, ok, "
        "size_bytes, seconds, detail) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            iso(now_utc()),
            kind,
            None if path is None else path.name,
            None if path is None else str(path.parent.resolve()),
            None if backup_created_at is None else iso(backup_created_at),
            store.user,
            int(ok),
            size,
            None if seconds is None else round(seconds, 3),
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        ),
    )


# ---- list ------------------------------------------------------------------------------------


def list_backups(folder: Path, store: Store | None = None) -> list[dict[str, Any]]:
    """One row per backup file in *folder*, oldest first, read from the manifests (not verified;
    `verify` reads everything). Age-encrypted files show what the store's records know."""
    records: dict[str, dict[str, Any]] = {}
    if store is not None and store.has_table("backup_events"):
        for rec in store.query(
            "SELECT file_name, kind, ok, at, detail FROM backup_events "
            "WHERE kind IN ('create', 'verify') AND file_name IS NOT NULL ORDER BY id"
        ):
            records[str(rec["file_name"])] = rec
    rows = []
    for path in files.list_backup_files(folder):
        parsed_name = files.parse_name(path.name)
        assert parsed_name is not None
        ts, encrypted = parsed_name
        row: dict[str, Any] = {
            "file": path.name,
            "created_at": ts.isoformat(timespec="seconds"),
            "size_bytes": path.stat().st_size,
            "encrypted": encrypted,
            "user": "",
            "label": "",
            "rows": None,
            "last_check": "",
        }
        if not encrypted:
            try:
                manifest, _, _ = read_unauthenticated(read_manifest_quick(path))
                row.update(
                    user=manifest.user,
                    label=manifest.label or "",
                    rows=sum(manifest.row_counts.values()),
                )
            except (IntegrityError, OSError):
                row["last_check"] = "unreadable manifest"
        record = records.get(path.name)
        if record is not None and not row["last_check"]:
            verdict = "ok" if record["ok"] else "FAILED"
            row["last_check"] = f"{record['kind']} {verdict} {str(record['at'])[:19]}"
        rows.append(row)
    return rows


# ---- status ----------------------------------------------------------------------------------


def _age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _newest_file(folders: Sequence[Path]) -> tuple[datetime, str] | None:
    best: tuple[datetime, str] | None = None
    for folder in folders:
        for path in files.list_backup_files(folder)[-1:]:
            parsed = files.parse_name(path.name)
            if parsed is not None and (best is None or parsed[0] > best[0]):
                best = (parsed[0], path.name)
    return best


def backup_status(store: Store, folder: Path | None = None) -> dict[str, Any]:
    """For `riskcli status`: the newest backup and the last successful drill, with their ages.

    Keys: newest_backup, last_successful_drill (text such as "riskcli-....rcbk (3.2 h ago)" or
    "never"), plus <key>_at (ISO time) and <key>_age_seconds when there is one, and
    last_drill_failed_at when the most recent drill failed. The newest backup is the newer of
    the store's records and the files in *folder* (default: backups/ beside the store) and in
    the folders backups were recorded in, so a store restored from an older backup still sees
    the backups made after it.
    """
    out: dict[str, Any] = {"newest_backup": "never", "last_successful_drill": "never"}
    if not store.has_table("backup_events"):
        return out
    now = now_utc()
    found: dict[str, tuple[datetime, str]] = {}
    for key, kind in (("newest_backup", "create"), ("last_successful_drill", "drill")):
        rows = store.query(
            "SELECT at, file_name FROM backup_events WHERE kind = ? AND ok = 1 "
            "ORDER BY at DESC LIMIT 1",
            (kind,),
        )
        if rows:
            found[key] = (datetime.fromisoformat(str(rows[0]["at"])), str(rows[0]["file_name"]))
    folders = [folder or store.path.parent / "backups"] + [
        Path(str(r["folder"]))
        for r in store.query(
            "SELECT DISTINCT folder FROM backup_events WHERE kind = 'create' AND folder IS NOT NULL"
        )
    ]
    on_disk = _newest_file(folders)
    if on_disk is not None and ("newest_backup" not in found or on_disk > found["newest_backup"]):
        found["newest_backup"] = on_disk
    for key, (at, name) in found.items():
        age = max(0.0, (now - at).total_seconds())
        out[key] = f"{name} ({_age_text(age)} ago)"
        out[f"{key}_at"] = at.isoformat(timespec="seconds")
        out[f"{key}_age_seconds"] = int(age)
    last = store.query(
        "SELECT at, ok FROM backup_events WHERE kind = 'drill' ORDER BY at DESC LIMIT 1"
    )
    if last and not last[0]["ok"]:
        out["last_drill_failed_at"] = datetime.fromisoformat(str(last[0]["at"])).isoformat(
            timespec="seconds"
        )
    return out

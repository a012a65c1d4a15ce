"""`riskcli restore` and `backup drill`: put a verified backup in place, or prove one restores."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskcli.domain.errors import AccessError, InputError, IntegrityError, RiskError, UsageError
from riskcli.failpoints import failpoint
from riskcli.services.backup import files
from riskcli.services.backup.manifest import Manifest
from riskcli.services.backup.records import Progress, iso, now_utc, record_event
from riskcli.services.backup.verify import Verified, verify_backup
from riskcli.storage import swap
from riskcli.storage.keyslots import KeyFile, keys_path
from riskcli.storage.store import Store

# ---- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    backup: Path
    target: Path
    manifest: Manifest
    safety: Path | None
    migrated: list[str]
    row_counts: dict[str, int]
    recovered: str | None
    seconds: float

    def as_row(self) -> dict[str, Any]:
        return {
            "restored": str(self.target),
            "from": str(self.backup),
            "backup_created_at": self.manifest.created_at.isoformat(timespec="seconds"),
            "safety_copy": "" if self.safety is None else str(self.safety),
            "migrated": ", ".join(self.migrated),
            "rows": sum(self.row_counts.values()),
            "seconds": round(self.seconds, 3),
        }


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _safety_name(target: Path) -> Path:
    stamp = now_utc().strftime("%Y%m%dT%H%M%SZ")
    candidate = target.with_name(f"{target.name}.pre-restore-{stamp}")
    serial = 1
    while candidate.exists() or keys_path(candidate).exists():
        serial += 1
        candidate = target.with_name(f"{target.name}.pre-restore-{stamp}-{serial}")
    return candidate


def restore_backup(
    path: Path,
    target: Path,
    user: str,
    secret: bytes,
    *,
    identities: Sequence[Any] | None = None,
    force: bool = False,
    action: str = "restore.run",
    expect_store_id: str | None = None,
    progress: Progress = None,
    on_restored: Callable[[Store], None] | None = None,
) -> RestoreResult:
    """Verify *path*, then put its store and keys file at *target*, atomically.

    An existing store is replaced only with *force*, and is kept as ``<target>.pre-restore-*``
    (with its keys file). The user must hold *action* in the backup's keyslots. The restored
    store is migrated to the current schema, and the restore is recorded in it; *on_restored*
    is then called with the open restored store (the CLI anchors the audit chain there).
    """
    started = time.monotonic()
    if target.is_dir():
        raise UsageError(f"{target} is a folder: give the store file's path")
    if not target.parent.is_dir():
        raise InputError(f"folder {target.parent} does not exist")
    with swap.restore_lock(target):
        recovered = swap.recover_interrupted_restore(target)
        staged_db, staged_keys = swap.staged_paths(target)
        try:
            verified = verify_backup(
                path,
                user,
                secret,
                identities=identities,
                expect_store_id=expect_store_id,
                snapshot_to=staged_db,
                workdir=target.parent,
                progress=progress,
            )
            _check_target(path, target, verified, user, action=action, force=force)
            os.chmod(staged_db, 0o600)
            _write_synced(staged_keys, verified.keys_bytes)
            failpoint("restore:staged")
            safety = _safety_name(target)
            swap.install_restored(swap.SwapPlan(target, staged_db, staged_keys, safety, path.name))
        except BaseException:
            if not swap.journal_path(target).exists():
                files.remove_quietly(staged_db)
                files.remove_quietly(staged_keys)
            raise
        failpoint("restore:installed")
        migrated, counts, seconds = _open_restored(
            path, target, verified, user, action=action, force=force, started=started,
            on_restored=on_restored,
        )  # fmt: skip
    had_old = safety.exists() or keys_path(safety).exists()
    return RestoreResult(
        backup=path,
        target=target,
        manifest=verified.report.manifest,
        safety=safety if had_old else None,
        migrated=migrated,
        row_counts=counts,
        recovered=recovered,
        seconds=seconds,
    )


def _check_target(
    path: Path, target: Path, verified: Verified, user: str, *, action: str, force: bool
) -> None:
    """The user may restore this backup, and to `target`: of the same store, and only with
    `force` over one that exists."""
    from riskcli.domain.permissions import allowed

    manifest = verified.report.manifest
    if not allowed(verified.report.role, action):
        raise AccessError(
            f"user {user} (role {verified.report.role} in the backup) may not {action}"
        )
    tkeys = keys_path(target)
    exists = target.exists() or tkeys.exists()
    if exists and tkeys.exists():
        current = KeyFile.load(tkeys)
        if current.store_id != manifest.store_id:
            raise IntegrityError(
                f"{path.name} is a backup of another store ({manifest.store_id}) than "
                f"the one at {target} ({current.store_id}); restore it elsewhere with --to"
            )
    if exists and not force:
        raise InputError(
            f"{path.name} verified, but {target} exists: add --force to replace it "
            "(the replaced store is kept as a safety copy)"
        )


def _open_restored(
    path: Path,
    target: Path,
    verified: Verified,
    user: str,
    *,
    action: str,
    force: bool,
    started: float,
    on_restored: Callable[[Store], None] | None,
) -> tuple[list[str], dict[str, int], float]:
    """Open the installed store (migrating it), record the restore in it and hand it to
    `on_restored`: (migrations applied, row counts, seconds since `started`)."""
    from riskcli.storage import audit
    from riskcli.storage.store import open_with_key

    manifest = verified.report.manifest
    slot = verified.keyfile.find(user)
    store = open_with_key(target, verified.master, verified.keyfile, user, slot.role)
    try:
        migrated = [m for m in _applied(store) if m not in manifest.schema_version]
        counts = store.row_counts()
        seconds = time.monotonic() - started
        record_event(
            store,
            "restore",
            ok=True,
            path=path,
            backup_created_at=manifest.created_at,
            size=verified.report.size,
            seconds=seconds,
            detail={"target": str(target), "migrated": migrated},
        )
        if store.has_table("audit_events"):
            audit.append_event(
                store.conn,
                user=user,
                role=slot.role,
                action=action,
                command="riskcli restore",
                args={"file": str(path), "to": str(target), "force": force},
                affected={"backup_created_at": iso(manifest.created_at)},
                outcome="ok",
            )
        if on_restored is not None:
            on_restored(store)
    finally:
        store.close()
    return migrated, counts, seconds


def _applied(store: Store) -> list[str]:
    if not store.has_table("schema_migrations"):
        return []
    return [str(r["name"]) for r in store.query("SELECT name FROM schema_migrations ORDER BY name")]


# ---- drill -----------------------------------------------------------------------------------


@dataclass
class DrillResult:
    ok: bool
    backup: Path | None
    seconds: float
    differences: dict[str, tuple[int | None, int | None]]
    error: str | None = None

    def rows(self) -> list[dict[str, Any]]:
        head = {
            "backup": "" if self.backup is None else self.backup.name,
            "result": "ok" if self.ok else "FAILED",
            "seconds": round(self.seconds, 3),
        }
        if self.error:
            return [
                {**head, "table": "", "backup_rows": None, "live_rows": None, "note": self.error}
            ]
        if not self.differences:
            return [
                {
                    **head,
                    "table": "(all)",
                    "backup_rows": None,
                    "live_rows": None,
                    "note": "row counts equal the live store",
                }
            ]
        return [
            {
                **head,
                "table": t,
                "backup_rows": b,
                "live_rows": live,
                "note": "changed since the backup",
            }
            for t, (b, live) in sorted(self.differences.items())
        ]


def drill(
    store: Store,
    secret: bytes,
    folder: Path,
    *,
    identities: Sequence[Any] | None = None,
    workdir: Path | None = None,
    progress: Progress = None,
) -> DrillResult:
    """Restore the newest backup into a temporary place, verify it, compare it with the live
    store and record the result. Differing row counts are reported, not failed (the store moves
    on after a backup); damage, a wrong key or another store's backup fail the drill."""
    started = time.monotonic()
    backups = files.list_backup_files(folder)
    if not backups:
        error = f"no backup in {folder} to drill"
        record_event(store, "drill", ok=False, detail={"error": error})
        raise InputError(error)
    newest = backups[-1]
    try:
        with tempfile.TemporaryDirectory(prefix="riskcli-drill-", dir=workdir) as tmp:
            result = restore_backup(
                newest,
                Path(tmp) / "drill.db",
                store.user,
                secret,
                identities=identities,
                action="backup.create",
                expect_store_id=store.keyfile.store_id,
                progress=progress,
            )
    except RiskError as exc:
        record_event(
            store,
            "drill",
            ok=False,
            path=newest,
            seconds=time.monotonic() - started,
            detail={"error": str(exc)[:300]},
        )
        raise type(exc)(f"drill failed: {exc}") from None
    live = store.row_counts()
    # the store's own bookkeeping moves with every command; compare the business tables
    ignore = {"backup_events", "audit_events", "schema_migrations"}
    differences = {
        t: (result.row_counts.get(t), live.get(t))
        for t in sorted(set(result.row_counts) | set(live))
        if t not in ignore and result.row_counts.get(t) != live.get(t)
    }
    seconds = time.monotonic() - started
    record_event(
        store,
        "drill",
        ok=True,
        path=newest,
        backup_created_at=result.manifest.created_at,
        seconds=seconds,
        detail={"differences": {t: list(v) for t, v in differences.items()}},
    )
    return DrillResult(True, newest, seconds, differences)

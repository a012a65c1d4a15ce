"""`backup prune`: apply a retention policy to a backup folder (see `prune` for the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from riskcli.domain.errors import AccessError, IntegrityError, UsageError
from riskcli.failpoints import failpoint
from riskcli.services.backup import files
from riskcli.services.backup.create import clean_partials
from riskcli.services.backup.prune import Candidate, Decision, PrunePolicy, plan_prune
from riskcli.services.backup.records import Progress, record_event
from riskcli.services.backup.verify import verify_and_record
from riskcli.storage.store import Store
from riskcli.storage.swap import fsync_path


@dataclass
class PruneOutcome:
    decisions: list[Decision]
    removed: list[Path]
    dry_run: bool
    cleaned: list[Path]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "file": d.name,
                "created_at": d.created_at.isoformat(timespec="seconds"),
                "action": "keep" if d.keep else ("would remove" if self.dry_run else "remove"),
                "why": d.why,
            }
            for d in self.decisions
        ]


def newest_verified(
    store: Store,
    folder: Path,
    secret: bytes,
    identities: Sequence[Any] | None,
    progress: Progress = None,
) -> str | None:
    """The newest backup whose latest create/verify record is ok; with no record for any file,
    verify from the newest down until one passes."""
    paths = files.list_backup_files(folder)
    latest: dict[str, bool] = {}
    if store.has_table("backup_events"):
        for row in store.query(
            "SELECT file_name, ok FROM backup_events WHERE kind IN ('create', 'verify') "
            "AND file_name IS NOT NULL ORDER BY id"
        ):
            latest[str(row["file_name"])] = bool(row["ok"])
    for path in reversed(paths):
        if latest.get(path.name):
            return path.name
    for path in reversed(paths):
        if path.name in latest:
            continue  # known to have failed
        try:
            verify_and_record(store, path, secret, identities=identities, progress=progress)
        except (IntegrityError, AccessError, UsageError):
            continue
        return path.name
    return None


def prune_backups(
    store: Store,
    folder: Path,
    policy: PrunePolicy,
    secret: bytes,
    *,
    dry_run: bool = False,
    identities: Sequence[Any] | None = None,
    tz: tzinfo | None = None,
) -> PruneOutcome:
    """Apply a retention policy to the backups in *folder* (see `prune.plan_prune`)."""
    if policy.is_empty():
        plan_prune([], policy)  # raises the refusal
    candidates = []
    for path in files.list_backup_files(folder):
        parsed = files.parse_name(path.name)
        assert parsed is not None
        candidates.append(Candidate(path.name, parsed[0]))
    protect = newest_verified(store, folder, secret, identities)
    decisions = plan_prune(candidates, policy, protect=protect, tz=tz)
    removed: list[Path] = []
    cleaned: list[Path] = []
    if not dry_run:
        cleaned = clean_partials(folder)
        # oldest first: an interrupted prune has removed the least valuable files
        for decision in reversed(decisions):
            if decision.keep:
                continue
            path = folder / decision.name
            files.remove_quietly(path)
            removed.append(path)
            failpoint("prune:removed-one")
        if removed:
            fsync_path(folder)
        record_event(
            store,
            "prune",
            ok=True,
            path=None,
            detail={
                "folder": str(folder),
                "kept": [d.name for d in decisions if d.keep],
                "removed": [p.name for p in removed],
                "protected": protect,
            },
        )
    return PruneOutcome(decisions, removed, dry_run, cleaned)

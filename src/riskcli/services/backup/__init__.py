"""Backups of the store: create, verify, list, prune, restore, drill, and status for `riskcli
status`. See `service` for the work, `container` for the file format, `manifest` for what a
backup says about itself, `agewrap` for off-site encryption and `prune` for retention."""

from riskcli.services.backup.config import BackupConfig
from riskcli.services.backup.prune import PrunePolicy
from riskcli.services.backup.service import (
    CreateResult,
    DrillResult,
    PruneOutcome,
    RestoreResult,
    Verified,
    VerifyReport,
    backup_status,
    create_backup,
    drill,
    list_backups,
    prune_backups,
    restore_backup,
    verify_and_record,
    verify_backup,
)

__all__ = [
    "BackupConfig",
    "CreateResult",
    "DrillResult",
    "PruneOutcome",
    "PrunePolicy",
    "RestoreResult",
    "Verified",
    "VerifyReport",
    "backup_status",
    "create_backup",
    "drill",
    "list_backups",
    "prune_backups",
    "restore_backup",
    "verify_and_record",
    "verify_backup",
]

"""Backups of the store: create, verify, list, prune, restore, drill, and the status shown by
`riskcli status`.

Modules: `create`, `verify`, `restore` (and drill), `retention` (prune) and `records` (events,
listing, status) do the work; `container` is the file format, `manifest` what a backup says
about itself, `agewrap` the off-site encryption, `prune` the retention rules, `files` names and
durable file operations, `config` the `[backup]` section.
"""

from riskcli.services.backup.config import BackupConfig
from riskcli.services.backup.create import CreateResult, clean_partials, create_backup
from riskcli.services.backup.prune import PrunePolicy
from riskcli.services.backup.records import backup_status, list_backups
from riskcli.services.backup.restore import DrillResult, RestoreResult, drill, restore_backup
from riskcli.services.backup.retention import PruneOutcome, newest_verified, prune_backups
from riskcli.services.backup.verify import (
    Verified,
    VerifyReport,
    is_encrypted,
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
    "clean_partials",
    "create_backup",
    "drill",
    "is_encrypted",
    "list_backups",
    "newest_verified",
    "prune_backups",
    "restore_backup",
    "verify_and_record",
    "verify_backup",
]

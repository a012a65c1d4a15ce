"""The `[backup]` section of riskcli.toml, with its defaults.

```toml
[backup]
dir = "/srv/backups/riskcli"        # default: a `backups` folder beside the store
recipients = ["age1..."]            # default: none (the snapshot stays under the master key)
identity = "/root/.config/riskcli/backup-key.txt"   # for verify/restore/drill of age backups
keep_last = 7                       # prune defaults; the command line overrides each
keep_daily = 14
keep_weekly = 8
keep_monthly = 12
```
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_FOLDER = "backups"


class BackupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dir: str | None = Field(
        default=None, description="Backup folder; default `backups` beside the store."
    )
    recipients: list[str] = Field(
        default_factory=list, description="age X25519 public keys every backup is encrypted to."
    )
    identity: str | None = Field(
        default=None, description="age identity file used to read age-encrypted backups."
    )
    keep_last: int = Field(default=0, ge=0)
    keep_daily: int = Field(default=0, ge=0)
    keep_weekly: int = Field(default=0, ge=0)
    keep_monthly: int = Field(default=0, ge=0)

    def folder(self, store_path: Path, option: Path | None = None) -> Path:
        """The backup folder: the option, else `dir` (relative to the store), else the default."""
        if option is not None:
            return option
        if self.dir:
            path = Path(self.dir).expanduser()
            return path if path.is_absolute() else store_path.parent / path
        return store_path.parent / DEFAULT_FOLDER

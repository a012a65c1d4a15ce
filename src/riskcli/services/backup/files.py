"""Backup file names and durable file operations.

Names sort by time: ``riskcli-20261129T142300.123Z.rcbk`` (``.rcbk.age`` when age-encrypted).
Work in progress lives under a dot-name ending in ``.partial`` in the destination folder, so a
crash never leaves anything under a final name, and `list` and `prune` never mistake it for a
backup.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "riskcli-"
SUFFIX = ".rcbk"
AGE_SUFFIX = ".rcbk.age"
PARTIAL_SUFFIX = ".partial"
_NAME = re.compile(r"^riskcli-(\d{8}T\d{6}\.\d{3}Z)(?:-(\d+))?\.rcbk(\.age)?$")


def backup_name(ts: datetime, *, encrypted: bool, serial: int = 0) -> str:
    stamp = ts.astimezone(UTC).strftime("%Y%m%dT%H%M%S.") + f"{ts.microsecond // 1000:03d}Z"
    extra = f"-{serial}" if serial else ""
    return f"{PREFIX}{stamp}{extra}{AGE_SUFFIX if encrypted else SUFFIX}"


def parse_name(name: str) -> tuple[datetime, bool] | None:
    """The time a backup name carries and whether it is age-encrypted; None if not ours.

    >>> parse_name("riskcli-20261129T142300.123Z.rcbk")
    (datetime.datetime(2026, 11, 29, 14, 23, 0, 123000, tzinfo=datetime.timezone.utc), False)
    >>> parse_name("notes.txt") is None
    True
    """
    match = _NAME.match(name)
    if not match:
        return None
    ts = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    return ts, match.group(3) is not None


def list_backup_files(folder: Path) -> list[Path]:
    """Backup files in *folder*, oldest first (names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and parse_name(p.name) is not None)


def partial_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}{PARTIAL_SUFFIX}")


def remove_quietly(path: Path) -> None:
    """Remove a file if it is there; cleanup never hides the error that made it necessary."""
    with contextlib.suppress(OSError):
        path.unlink()


def stale_partials(folder: Path, older_than_s: float, now: float) -> list[Path]:
    """Leftovers of interrupted runs (``.*.partial`` files and dirs) older than a threshold."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        if p.name.startswith(".") and p.name.endswith(PARTIAL_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                if now - p.stat().st_mtime > older_than_s:
                    out.append(p)
    return sorted(out)

"""The run lock: two overlapping monitor runs on one store cannot both run.

The lock is an exclusive `flock` on `<store>.monitor.lock` (`riskcli.storage.locks`), held for
the whole run, so a stale lock can never block a run forever. While it holds the lock, a run
writes its pid, its host and its start time into the file and empties the file when it
finishes; a run that finds the file still filled but the lock free knows that its predecessor
was killed, takes the lock over and says so in its summary.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskcli.domain.errors import InputError
from riskcli.storage.locks import exclusive_lock, pid_alive


class MonitorLocked(InputError):
    """Another monitor run holds the lock (exit 1)."""


@dataclass
class LockInfo:
    path: Path
    #: "took over the lock of a killed run (pid 123, started ...)" or None
    takeover: str | None = None


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".monitor.lock")


def _read_holder(fd: int) -> dict[str, Any] | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return {"pid": 0, "started_at": "unknown"}
    return value if isinstance(value, dict) else None


def _describe(holder: dict[str, Any]) -> str:
    host = holder.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return f"pid {holder.get('pid', '?')}{where}, started {holder.get('started_at', '?')}"


@contextmanager
def run_lock(store_path: Path) -> Iterator[LockInfo]:
    """Hold the monitor lock of `store_path` for the duration of the block, or fail at once."""
    path = lock_path(store_path)

    def busy(fd: int) -> MonitorLocked:
        holder = _read_holder(fd)
        who = f" ({_describe(holder)})" if holder else ""
        return MonitorLocked(
            f"another monitor run is in progress on {store_path.name}{who}; not starting"
        )

    with exclusive_lock(path, busy=busy) as fd:
        info = LockInfo(path)
        previous = _read_holder(fd)
        if previous is not None:
            state = "killed" if not pid_alive(int(previous.get("pid", 0) or 0)) else "stopped"
            info.takeover = f"took over the lock left by a {state} run ({_describe(previous)})"
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        os.fsync(fd)
        try:
            yield info
        finally:
            os.ftruncate(fd, 0)

"""Waiting for the store's write lock, in turn, and saying who holds it.

SQLite's own busy handler polls: it sleeps and tries again, up to 100 ms apart. A writer that
commits and begins again at once (a stream of small transactions) is almost never caught
without the lock, so a second writer could starve for its whole timeout and fail with
`database is locked` although the lock was free thousands of times. riskcli's writers take
turns instead:

- a writer that finds the lock taken tries again every few milliseconds, up to its wait
  (`--wait`), and leaves its pid in `<db>-waiting` meanwhile;
- a writer that ends a transaction while that file names another live process gives way: it
  begins nothing new until the waiter has had the lock (at most GIVE_WAY_S);
- a writer that holds the lock for a command leaves `<db>-writer` (pid, user, command, since),
  so a waiter that runs out of time can say who holds it.

Writers that are not riskcli (the sqlite3 shell, say) neither announce nor give way; they are
waited for all the same, only not named.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskcli.domain.errors import StoreBusy
from riskcli.storage.locks import pid_alive

if TYPE_CHECKING:
    from riskcli.storage.dbapi import Connection

#: how long a writer that just committed lets a waiting one go first, at most
GIVE_WAY_S = 0.5
#: the waiter's first and longest pause between two tries
RETRY_FIRST_S = 0.001
RETRY_LONGEST_S = 0.01


def waiting_path(db: Path) -> Path:
    return Path(f"{db}-waiting")


def holder_path(db: Path) -> Path:
    return Path(f"{db}-writer")


def is_busy(exc: BaseException) -> bool:
    text = str(exc)
    return "database is locked" in text or "database is busy" in text


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


# ---- who holds the lock ----------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    pid: int
    user: str
    action: str
    since: datetime

    def describe(self) -> str:
        at = self.since.astimezone().strftime("%H:%M:%S")
        return f"{self.action} by {self.user} since {at} (pid {self.pid})"


def write_holder(db: Path, user: str, action: str) -> None:
    """Say who holds the lock (best effort: a folder we cannot write to only loses the name)."""
    record = {
        "pid": os.getpid(),
        "user": user,
        "action": action,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError):
        holder_path(db).write_text(json.dumps(record), encoding="utf-8")


def clear_holder(db: Path) -> None:
    with contextlib.suppress(OSError):
        holder_path(db).unlink(missing_ok=True)


def read_holder(db: Path) -> Holder | None:
    """The live riskcli process that said it holds the lock, or None."""
    try:
        record: Any = json.loads(holder_path(db).read_text(encoding="utf-8"))
        holder = Holder(
            pid=int(record["pid"]),
            user=str(record["user"]),
            action=str(record["action"]),
            since=datetime.fromisoformat(str(record["since"])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return holder if holder.pid != os.getpid() and pid_alive(holder.pid) else None


def busy_message(db: Path) -> str:
    holder = read_holder(db)
    who = holder.describe() if holder else "another program holds its write lock"
    return f"the store is busy: {who}; try again or pass --wait"


# ---- taking turns ----------------------------------------------------------------------------


def _announce(db: Path) -> bool:
    """Leave our pid in the waiting file unless another live waiter is there; True if ours."""
    path = waiting_path(db)
    pid = _read_pid(path)
    if pid == os.getpid():
        return True
    if pid is not None and pid_alive(pid):
        return False
    try:
        path.write_text(str(os.getpid()), encoding="ascii")
    except OSError:
        return False
    return True


def _withdraw(db: Path) -> None:
    path = waiting_path(db)
    if _read_pid(path) == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def begin_immediate(conn: Connection, db: Path, wait_s: float, busy_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting in turn up to *wait_s* seconds; StoreBusy when that runs out.

    *busy_ms* is the connection's busy timeout for its other statements, restored after."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except Exception as exc:
            if not is_busy(exc):
                raise
        deadline = time.monotonic() + wait_s
        pause = RETRY_FIRST_S
        try:
            while True:
                _announce(db)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(busy_message(db))
                time.sleep(min(pause, left))
                pause = min(pause * 2, RETRY_LONGEST_S)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except Exception as exc:
                    if not is_busy(exc):
                        raise
        finally:
            _withdraw(db)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")


def give_way(db: Path) -> None:
    """After a commit or rollback: if another live process waits for the lock, let it go first."""
    path = waiting_path(db)
    if not os.path.exists(path):
        return
    pid = _read_pid(path)
    if pid is None or pid == os.getpid() or not pid_alive(pid):
        return
    until = time.monotonic() + GIVE_WAY_S
    while time.monotonic() < until and _read_pid(path) == pid:
        time.sleep(0.001)

"""Advisory file locks: one exclusive `flock` on a lock file beside the store, held for a block;
and whether the process a lock or marker file names is still alive.

The kernel drops a flock when its holder exits or is killed, so a stale lock never blocks for
ever. Lock files are created 0600 and never deleted: deleting a locked file lets a third process
lock a fresh inode while a second still holds the old one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from riskcli.domain.errors import InputError, StoreBusy


@contextmanager
def exclusive_lock(
    path: Path,
    *,
    wait: bool = False,
    busy: Callable[[int], Exception] | None = None,
) -> Iterator[int]:
    """Hold an exclusive lock on `path` for the block and yield its file descriptor (the holder
    may write into the file). With `wait` block until it is free; otherwise a lock held
    elsewhere raises at once: `busy(fd)` when given (it may read the file), else StoreBusy."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise InputError(f"cannot create the lock file {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if busy is not None:
                raise busy(fd) from None
            raise StoreBusy(f"{path} is locked by another riskcli process") from None
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

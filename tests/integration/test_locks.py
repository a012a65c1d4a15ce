"""The one lock helper: exclusive, fail-at-once or wait, released when the block ends."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from riskcli.domain.errors import InputError, StoreBusy
from riskcli.storage.locks import exclusive_lock


def test_a_held_lock_fails_at_once_and_frees_when_the_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "book.db.lock"
    with exclusive_lock(path) as fd:
        os.write(fd, b"holder")
        held = f"^{path} is locked by another riskcli process$"
        with pytest.raises(StoreBusy, match=held), exclusive_lock(path):
            pass
        with (
            pytest.raises(InputError, match="^busy: holder$"),
            exclusive_lock(path, busy=lambda f: InputError(f"busy: {os.pread(f, 9, 0).decode()}")),
        ):
            pass
    with exclusive_lock(path):
        pass  # free again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.exists()


def test_wait_blocks_until_the_holder_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "keys.lock"
    order: list[str] = []
    with exclusive_lock(path):

        def second() -> None:
            with exclusive_lock(path, wait=True):
                order.append("second")

        worker = threading.Thread(target=second)
        worker.start()
        time.sleep(0.2)
        order.append("first done")
    worker.join(timeout=10)
    assert order == ["first done", "second"]


def test_a_lock_file_that_cannot_be_created_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "x.lock"
    message = f"^cannot create the lock file {path}: "
    with pytest.raises(InputError, match=message), exclusive_lock(path):
        pass

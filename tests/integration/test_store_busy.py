"""A busy store explained: writers wait in turn up to --wait, then name who holds the lock."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.domain.errors import StoreBusy
from riskcli.services import backup as backup_service
from riskcli.storage import writelock
from riskcli.storage.store import Store, open_store

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from riskcli.storage.store import open_store
    db, stop = Path(sys.argv[1]), Path(sys.argv[2])
    store = open_store(db, "alice", b"correct horse battery staple")
    store.activity = "import customers"
    with store.transaction():
        store.execute("INSERT INTO meta(key, value) VALUES ('held', '1')")
        print("holding", flush=True)
        deadline = time.monotonic() + 60
        while not stop.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    """
)


def env_for(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.update(
        RISKCLI_DB=str(db),
        RISKCLI_USER=USER,
        RISKCLI_PASSPHRASE=PASSPHRASE,
        RISKCLI_KDF_PROFILE="fast",
        **extra,
    )
    return env


@pytest.fixture
def held(store_path: Path, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another riskcli process in the middle of `import customers`, holding the write lock."""
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store_path), str(stop)],
        env=env_for(store_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    try:
        yield proc
    finally:
        stop.write_text("")
        proc.communicate(timeout=60)


def run(db: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskcli", *args],
        env=env_for(db, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


BUSY = re.compile(
    r"the store is busy: import customers by alice since \d\d:\d\d:\d\d \(pid (\d+)\); "
    r"try again or pass --wait"
)


def test_a_writer_out_of_time_names_the_holder_and_changes_nothing(
    store_path: Path, held: subprocess.Popen[str], tmp_path: Path
) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("customer_id,name\nC1,Acme\n", encoding="utf-8")
    started = time.monotonic()
    done = run(store_path, "--wait", "0.5", "import", "customers", str(csv))
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("Error: ") and "\n" not in line
    match = BUSY.fullmatch(line.removeprefix("Error: "))
    assert match is not None, line
    assert int(match.group(1)) == held.pid
    assert time.monotonic() - started < 30
    # the env variable works the same way
    again = run(store_path, "import", "customers", str(csv), RISKCLI_WAIT="0.2")
    assert again.returncode == 1 and BUSY.fullmatch(again.stderr.strip()[7:])
    held_stop = tmp_path / "stop"
    held_stop.write_text("")
    held.wait(timeout=60)
    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        assert store.scalar("SELECT count(*) FROM customers") == 0


def test_waiting_long_enough_succeeds(store_path: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store_path), str(stop)],
        env=env_for(store_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    with open_store(store_path, USER, PASSPHRASE.encode(), wait=30) as store:
        subprocess.Popen(["sh", "-c", f"sleep 0.5; touch {stop}"])
        started = time.monotonic()
        with store.transaction():
            store.execute("INSERT INTO meta(key, value) VALUES ('mine', '1')")
        assert 0.3 < time.monotonic() - started < 20
    proc.communicate(timeout=60)
    assert not writelock.holder_path(store_path).exists()
    assert not writelock.waiting_path(store_path).exists()


def test_an_unnamed_holder_is_still_explained(store: Store, tmp_path: Path) -> None:
    other = open_store(store.path, USER, PASSPHRASE.encode())
    try:
        other.execute("BEGIN IMMEDIATE")  # a writer that says nothing about itself
        store.wait = 0.2
        with pytest.raises(StoreBusy) as caught, store.transaction():
            pass
        assert str(caught.value) == (
            "the store is busy: another program holds its write lock; try again or pass --wait"
        )
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_dead_holders_note_is_ignored(store: Store) -> None:
    writelock.holder_path(store.path).write_text(
        json.dumps({"pid": 999_999_999, "user": "bob", "action": "x", "since": "2026-01-01"})
    )
    assert writelock.read_holder(store.path) is None
    with store.transaction():
        store.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")


def test_backup_written_and_verified_is_not_failed_by_its_bookkeeping(
    store_path: Path, held: subprocess.Popen[str], tmp_path: Path
) -> None:
    folder = tmp_path / "bk"
    done = run(store_path, "--wait", "0.3", "backup", "create", "--to", str(folder))
    assert done.returncode == 0, done.stderr
    assert "Backup written and verified: " in done.stderr
    assert "Warning: the store is busy: import customers by alice" in done.stderr
    assert "the backup is not in the store's records" in done.stderr
    (made,) = backup_service.files.list_backup_files(folder)
    backup_service.verify_backup(made, USER, PASSPHRASE.encode())


def test_bad_wait_values_are_refused(store_path: Path) -> None:
    bad_env = run(store_path, "status", RISKCLI_WAIT="soon")
    assert bad_env.returncode == 1
    assert bad_env.stderr.strip() == "Error: RISKCLI_WAIT must be a number of seconds, not 'soon'"
    negative = run(store_path, "--wait", "-1", "status")
    assert negative.returncode == 1
    assert negative.stderr.strip() == (
        "Error: --wait must be between 0 and 10,000,000 seconds, not -1"
    )

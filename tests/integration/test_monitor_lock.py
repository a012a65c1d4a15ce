"""Real processes: two overlapping runs, a run killed midway, a reader holding the store open."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskcli.services.monitoring.lock import MonitorLocked, lock_path, run_lock
from riskcli.storage.store import Store, open_store

PASSPHRASE = "correct horse battery staple"

pytestmark = pytest.mark.slow


def seed(store: Store) -> None:
    with store.transaction():
        store.execute(
            "INSERT INTO customers (id, external_id, name, credit_limit) VALUES (1, 'C001', 'A', 0)"
        )
        store.execute(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
            "VALUES ('INV-1', 1, '2026-05-01', '2026-06-01', 500000)"
        )


def env_for(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.update(RISKCLI_DB=str(db), RISKCLI_USER="alice", RISKCLI_PASSPHRASE=PASSPHRASE, **extra)
    return env


def monitor(db: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "riskcli", "monitor", "run", "--as-of", "2026-06-10",
         "--format", "json", *args],
        env=env_for(db, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the paused run never reached its write transaction")
        time.sleep(0.05)


def counts(db: Path) -> tuple[int, int, int]:
    store = open_store(db, "alice", PASSPHRASE.encode())
    try:
        return (
            int(store.scalar("SELECT count(*) FROM alerts")),
            int(store.scalar("SELECT count(*) FROM alert_events")),
            int(store.scalar("SELECT count(*) FROM monitor_runs")),
        )
    finally:
        store.close()


def test_overlapping_run_exits_1_and_killed_run_leaves_nothing(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    seed(store)
    store.close()
    marker = tmp_path / "paused"
    first = monitor(store_path, RISKCLI_FAILPOINTS=f"monitor:alerts-written=pause({marker})")
    wait_for(marker, first)  # the first run is inside its write transaction, alerts written

    second = monitor(store_path)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert out == ""
    assert f"Error: another monitor run is in progress on book.db (pid {first.pid}," in err

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert counts(store_path) == (0, 0, 0)  # nothing of the killed run is left
    holder = json.loads(lock_path(store_path).read_text())
    assert holder["pid"] == first.pid  # the stale lock content is still there

    third = monitor(store_path)
    out, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
    assert [a["rule"] for a in json.loads(out)] == ["payment_overdue"]
    assert f"took over the lock left by a killed run (pid {first.pid}" in err
    assert counts(store_path) == (1, 1, 1)
    assert lock_path(store_path).read_text() == ""  # released cleanly


def test_stale_lock_file_from_dead_pid_is_taken_over(store: Store, store_path: Path) -> None:
    seed(store)
    store.close()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(store_path).write_text(
        json.dumps({"pid": dead.pid, "host": os.uname().nodename, "started_at": "2026-01-01"})
    )
    proc = monitor(store_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"took over the lock left by a killed run (pid {dead.pid}" in err
    runs = open_store(store_path, "alice", PASSPHRASE.encode())
    try:
        note = runs.scalar("SELECT lock_note FROM monitor_runs")
    finally:
        runs.close()
    assert f"pid {dead.pid}" in note


def test_lock_held_in_another_process_blocks_in_process_lock(store_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path\n"
         "from riskcli.services.monitoring.lock import run_lock\n"
         f"with run_lock(Path({str(store_path)!r})):\n"
         "    print('held', flush=True); time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    try:
        busy = f"in progress on book.db \\(pid {holder.pid},"
        with pytest.raises(MonitorLocked, match=busy), run_lock(store_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(store_path) as info:  # killed holder: the lock is free again
        assert info.takeover is not None and f"pid {holder.pid}" in info.takeover


def test_run_works_while_an_analyst_holds_the_store_open(store: Store, store_path: Path) -> None:
    seed(store)
    store.execute("BEGIN")  # an analyst's open read transaction in this process
    assert store.scalar("SELECT count(*) FROM customers") == 1
    try:
        proc = monitor(store_path)
        out, err = proc.communicate(timeout=60)
    finally:
        store.execute("COMMIT")
    assert proc.returncode == 0, err
    assert len(json.loads(out)) == 1

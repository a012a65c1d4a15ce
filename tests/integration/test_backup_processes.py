"""What only real processes show: a backup under a steady writer, and processes killed (SIGKILL)
in the middle of create, prune and restore."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from riskcli.services import backup as svc
from riskcli.services.backup import files
from riskcli.storage import swap
from riskcli.storage.keyslots import KeyFile, keys_path
from riskcli.storage.store import Store, connect_raw, open_store

PASSPHRASE = "correct horse battery staple"
USER = "alice"


def env_for(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.update(
        RISKCLI_DB=str(db),
        RISKCLI_USER=USER,
        RISKCLI_PASSPHRASE=PASSPHRASE,
        **extra,
    )
    return env


def riskcli(db: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskcli", *args],
        env=env_for(db, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def fill(store: Store, rows: int, marker: str) -> None:
    with store.transaction():
        store.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
        store.executemany(
            "INSERT INTO notes(body) VALUES (?)", [(f"{marker}-{i}" * 4,) for i in range(rows)]
        )


# ---- a backup while another process writes continuously ---------------------------------------

WRITER = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from riskcli.storage.store import open_store
    db, stop = Path(sys.argv[1]), Path(sys.argv[2])
    store = open_store(db, "alice", b"correct horse battery staple")
    deadline = time.monotonic() + 60
    n = 0
    while not stop.exists() and time.monotonic() < deadline:
        amount = random.randint(1, 10_000)
        with store.transaction():
            sql = "INSERT INTO {}(amount, pad) VALUES (?, randomblob(200))"
            store.execute(sql.format("ledger_a"), (amount,))
            store.execute("UPDATE totals SET n = n + 1")
            store.execute(sql.format("ledger_b"), (-amount,))
        n += 1
    print(n)
    """
)


def test_backup_under_a_steady_writer_is_consistent(store: Store, tmp_path: Path) -> None:
    with store.transaction():
        store.execute("CREATE TABLE ledger_a (id INTEGER PRIMARY KEY, amount INTEGER, pad BLOB)")
        store.execute("CREATE TABLE ledger_b (id INTEGER PRIMARY KEY, amount INTEGER, pad BLOB)")
        store.execute("CREATE TABLE totals (n INTEGER)")
        store.execute("INSERT INTO totals VALUES (0)")
        store.executemany(
            "INSERT INTO ledger_a(amount, pad) VALUES (?, randomblob(200))",
            [(i,) for i in range(20_000)],
        )
        store.executemany(
            "INSERT INTO ledger_b(amount, pad) VALUES (?, randomblob(200))",
            [(-i,) for i in range(20_000)],
        )
        store.execute("UPDATE totals SET n = 20000")
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.path), str(stop)],
        env=env_for(store.path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        start = store.scalar("SELECT n FROM totals")
        deadline = time.monotonic() + 20
        while store.scalar("SELECT n FROM totals") < start + 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        made = [svc.create_backup(store, PASSPHRASE.encode(), tmp_path / "bk") for _ in range(4)]
        during = store.scalar("SELECT n FROM totals")
    finally:
        stop.write_text("")
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert int(out) > 20, "the writer must have been busy during the backups"
    seen = set()
    for i, backup in enumerate(made):
        target = tmp_path / f"r{i}.db"
        svc.restore_backup(backup.path, target, USER, PASSPHRASE.encode())
        with open_store(target, USER, PASSPHRASE.encode()) as r:
            a = r.scalar("SELECT count(*) FROM ledger_a")
            b = r.scalar("SELECT count(*) FROM ledger_b")
            assert a == b == r.scalar("SELECT n FROM totals")
            assert (
                r.scalar("SELECT sum(amount) FROM ledger_a")
                + r.scalar("SELECT sum(amount) FROM ledger_b")
                == 0
            )
            assert backup.manifest.row_counts["ledger_a"] == a
            seen.add(a)
    assert len(seen) > 1 or during > max(seen), "snapshots should catch the writer at work"


# ---- killed during create ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "point", ["create:snapshot-written", "create:container-written", "create:renamed"]
)
def test_killed_during_create(store_path: Path, tmp_path: Path, point: str) -> None:
    folder = tmp_path / "bk"
    done = riskcli(
        store_path, "backup", "create", "--to", str(folder), RISKCLI_FAILPOINTS=f"{point}=crash"
    )
    assert done.returncode == -signal.SIGKILL
    finals = files.list_backup_files(folder)
    if point == "create:renamed":
        assert len(finals) == 1  # complete before the kill: it must verify
        svc.verify_backup(finals[0], USER, PASSPHRASE.encode())
    else:
        assert finals == []
        assert any(p.name.endswith(".partial") for p in folder.iterdir())
    # the store is untouched and the next run cleans the leftovers of the dead process
    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        assert store.scalar("PRAGMA integrity_check") == "ok"
        svc.create_backup(store, PASSPHRASE.encode(), folder)
    assert not any(p.name.endswith(".partial") for p in folder.iterdir())


def test_killed_at_random_moments_during_create(store: Store, tmp_path: Path) -> None:
    fill(store, 40_000, "bulk")
    store.close()
    folder = tmp_path / "bk"
    folder.mkdir()
    caught_in_the_act = 0
    for delay in (0.0, 0.05, 0.2, 0.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "riskcli", "backup", "create", "--to", str(folder)],
            env=env_for(store.path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.name.endswith(".partial") for p in folder.iterdir()):
                break  # the backup is under way: now kill it somewhere inside
            time.sleep(0.005)
        time.sleep(delay)
        if proc.poll() is None:
            caught_in_the_act += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path in files.list_backup_files(folder):  # whatever is under a final name is whole
            svc.verify_backup(path, USER, PASSPHRASE.encode())
    assert caught_in_the_act >= 2
    with open_store(store.path, USER, PASSPHRASE.encode()) as s:
        assert s.scalar("SELECT count(*) FROM notes") == 40_000
        assert s.scalar("PRAGMA integrity_check") == "ok"


# ---- killed during prune -----------------------------------------------------------------------


def test_killed_during_prune(store_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        for _ in range(5):
            svc.create_backup(store, PASSPHRASE.encode(), folder)
    names = [p.name for p in files.list_backup_files(folder)]
    done = riskcli(
        store_path,
        "backup",
        "prune",
        "--dir",
        str(folder),
        "--keep-last",
        "2",
        RISKCLI_FAILPOINTS="prune:removed-one=crash",
    )
    assert done.returncode == -signal.SIGKILL
    left = [p.name for p in files.list_backup_files(folder)]
    assert left == names[1:]  # the oldest went first; nothing half-deleted
    for path in files.list_backup_files(folder):
        svc.verify_backup(path, USER, PASSPHRASE.encode())
    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        svc.prune_backups(store, folder, svc.PrunePolicy(keep_last=2), PASSPHRASE.encode())
    assert [p.name for p in files.list_backup_files(folder)] == names[-2:]


# ---- killed during restore ---------------------------------------------------------------------

RESTORE_POINTS = [
    "restore:staged",
    "restore:journal-written",
    "restore:old-db-moved",
    "restore:old-keys-moved",
    "restore:new-keys-in",
    "restore:installed",
]


def _state(target: Path, master: bytes, old_keys: bytes, new_keys: bytes) -> str:
    """'old', 'new' or 'absent'; fails the test on a store beside another moment's keys."""
    kpath = keys_path(target)
    if not target.exists():
        return "absent"
    keys = kpath.read_bytes() if kpath.exists() else b""
    conn = connect_raw(target, master)
    try:
        rows = conn.execute("SELECT count(*) FROM notes").fetchone()[0]
    finally:
        conn.close()
    db = "old" if rows == 507 else "new" if rows == 500 else f"rows={rows}"
    keys_state = "old" if keys == old_keys else "new" if keys == new_keys else "other"
    assert db == keys_state, f"mixed store: database {db}, keys file {keys_state}"
    return db


@pytest.mark.parametrize("point", RESTORE_POINTS)
def test_killed_during_restore_leaves_old_or_new_never_a_mix(
    store: Store, tmp_path: Path, point: str
) -> None:
    fill(store, 500, "v1")
    made = svc.create_backup(store, PASSPHRASE.encode(), tmp_path / "bk")
    new_keys = keys_path(store.path).read_bytes()
    # after the backup: more rows, and a keys file of another moment (a new user)
    fill(store, 7, "after")
    _, master = store.keyfile.unwrap(USER, PASSPHRASE.encode())
    keyfile = KeyFile.load(keys_path(store.path))
    keyfile.add_slot("bob", "viewer", b"bob-passphrase", master)
    keyfile.save(keys_path(store.path))
    old_keys = keys_path(store.path).read_bytes()
    store.close()

    done = riskcli(
        store.path, "restore", str(made.path), "--force", RISKCLI_FAILPOINTS=f"{point}=crash"
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    state = _state(store.path, master, old_keys, new_keys)
    committed = point != "restore:staged"  # the journal on disk is the commit point
    expected_before = {
        "restore:staged": "old",
        "restore:journal-written": "old",
        "restore:old-db-moved": "absent",
        "restore:old-keys-moved": "absent",
        "restore:new-keys-in": "absent",
        "restore:installed": "new",
    }
    assert state == expected_before[point]

    message = swap.recover_interrupted_restore(store.path)
    after = _state(store.path, master, old_keys, new_keys)
    assert after == ("new" if committed else "old")
    if point in ("restore:staged",):
        assert message is not None and "discarded" in message
    elif point == "restore:installed":
        assert message is None  # the swap had finished
    else:
        assert message is not None and "completed an interrupted restore" in message
    leftovers = [p.name for p in store.path.parent.iterdir() if "restore-new" in p.name]
    assert leftovers == [] and not swap.journal_path(store.path).exists()
    with open_store(store.path, USER, PASSPHRASE.encode()) as s:  # opens, and is whole
        assert s.scalar("PRAGMA integrity_check") == "ok"
    if committed:  # the replaced store and its keys are kept together
        safety = sorted(store.path.parent.glob("book.db.pre-restore-*[0-9]Z"))
        assert len(safety) == 1 and keys_path(safety[0]).read_bytes() == old_keys


def test_restore_rerun_after_a_crash_completes_it(store: Store, tmp_path: Path) -> None:
    fill(store, 500, "v1")
    made = svc.create_backup(store, PASSPHRASE.encode(), tmp_path / "bk")
    fill(store, 7, "after")
    store.close()
    done = riskcli(
        store.path,
        "restore",
        str(made.path),
        "--force",
        RISKCLI_FAILPOINTS="restore:old-keys-moved=crash",
    )
    assert done.returncode == -signal.SIGKILL
    assert not store.path.exists()  # between the renames: absent, never mixed
    again = riskcli(store.path, "restore", str(made.path), "--force")
    assert again.returncode == 0, again.stderr
    assert "Warning: completed an interrupted restore of " + made.path.name in again.stderr
    with open_store(store.path, USER, PASSPHRASE.encode()) as s:
        assert s.scalar("SELECT count(*) FROM notes") == 500

"""The encrypted store on real files: create, open, every failure told apart."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcli.domain.errors import AccessError, InputError, IntegrityError
from riskcli.storage import migrations
from riskcli.storage.keyslots import keys_path
from riskcli.storage.store import create_store, open_store

PW = b"correct horse battery staple"


def test_create_then_open_applies_all_migrations(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    create_store(path, "alice", PW).close()
    with open_store(path, "alice", PW) as store:
        assert store.role == "admin"
        names = [n for n, _ in migrations.available()]
        assert migrations.applied(store.conn) == names
        assert store.schema_version() == names[-1]
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.scalar("PRAGMA foreign_keys") == 1
        assert store.scalar("PRAGMA secure_delete") == 1
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (keys_path(path).stat().st_mode & 0o777) == 0o600


def test_file_holds_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with create_store(path, "alice", PW) as store, store.transaction():
        store.execute(
            "INSERT INTO customers(external_id, name, phone) VALUES ('C001', '华东精密机械', "
            "'13812345678')"
        )
    blobs = b"".join(
        p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db") and p.is_file()
    )
    assert not blobs.startswith(b"SQLite format 3")
    assert b"SQLite format 3" not in blobs
    assert "华东精密机械".encode() not in blobs
    assert b"13812345678" not in blobs
    assert b"C001" not in blobs


def test_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    create_store(path, "alice", PW).close()
    before = path.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        create_store(path, "alice", PW)
    assert path.read_bytes() == before


def test_wrong_passphrase_and_unknown_user(store_path: Path) -> None:
    with pytest.raises(AccessError, match="^wrong passphrase for user alice$"):
        open_store(store_path, "alice", b"nope")
    with pytest.raises(AccessError, match="unknown user bob"):
        open_store(store_path, "bob", PW)


def test_missing_keys_file(store_path: Path) -> None:
    keys_path(store_path).unlink()
    with pytest.raises(InputError, match="keys file .* is missing"):
        open_store(store_path, "alice", PW)


def test_plain_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    sqlite3.connect(path).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(InputError, match="plain SQLite database"):
        open_store(path, "alice", PW)


def test_unrelated_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"%PDF-1.7 this is not a store" * 100)
    with pytest.raises(InputError, match="keys file .* is missing"):
        open_store(path, "alice", PW)


def test_damaged_store(store_path: Path) -> None:
    data = bytearray(store_path.read_bytes())
    data[5000] ^= 0xFF  # inside page 2
    data[100] ^= 0xFF  # inside page 1
    store_path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="damaged"):
        open_store(store_path, "alice", PW)


def test_keys_of_another_store(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    create_store(a, "alice", PW).close()
    create_store(b, "alice", PW).close()
    keys_path(a).write_bytes(keys_path(b).read_bytes())
    with pytest.raises(IntegrityError):
        open_store(a, "alice", PW)


def test_edited_role_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    create_store(path, "alice", PW, role="viewer").close()
    kp = keys_path(path)
    data = json.loads(kp.read_text())
    data["slots"][0]["role"] = "admin"
    kp.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match="edited outside riskcli"):
        open_store(path, "alice", PW)


def test_damaged_keys_file(store_path: Path) -> None:
    keys_path(store_path).write_text("{not json")
    with pytest.raises(IntegrityError, match="damaged or not a riskcli keys file"):
        open_store(store_path, "alice", PW)


def test_transaction_rolls_back_and_savepoints(store_path: Path) -> None:
    with open_store(store_path, "alice", PW) as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.execute("INSERT INTO customers(external_id) VALUES ('A')")
            raise RuntimeError("boom")
        assert store.scalar("SELECT count(*) FROM customers") == 0
        with store.transaction():
            store.execute("INSERT INTO customers(external_id) VALUES ('B')")
            with pytest.raises(RuntimeError), store.transaction():
                store.execute("INSERT INTO customers(external_id) VALUES ('C')")
                raise RuntimeError("inner")
        assert [r["external_id"] for r in store.query("SELECT external_id FROM customers")] == ["B"]


@settings(max_examples=25, deadline=None)
@given(secret=st.binary(min_size=1, max_size=64), other=st.binary(min_size=1, max_size=64))
def test_only_the_right_secret_unlocks(
    tmp_path_factory: pytest.TempPathFactory, secret: bytes, other: bytes
) -> None:
    path = tmp_path_factory.mktemp("h") / "s.db"
    create_store(path, "u", secret).close()
    open_store(path, "u", secret).close()
    if other != secret:
        with pytest.raises(AccessError):
            open_store(path, "u", other)


def test_references_checked_relaxes_foreign_keys_for_the_block_only(tmp_path: Path) -> None:
    store = create_store(tmp_path / "fk.db", "alice", b"a long passphrase")
    with store.references_checked():
        assert store.scalar("PRAGMA foreign_keys") == 0
    assert store.scalar("PRAGMA foreign_keys") == 1
    with pytest.raises(RuntimeError), store.references_checked():
        raise RuntimeError("the bulk write failed")
    assert store.scalar("PRAGMA foreign_keys") == 1
    with store.transaction(), store.references_checked():  # a caller's transaction: stays on
        assert store.scalar("PRAGMA foreign_keys") == 1
    store.close()

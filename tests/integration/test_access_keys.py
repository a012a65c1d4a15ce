"""Users, keyslots and master-key rotation on real encrypted stores."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.domain.errors import AccessError, InputError, IntegrityError, UsageError
from riskcli.services import access
from riskcli.storage.keyslots import KeyFile, keys_path, pending_keys_path
from riskcli.storage.store import Store, connect_raw, open_store

BOB_PW = b"bob's long passphrase"
CAROL_PW = b"carol's long passphrase"


def _opens(path: Path, key: bytes) -> bool:
    conn = connect_raw(path, key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except Exception:
        return False
    finally:
        conn.close()


def test_added_user_opens_with_own_passphrase_and_role(store: Store, store_path: Path) -> None:
    before = store_path.read_bytes()
    access.add_user(store, "bob", "analyst", secret=BOB_PW)
    assert store_path.read_bytes() == before  # no re-encryption
    with open_store(store_path, "bob", BOB_PW) as bob:
        assert (bob.user, bob.role) == ("bob", "analyst")
    with pytest.raises(AccessError, match="wrong passphrase for user bob"):
        open_store(store_path, "bob", PASSPHRASE.encode())


def test_add_user_rejects_duplicates_bad_roles_and_short_passphrases(store: Store) -> None:
    access.add_user(store, "bob", "viewer", secret=BOB_PW)
    with pytest.raises(InputError, match="user bob already exists"):
        access.add_user(store, "bob", "viewer", secret=BOB_PW)
    with pytest.raises(UsageError, match="unknown role 'boss'"):
        access.add_user(store, "dave", "boss", secret=BOB_PW)
    with pytest.raises(InputError, match="passphrase too short"):
        access.add_user(store, "dave", "viewer", secret=b"short")
    with pytest.raises(UsageError, match="invalid user name"):
        access.add_user(store, "a b", "viewer", secret=BOB_PW)


def test_removed_user_old_key_no_longer_opens_the_store(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    access.add_user(store, "bob", "analyst", secret=BOB_PW)
    access.add_user(store, "carol", "viewer", secret=CAROL_PW)
    # bob keeps a copy of the keys file and learns the master key from it
    old_keys = tmp_path / "bob-copy.keys"
    shutil.copy(keys_path(store_path), old_keys)
    _, old_master = KeyFile.load(old_keys).unwrap("bob", BOB_PW)
    assert _opens(store_path, old_master)

    rotation = access.remove_user(store, "bob")

    assert rotation.removed == "bob" and rotation.users == ["alice", "carol"]
    assert "backups taken before" in rotation.note
    assert not _opens(store_path, old_master)
    # with today's keys file bob is unknown; with his old copy the key opens nothing
    with pytest.raises(AccessError, match="unknown user bob"):
        open_store(store_path, "bob", BOB_PW)
    shutil.copy(old_keys, keys_path(store_path))
    with pytest.raises(IntegrityError, match="does not belong to its keys file"):
        open_store(store_path, "bob", BOB_PW)


def test_rotation_keeps_every_remaining_user_and_the_data(store: Store, store_path: Path) -> None:
    access.add_user(store, "carol", "viewer", secret=CAROL_PW)
    store.execute("INSERT INTO customers(external_id, name) VALUES ('C1', 'Acme')")
    old = store.master_key
    access.rotate(store)
    wal = Path(f"{store_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # no page under the old key left there
    assert store.master_key != old
    assert not _opens(store_path, old) and _opens(store_path, store.master_key)
    assert store.scalar("SELECT name FROM customers WHERE external_id = 'C1'") == "Acme"
    assert not pending_keys_path(store_path).exists()
    for user, secret in ((USER, PASSPHRASE.encode()), ("carol", CAROL_PW)):
        with open_store(store_path, user, secret) as s:
            assert s.scalar("SELECT count(*) FROM customers") == 1


def test_last_admin_cannot_be_removed_or_demoted(store: Store) -> None:
    access.add_user(store, "bob", "analyst", secret=BOB_PW)
    with pytest.raises(InputError, match="you cannot remove yourself"):
        access.remove_user(store, USER)
    with pytest.raises(InputError, match="alice is the last admin"):
        access.set_role(store, USER, "viewer")
    with pytest.raises(InputError, match="alice is the last admin and cannot be removed"):
        access.rotate(store, remove=USER)
    access.set_role(store, "bob", "admin")
    access.set_role(store, USER, "viewer")  # another admin exists now
    assert {u["user"]: u["role"] for u in access.list_users(store)} == {
        "alice": "viewer",
        "bob": "admin",
    }


def test_role_change_takes_effect_on_next_open(store: Store, store_path: Path) -> None:
    access.add_user(store, "bob", "viewer", secret=BOB_PW)
    row = access.set_role(store, "bob", "auditor")
    assert row["previous_role"] == "viewer"
    with open_store(store_path, "bob", BOB_PW) as bob:
        assert bob.role == "auditor"


def test_keys_file_with_an_edited_role_is_rejected(store: Store, store_path: Path) -> None:
    access.add_user(store, "bob", "viewer", secret=BOB_PW)
    kpath = keys_path(store_path)
    data = json.loads(kpath.read_text())
    for slot in data["slots"]:
        if slot["user"] == "bob":
            slot["role"] = "admin"
    kpath.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match="keys file was edited outside riskcli"):
        open_store(store_path, "bob", BOB_PW)
    # the honest admin is refused too: the file as a whole fails authentication
    with pytest.raises(IntegrityError, match="keys file was edited outside riskcli"):
        open_store(store_path, USER, PASSPHRASE.encode())


def test_keys_file_with_a_swapped_public_key_is_rejected(store: Store, store_path: Path) -> None:
    access.add_user(store, "bob", "viewer", secret=BOB_PW)
    kpath = keys_path(store_path)
    data = json.loads(kpath.read_text())
    data["slots"][0]["public_key"], data["slots"][1]["public_key"] = (
        data["slots"][1]["public_key"],
        data["slots"][0]["public_key"],
    )
    kpath.write_text(json.dumps(data))
    with pytest.raises(IntegrityError):
        open_store(store_path, "bob", BOB_PW)


def test_changes_refuse_a_tampered_keys_file(store: Store, store_path: Path) -> None:
    kpath = keys_path(store_path)
    data = json.loads(kpath.read_text())
    data["slots"][0]["role"] = "viewer"
    kpath.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match="edited outside riskcli"):
        access.add_user(store, "bob", "viewer", secret=BOB_PW)


def test_passwd_replaces_the_slot_and_old_passphrase_fails(store: Store, store_path: Path) -> None:
    access.add_user(store, "bob", "analyst", secret=BOB_PW)
    old_slot = KeyFile.load(keys_path(store_path)).find("bob")
    access.change_secret(store, "bob", secret=b"a brand new passphrase")
    new_slot = KeyFile.load(keys_path(store_path)).find("bob")
    assert new_slot.public_key != old_slot.public_key and new_slot.role == "analyst"
    with pytest.raises(AccessError, match="wrong passphrase"):
        open_store(store_path, "bob", BOB_PW)
    with open_store(store_path, "bob", b"a brand new passphrase") as bob:
        assert bob.role == "analyst"


def test_service_user_unlocks_with_a_0600_token_file(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    token_file = tmp_path / "cron.token"
    row = access.add_user(store, "cron", "operator", token_file=token_file)
    assert row["kind"] == "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_bytes().strip()
    assert len(token) == 64 and int(token, 16) >= 0
    with open_store(store_path, "cron", token) as cron:
        assert cron.role == "operator"
    # a second token file is never written over an existing one
    with pytest.raises(InputError, match="already exists"):
        access.add_user(store, "cron2", "operator", token_file=token_file)
    assert "cron2" not in {u["user"] for u in access.list_users(store)}
    # a new token replaces the old one
    new_file = tmp_path / "cron2.token"
    access.change_secret(store, "cron", token_file=new_file)
    with pytest.raises(AccessError):
        open_store(store_path, "cron", token)
    with open_store(store_path, "cron", new_file.read_bytes().strip()) as cron:
        assert cron.user == "cron"


def test_interrupted_rotation_is_recovered_from_the_pending_keys_file(
    store: Store, store_path: Path
) -> None:
    """Crash after the re-key but before the keys file moved: the pending file opens it."""
    pending = pending_keys_path(store_path)
    access.rotate(store)
    # simulate: keys file from before the rotation, pending file from the rotation
    current = keys_path(store_path).read_bytes()
    store_key = store.master_key
    shutil.copy(keys_path(store_path), pending)
    kf = KeyFile.load(keys_path(store_path))
    kf.reseal_all(b"\x01" * 32)  # a keys file whose key no longer matches the store
    kf.save(keys_path(store_path))
    store.close()
    with open_store(store_path, USER, PASSPHRASE.encode()) as s:
        assert s.master_key == store_key
    assert keys_path(store_path).read_bytes() == current
    assert not pending.exists()

"""Users, roles and the master key: adding, removing, re-keying.

Every user has a keyslot in `<db>.keys` (see `riskcli.storage.keyslots`). Adding a user seals
the master key to a new slot; no data is re-encrypted. Removing a user *rotates* the master
key: SQLCipher re-encrypts the file (`PRAGMA rekey`) and the new key is sealed to every
remaining slot, so the removed user's copy of the old key opens nothing — except backups taken
before, which keep the keys file and master key they were taken with.

Changes to the keys file are serialised with a lock file and start from a fresh, authenticated
copy of it. A rotation writes the new keys file beside the old one first (`<db>.keys.new`),
re-keys the store, then moves it into place; if it is interrupted between the two, opening
the store falls back to the pending file.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskcli.domain.errors import AccessError, InputError, IntegrityError, UsageError
from riskcli.domain.permissions import ROLES, Role
from riskcli.services import audit as audit_service
from riskcli.storage.keyslots import (
    KeyFile,
    Slot,
    keys_path,
    new_master_key,
    pending_keys_path,
)
from riskcli.storage.locks import exclusive_lock
from riskcli.storage.store import Store

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: a new passphrase must be at least this long (NIST SP 800-63B asks for 8; we ask a bit more)
MIN_PASSPHRASE = 12
TOKEN_BYTES = 32
PASSPHRASE = "passphrase"
TOKEN = "token"
BACKUP_NOTE = (
    "backups taken before this change still open with the old key and keys file "
    "(and so with the old users); delete or re-take them if that matters"
)


def check_name(name: str) -> str:
    if not USER_NAME.fullmatch(name):
        raise UsageError(
            f"invalid user name {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@'"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return role


def check_secret(secret: bytes) -> bytes:
    if len(secret) < MIN_PASSPHRASE:
        raise InputError(f"passphrase too short: use at least {MIN_PASSPHRASE} characters")
    return secret


# ---- the keys file under a lock ------------------------------------------------------------
@contextmanager
def keys_lock(db_path: Path) -> Iterator[None]:
    """One writer of the keys file at a time (an advisory lock on `<db>.keys.lock`)."""
    with exclusive_lock(db_path.with_name(db_path.name + ".keys.lock"), wait=True):
        yield


def _fresh(store: Store) -> KeyFile:
    """The keys file as it is on disk now, authenticated under the store's master key."""
    keyfile = KeyFile.load(keys_path(store.path))
    if keyfile.store_id != store.keyfile.store_id:
        raise IntegrityError(f"keys file {keys_path(store.path)} belongs to another store")
    keyfile.check(store.master_key)
    return keyfile


def _commit(store: Store, keyfile: KeyFile) -> None:
    keyfile.save(keys_path(store.path))
    store.keyfile = keyfile


def _admins(keyfile: KeyFile) -> list[str]:
    return [s.user for s in keyfile.slots if s.role == Role.ADMIN.value]


def _describe(slot: Slot) -> dict[str, Any]:
    kdf = slot.kdf
    return {
        "user": slot.user,
        "role": slot.role,
        "kind": slot.kind,
        "created": slot.created,
        "kdf": f"argon2id m={kdf.memory_kib // 1024}MiB t={kdf.iterations} p={kdf.lanes}",
        "rotatable": slot.sealed_slot,
    }


# ---- users ----------------------------------------------------------------------------------
def list_users(store: Store) -> list[dict[str, Any]]:
    """Every user with role, slot kind, KDF cost and time of their newest audit event."""
    seen = audit_service.last_activity(store)
    keyfile = _fresh(store)
    return [
        {**_describe(s), "last_activity": seen.get(s.user)}
        for s in sorted(keyfile.slots, key=lambda s: s.user)
    ]


def new_token() -> bytes:
    """A service user's secret: 256 random bits as hex text."""
    return secrets.token_hex(TOKEN_BYTES).encode("ascii")


def write_token_file(path: Path, token: bytes) -> None:
    """Create the token file with mode 0600; never overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{path} already exists; choose a new token file path") from None
    except OSError as exc:
        raise InputError(f"cannot create token file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(token + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def add_user(
    store: Store,
    name: str,
    role: str,
    *,
    secret: bytes | None = None,
    token_file: Path | None = None,
) -> dict[str, Any]:
    """Add a passphrase user, or (with `token_file`) a service user unlocking with a token."""
    check_name(name)
    check_role(role)
    if (secret is None) == (token_file is None):
        raise UsageError("give either a new passphrase or --token-file")
    with keys_lock(store.path):
        keyfile = _fresh(store)
        if any(s.user == name for s in keyfile.slots):
            raise InputError(f"user {name} already exists")
        if token_file is not None:
            token = new_token()
            write_token_file(token_file, token)
            try:
                slot = keyfile.add_slot(name, role, token, store.master_key, kind=TOKEN)
                _commit(store, keyfile)
            except BaseException:
                token_file.unlink(missing_ok=True)
                raise
        else:
            assert secret is not None
            slot = keyfile.add_slot(name, role, check_secret(secret), store.master_key)
            _commit(store, keyfile)
    return _describe(slot)


def set_role(store: Store, name: str, role: str) -> dict[str, Any]:
    check_role(role)
    with keys_lock(store.path):
        keyfile = _fresh(store)
        slot = keyfile.find(name)
        if slot.role == Role.ADMIN.value and role != slot.role and len(_admins(keyfile)) == 1:
            raise InputError(f"{name} is the last admin: make another user admin first")
        before = slot.role
        keyfile.set_role(name, role, store.master_key)
        _commit(store, keyfile)
    return {**_describe(slot), "previous_role": before}


def change_secret(
    store: Store, name: str, *, secret: bytes | None = None, token_file: Path | None = None
) -> dict[str, Any]:
    """A new passphrase (or a new token for a service user): a fresh key pair for the slot."""
    with keys_lock(store.path):
        keyfile = _fresh(store)
        slot = keyfile.find(name)
        if slot.kind == TOKEN:
            if token_file is None:
                raise UsageError(
                    f"{name} is a service user: give --token-file PATH for its new token"
                )
            token = new_token()
            write_token_file(token_file, token)
            try:
                keyfile.replace_secret(name, token, store.master_key)
                _commit(store, keyfile)
            except BaseException:
                token_file.unlink(missing_ok=True)
                raise
        else:
            if secret is None:
                raise UsageError(f"{name} unlocks with a passphrase: give the new passphrase")
            keyfile.replace_secret(name, check_secret(secret), store.master_key)
            _commit(store, keyfile)
    return _describe(slot)


@dataclass
class Rotation:
    users: list[str]
    removed: str | None
    note: str = BACKUP_NOTE

    def summary(self) -> dict[str, Any]:
        return {
            "removed": self.removed or "",
            "master_key": "rotated",
            "slots_resealed": len(self.users),
            "users": ", ".join(self.users),
            "note": self.note,
        }


def remove_user(store: Store, name: str) -> Rotation:
    """Remove a user's slot and rotate the master key so their old key opens nothing."""
    if name == store.user:
        raise InputError("you cannot remove yourself: ask another admin")
    return rotate(store, remove=name)


def rotate(store: Store, *, remove: str | None = None) -> Rotation:
    """A new master key: re-key the file, re-seal every remaining slot."""
    if store.in_transaction or store.conn.in_transaction:
        raise InputError("cannot rotate the master key inside a transaction")
    with keys_lock(store.path):
        keyfile = _fresh(store)
        if remove is not None:
            slot = keyfile.find(remove)
            if slot.role == Role.ADMIN.value and len(_admins(keyfile)) == 1:
                raise InputError(f"{remove} is the last admin and cannot be removed")
            keyfile.remove_slot(remove, store.master_key)
        new_key = new_master_key()
        keyfile.reseal_all(new_key)
        pending = pending_keys_path(store.path)
        keyfile.save(pending)
        try:
            _rekey(store, new_key)
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        os.replace(pending, keys_path(store.path))
        _fsync_dir(store.path.parent)
        store.keyfile = keyfile
    return Rotation(sorted(s.user for s in keyfile.slots), remove)


def _rekey(store: Store, key: bytes) -> None:
    """Re-encrypt every page under `key`; the WAL is emptied before and after, so no page
    encrypted under the old key stays in it."""
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    row = store.execute(f"PRAGMA rekey = \"x'{key.hex()}'\"").fetchone()
    if row is not None and str(row[0]).lower() != "ok":
        raise InputError("the store could not be re-keyed; nothing was changed")
    store.master_key = key
    store.execute("SELECT count(*) FROM sqlite_master").fetchone()
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def whoami(store: Store) -> dict[str, Any]:
    try:
        slot = store.keyfile.find(store.user)
    except AccessError:
        return {"user": store.user, "role": store.role}
    return _describe(slot)

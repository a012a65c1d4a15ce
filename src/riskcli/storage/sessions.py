"""Unlock sessions: a user's master key kept for a while, sealed under a random session key.

`riskcli unlock` derives the slot key once (Argon2id), then seals the unwrapped master key with
AES-256-GCM under a fresh random 256-bit session key and writes the result to a 0600 file in a
0700 folder of the user's own (`$XDG_RUNTIME_DIR/riskcli`, else `/tmp/riskcli-<uid>`). The
session key is never written: it is printed once for `export RISKCLI_SESSION=...`, as `bw
unlock` prints BW_SESSION. Neither half opens anything alone.

The file names the store and the user; its expiry is bound into the GCM tag, so editing it
breaks the seal. A command finds the session through `RISKCLI_SESSION`: an expired session is
deleted on sight, a session key that does not open the file is refused (exit 3), and the user's
slot must still be in the keys file, so a removed user's session stops working at once. After a
master-key rotation the sealed key is stale: the session is deleted and the command falls back
to the passphrase.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from riskcli.domain.errors import AccessError, IntegrityError, UsageError
from riskcli.storage.store import Store, load_keyfile, open_with_key

ENV = "RISKCLI_SESSION"
FORMAT = "riskcli-session"
DEFAULT_LIFETIME = timedelta(minutes=15)
MAX_LIFETIME = timedelta(hours=24)
MIN_LIFETIME = timedelta(seconds=10)
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SessionGone(Exception):
    """No usable unlock session (none, expired, or stale after a key rotation): unlock with
    the passphrase instead. The message says which."""


@dataclass(frozen=True)
class UnlockSession:
    path: Path
    user: str
    expires: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def parse_lifetime(text: str) -> timedelta:
    """`15m`, `90s`, `2h`, `1h30m`: between 10 seconds and 24 hours; else a usage error."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise UsageError(f"--for must be a duration like 15m, 2h or 1h30m, not {text!r}")
    lifetime = timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise UsageError(f"--for must be between 10s and 24h, not {text!r}")
    return lifetime


def session_dir() -> Path:
    """The user's own folder for session files, created 0700; refused if anyone else could
    reach into it (another owner, a symlink, group or world access)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        folder = Path(runtime) / "riskcli"
    else:
        folder = Path(tempfile.gettempdir()) / f"riskcli-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise AccessError(f"cannot create the session folder {folder}: {exc.strerror}") from None
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise AccessError(f"session folder {folder} is not a folder of your own; not using it")
    if info.st_mode & 0o077:
        raise AccessError(f"session folder {folder} is open to other users (mode must be 0700)")
    return folder


def session_path(store_id: str, user: str) -> Path:
    return session_dir() / f"{store_id}.{user}.session"


def _aad(store_id: str, user: str, expires: str) -> bytes:
    return f"{FORMAT}:{store_id}:{user}:{expires}".encode()


def _encode(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def _decode(token: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise AccessError(f"{ENV} is not a riskcli session key")
    return key


def start(store: Store, lifetime: timedelta) -> tuple[str, UnlockSession]:
    """Seal the open store's master key for `lifetime`; return the session key and the session.

    Replaces an earlier session of the same user on the same store."""
    store_id = store.keyfile.store_id
    expires = (_now() + lifetime).replace(microsecond=0)
    stamp = expires.isoformat()
    key = secrets.token_bytes(32)
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, store.master_key, _aad(store_id, store.user, stamp))
    body = {
        "format": FORMAT,
        "store_id": store_id,
        "store": str(store.path),
        "user": store.user,
        "expires": stamp,
        "nonce": _encode(nonce),
        "sealed": _encode(sealed),
    }
    path = session_path(store_id, store.user)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(body))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _encode(key), UnlockSession(path, store.user, expires)


def end(store_id: str, user: str) -> bool:
    """Delete the user's session of this store; True if there was one."""
    path = session_path(store_id, user)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def _unseal(path: Path, store_id: str, user: str, token: str) -> bytes:
    if not path.exists():
        raise SessionGone(f"no unlock session of {user} on this store (ended or expired)")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        expires = datetime.fromisoformat(str(body["expires"]))
        nonce = _raw(str(body["nonce"]))
        sealed = _raw(str(body["sealed"]))
    except (ValueError, KeyError, TypeError, OSError):
        path.unlink(missing_ok=True)
        raise SessionGone(
            f"the unlock session file of {user} was unreadable and is removed"
        ) from None
    if _now() >= expires:
        path.unlink(missing_ok=True)
        raise SessionGone(f"the unlock session of {user} expired at {expires:%Y-%m-%d %H:%M} UTC")
    key = _decode(token)
    try:
        return AESGCM(key).decrypt(nonce, sealed, _aad(store_id, user, str(body["expires"])))
    except InvalidTag:
        raise AccessError(
            f"{ENV} does not open the unlock session of {user} on this store "
            "(run `riskcli unlock` again, or unset it)"
        ) from None


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def open_with_session(path: Path, user: str, token: str, *, wait: float = 60.0) -> Store:
    """Open the store at `path` for `user` with the master key of their unlock session.

    Raises SessionGone when there is no usable session (the caller unlocks with the passphrase),
    AccessError when the session key is wrong or the user no longer has a slot."""
    keyfile = load_keyfile(path)
    spath = session_path(keyfile.store_id, user)
    try:
        slot = keyfile.find(user)
    except AccessError:  # a removed user: their session stops at once
        spath.unlink(missing_ok=True)
        raise
    master = _unseal(spath, keyfile.store_id, user, token)
    try:
        keyfile.check(master)
    except IntegrityError:
        spath.unlink(missing_ok=True)
        raise SessionGone(
            f"the unlock session of {user} ended: the store's master key changed since it began"
        ) from None
    return open_with_key(path, master, keyfile, user, slot.role, wait=wait)

"""Keyslots: the store's master key wrapped once per user, in `<db>.keys` beside the store.

Like LUKS, borg and restic: each slot holds the random 256-bit master key encrypted with
AES-256-GCM under a key derived by Argon2id from that user's passphrase (or a service user's
token). KDF parameters live in each slot. A wrong passphrase fails the GCM tag, which is how
"wrong passphrase" is told apart from a damaged store. The list of users and roles is
authenticated with an HMAC under a key derived from the master key, so editing a role by hand
grants nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from riskcli.domain.errors import AccessError, InputError, IntegrityError

FORMAT = "riskcli-keys"
VERSION = 1
MASTER_KEY_BYTES = 32


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. The default follows RFC 9106's second recommended option."""

    iterations: int = 3
    memory_kib: int = 64 * 1024
    lanes: int = 4
    salt: str = ""  # base64; filled per slot

    @classmethod
    def default(cls) -> KdfParams:
        # Tests (and only tests) ask for cheap slots; `riskcli doctor` flags weak slots.
        if os.environ.get("RISKCLI_KDF_PROFILE") == "fast":
            return cls(iterations=1, memory_kib=1024, lanes=1)
        return cls()

    def with_salt(self) -> KdfParams:
        return KdfParams(
            self.iterations, self.memory_kib, self.lanes, _b64(secrets.token_bytes(16))
        )

    def derive(self, secret: bytes) -> bytes:
        kdf = Argon2id(
            salt=_unb64(self.salt),
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(secret)


@dataclass
class Slot:
    user: str
    role: str
    kind: str  # "passphrase" or "token"
    kdf: KdfParams
    nonce: str
    wrapped: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kdf"] = {"alg": "argon2id", **asdict(self.kdf)}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Slot:
        kdf = dict(data["kdf"])
        kdf.pop("alg", None)
        return cls(
            user=str(data["user"]),
            role=str(data["role"]),
            kind=str(data.get("kind", "passphrase")),
            kdf=KdfParams(**kdf),
            nonce=str(data["nonce"]),
            wrapped=str(data["wrapped"]),
            created=str(data.get("created", "")),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_master_key() -> bytes:
    return secrets.token_bytes(MASTER_KEY_BYTES)


def keys_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".keys")


def subkey(master_key: bytes, purpose: str) -> bytes:
    """A key for one purpose derived from the master key (HMAC-SHA256 as a PRF)."""
    return hmac.new(master_key, b"riskcli:" + purpose.encode(), hashlib.sha256).digest()


@dataclass
class KeyFile:
    store_id: str
    slots: list[Slot]
    roles_mac: str = ""

    # ---- creation and persistence -------------------------------------------------------
    @classmethod
    def new(cls) -> KeyFile:
        return cls(store_id=str(uuid.uuid4()), slots=[])

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        if not path.exists():
            raise InputError(
                f"keys file {path} is missing: the store cannot be unlocked without it "
                "(restore it from a backup)"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("format")
            return cls(
                store_id=str(data["store_id"]),
                slots=[Slot.from_json(s) for s in data["slots"]],
                roles_mac=str(data.get("roles_mac", "")),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise IntegrityError(f"keys file {path} is damaged or not a riskcli keys file") from exc

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "store_id": self.store_id,
                "slots": [s.to_json() for s in self.slots],
                "roles_mac": self.roles_mac,
            },
            indent=2,
        )

    def save(self, path: Path) -> None:
        """Write atomically (temp file, fsync, rename) with mode 0600."""
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    # ---- slots ----------------------------------------------------------------------------
    def _aad(self, user: str, kind: str) -> bytes:
        return f"riskcli-slot:{self.store_id}:{user}:{kind}".encode()

    def find(self, user: str) -> Slot:
        for slot in self.slots:
            if slot.user == user:
                return slot
        raise AccessError(f"unknown user {user} for this store")

    def add_slot(
        self,
        user: str,
        role: str,
        secret: bytes,
        master_key: bytes,
        *,
        kind: str = "passphrase",
        kdf: KdfParams | None = None,
    ) -> Slot:
        if any(s.user == user for s in self.slots):
            raise InputError(f"user {user} already exists")
        params = (kdf or KdfParams.default()).with_salt()
        nonce = secrets.token_bytes(12)
        wrapped = AESGCM(params.derive(secret)).encrypt(nonce, master_key, self._aad(user, kind))
        slot = Slot(user, role, kind, params, _b64(nonce), _b64(wrapped))
        self.slots.append(slot)
        self.seal(master_key)
        return slot

    def unwrap(self, user: str, secret: bytes) -> tuple[Slot, bytes]:
        """Return the user's slot and the master key; a wrong secret raises AccessError."""
        slot = self.find(user)
        try:
            key = AESGCM(slot.kdf.derive(secret)).decrypt(
                _unb64(slot.nonce), _unb64(slot.wrapped), self._aad(user, slot.kind)
            )
        except InvalidTag:
            raise AccessError(f"wrong passphrase for user {user}") from None
        except ValueError as exc:
            raise IntegrityError(f"keyslot of user {user} is damaged") from exc
        self.check(key)
        return slot, key

    # ---- roles authentication -------------------------------------------------------------
    def _roles_message(self) -> bytes:
        entries = sorted((s.user, s.role, s.kind, s.wrapped) for s in self.slots)
        return json.dumps([self.store_id, entries], separators=(",", ":")).encode()

    def seal(self, master_key: bytes) -> None:
        """Recompute the HMAC over users and roles (after any change to the slots)."""
        mac = hmac.new(subkey(master_key, "roles"), self._roles_message(), hashlib.sha256)
        self.roles_mac = mac.hexdigest()

    def check(self, master_key: bytes) -> None:
        mac = hmac.new(subkey(master_key, "roles"), self._roles_message(), hashlib.sha256)
        if not hmac.compare_digest(mac.hexdigest(), self.roles_mac):
            raise IntegrityError(
                "keys file was edited outside riskcli: its users and roles fail authentication"
            )

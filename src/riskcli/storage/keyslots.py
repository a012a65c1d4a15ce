"""Keyslots: the store's master key wrapped once per user, in `<db>.keys` beside the store.

Like LUKS, borg and restic: each slot holds the random 256-bit master key encrypted with
AES-256-GCM under a key derived by Argon2id from that user's passphrase (or a service user's
token). KDF parameters live in each slot. A wrong passphrase fails the GCM tag, which is how
"wrong passphrase" is told apart from a damaged store. The list of users and roles is
authenticated with an HMAC under a key derived from the master key, so editing a role by hand
grants nothing.

Each slot (version 2) also holds an X25519 key pair: the passphrase-derived key wraps the slot's
private key, and the master key is *sealed* to the slot's public key (an ephemeral X25519
exchange, HKDF-SHA256, AES-256-GCM). Sealing needs no passphrase, so a master-key rotation
re-seals the new key to every remaining slot; a removed user keeps only the old master key,
which no longer opens the re-keyed store. Slots written before version 2 wrap the master key
directly and still unlock, but cannot follow a rotation (`riskcli user passwd` upgrades them).
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
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from riskcli.domain.errors import AccessError, InputError, IntegrityError

FORMAT = "riskcli-keys"
VERSION = 2
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
        """The cost of every new slot. No setting or environment variable lowers it: the
        tests patch this method (tests/cheap_kdf) to write cheap slots."""
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
    public_key: str = ""  # v2: X25519 public key; `wrapped` then holds the private key
    sealed: str = ""  # v2: the master key sealed to `public_key`

    @property
    def sealed_slot(self) -> bool:
        """A version-2 slot, which a master-key rotation can re-seal without the passphrase."""
        return bool(self.public_key and self.sealed)

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
            public_key=str(data.get("public_key", "")),
            sealed=str(data.get("sealed", "")),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_master_key() -> bytes:
    return secrets.token_bytes(MASTER_KEY_BYTES)


def keys_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".keys")


def pending_keys_path(db_path: Path) -> Path:
    """The keys file of a master-key rotation in progress (see riskcli.services.access)."""
    return db_path.with_name(db_path.name + ".keys.new")


def _raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _raw_private(private: X25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _seal_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"riskcli-seal:" + ephemeral + recipient,
    ).derive(shared)


def seal_to(public_key: bytes, message: bytes, aad: bytes) -> bytes:
    """ECIES-style: ephemeral X25519 public key (32) || nonce (12) || AES-256-GCM ciphertext."""
    ephemeral = X25519PrivateKey.generate()
    eph_public = _raw_public(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_seal_key(shared, eph_public, public_key)).encrypt(nonce, message, aad)
    return eph_public + nonce + sealed


def open_sealed(private_key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of `seal_to`; raises InvalidTag when the blob or the key is wrong."""
    private = X25519PrivateKey.from_private_bytes(private_key)
    eph_public, nonce, sealed = blob[:32], blob[32:44], blob[44:]
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph_public))
    return AESGCM(_seal_key(shared, eph_public, _raw_public(private))).decrypt(nonce, sealed, aad)


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

    def _seal_aad(self, user: str, kind: str) -> bytes:
        return b"sealed:" + self._aad(user, kind)

    def _material(
        self, user: str, kind: str, secret: bytes, master_key: bytes, kdf: KdfParams | None
    ) -> tuple[KdfParams, str, str, str, str]:
        """Fresh key pair, private key wrapped under the secret, master key sealed to it."""
        params = (kdf or KdfParams.default()).with_salt()
        private = X25519PrivateKey.generate()
        public = _raw_public(private)
        nonce = secrets.token_bytes(12)
        wrapped = AESGCM(params.derive(secret)).encrypt(
            nonce, _raw_private(private), self._aad(user, kind)
        )
        sealed = seal_to(public, master_key, self._seal_aad(user, kind))
        return params, _b64(nonce), _b64(wrapped), _b64(public), _b64(sealed)

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
        params, nonce, wrapped, public, sealed = self._material(user, kind, secret, master_key, kdf)
        slot = Slot(user, role, kind, params, nonce, wrapped, public_key=public, sealed=sealed)
        self.slots.append(slot)
        self.seal(master_key)
        return slot

    def unwrap(self, user: str, secret: bytes) -> tuple[Slot, bytes]:
        """Return the user's slot and the master key; a wrong secret raises AccessError."""
        slot = self.find(user)
        try:
            opened = AESGCM(slot.kdf.derive(secret)).decrypt(
                _unb64(slot.nonce), _unb64(slot.wrapped), self._aad(user, slot.kind)
            )
        except InvalidTag:
            raise AccessError(f"wrong passphrase for user {user}") from None
        except ValueError as exc:
            raise IntegrityError(f"keyslot of user {user} is damaged") from exc
        if slot.sealed_slot:
            try:
                key = open_sealed(opened, _unb64(slot.sealed), self._seal_aad(user, slot.kind))
            except (InvalidTag, ValueError) as exc:
                raise IntegrityError(f"keyslot of user {user} is damaged") from exc
        else:
            key = opened
        self.check(key)
        return slot, key

    # ---- changes (each re-seals the roles HMAC) ------------------------------------------
    def remove_slot(self, user: str, master_key: bytes) -> Slot:
        slot = self.find(user)
        self.slots.remove(slot)
        self.seal(master_key)
        return slot

    def set_role(self, user: str, role: str, master_key: bytes) -> Slot:
        slot = self.find(user)
        slot.role = role
        self.seal(master_key)
        return slot

    def replace_secret(
        self, user: str, secret: bytes, master_key: bytes, *, kdf: KdfParams | None = None
    ) -> Slot:
        """New passphrase or token for a slot: a fresh key pair, so old copies stay useless."""
        slot = self.find(user)
        params, nonce, wrapped, public, sealed = self._material(
            user, slot.kind, secret, master_key, kdf
        )
        slot.kdf, slot.nonce, slot.wrapped = params, nonce, wrapped
        slot.public_key, slot.sealed = public, sealed
        self.seal(master_key)
        return slot

    def legacy_users(self) -> list[str]:
        """Users whose slot predates sealing and so cannot follow a master-key rotation."""
        return [s.user for s in self.slots if not s.sealed_slot]

    def reseal_all(self, new_master_key: bytes) -> None:
        """Seal a new master key to every slot (a rotation); needs no passphrase."""
        legacy = self.legacy_users()
        if legacy:
            raise InputError(
                "cannot rotate the master key: the slot of "
                + ", ".join(legacy)
                + " predates key sealing; run `riskcli user passwd NAME` for each first"
            )
        for slot in self.slots:
            slot.sealed = _b64(
                seal_to(
                    _unb64(slot.public_key),
                    new_master_key,
                    self._seal_aad(slot.user, slot.kind),
                )
            )
        self.seal(new_master_key)

    # ---- roles authentication -------------------------------------------------------------
    def _roles_message(self) -> bytes:
        entries = sorted((s.user, s.role, s.kind, s.wrapped, s.public_key) for s in self.slots)
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

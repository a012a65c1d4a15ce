"""Keyslot crypto: sealing to a slot's public key, rotation, legacy slots, authenticated roles."""

from __future__ import annotations

import base64
import copy
import secrets

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from riskcli.domain.errors import AccessError, InputError, IntegrityError
from riskcli.storage.keyslots import (
    KdfParams,
    KeyFile,
    Slot,
    new_master_key,
    open_sealed,
    seal_to,
)


def _keypair() -> tuple[bytes, bytes]:
    private = X25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    return raw, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_seal_opens_only_with_the_right_key_and_aad() -> None:
    private, public = _keypair()
    other, _ = _keypair()
    blob = seal_to(public, b"master key bytes", b"aad")
    assert open_sealed(private, blob, b"aad") == b"master key bytes"
    with pytest.raises(InvalidTag):
        open_sealed(other, blob, b"aad")
    with pytest.raises(InvalidTag):
        open_sealed(private, blob, b"other aad")
    assert seal_to(public, b"x", b"aad") != seal_to(public, b"x", b"aad")  # fresh ephemeral


def test_rotation_reseals_without_passphrases_and_locks_out_the_removed() -> None:
    master = new_master_key()
    kf = KeyFile.new()
    kf.add_slot("alice", "admin", b"alice pass", master)
    kf.add_slot("bob", "analyst", b"bob pass", master)
    bobs_copy = copy.deepcopy(kf)
    new = new_master_key()
    kf.remove_slot("bob", master)
    kf.reseal_all(new)
    assert kf.unwrap("alice", b"alice pass")[1] == new
    # bob's copy still yields only the old key; the new file does not know him
    assert bobs_copy.unwrap("bob", b"bob pass")[1] == master
    with pytest.raises(AccessError, match="unknown user bob"):
        kf.unwrap("bob", b"bob pass")


def test_roles_are_authenticated_under_the_master_key() -> None:
    master = new_master_key()
    kf = KeyFile.new()
    kf.add_slot("alice", "admin", b"alice pass", master)
    kf.add_slot("bob", "viewer", b"bob pass", master)
    forged = copy.deepcopy(kf)
    forged.slots[1].role = "admin"
    with pytest.raises(IntegrityError, match="edited outside riskcli"):
        forged.unwrap("bob", b"bob pass")
    # a role changed through the API is re-sealed and accepted
    kf.set_role("bob", "admin", master)
    assert kf.unwrap("bob", b"bob pass")[0].role == "admin"


def test_a_legacy_slot_unlocks_but_blocks_rotation_until_replaced() -> None:
    master = new_master_key()
    kf = KeyFile.new()
    kf.add_slot("alice", "admin", b"alice pass", master)
    params = KdfParams.default().with_salt()
    nonce = secrets.token_bytes(12)
    wrapped = AESGCM(params.derive(b"old pass")).encrypt(
        nonce, master, f"riskcli-slot:{kf.store_id}:old:passphrase".encode()
    )
    b64 = base64.b64encode
    kf.slots.append(
        Slot("old", "viewer", "passphrase", params, b64(nonce).decode(), b64(wrapped).decode())
    )
    kf.seal(master)
    assert kf.unwrap("old", b"old pass")[1] == master
    assert kf.legacy_users() == ["old"]
    with pytest.raises(InputError, match="the slot of old predates key sealing"):
        kf.reseal_all(new_master_key())
    kf.replace_secret("old", b"new pass", master)
    assert kf.legacy_users() == []
    kf.reseal_all(new_master_key())


def test_wrong_secret_is_an_access_error_and_a_damaged_slot_an_integrity_error() -> None:
    master = new_master_key()
    kf = KeyFile.new()
    kf.add_slot("alice", "admin", b"alice pass", master)
    with pytest.raises(AccessError, match="wrong passphrase for user alice"):
        kf.unwrap("alice", b"nope")
    broken = copy.deepcopy(kf)
    sealed = bytearray(base64.b64decode(broken.slots[0].sealed))
    sealed[-1] ^= 1
    broken.slots[0].sealed = base64.b64encode(bytes(sealed)).decode()
    with pytest.raises(IntegrityError, match="keyslot of user alice is damaged"):
        broken.unwrap("alice", b"alice pass")

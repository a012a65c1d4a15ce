"""age wrapping: pyrage output is standard age (checked with the real `age` tool when present)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from riskcli.domain.errors import AccessError, InputError, IntegrityError, UsageError
from riskcli.services.backup import agewrap

AGE = shutil.which("age")
needs_age = pytest.mark.skipif(
    AGE is None, reason="the reference `age` binary is not installed (apt-get install age)"
)


def identity_file(tmp_path: Path, name: str = "key.txt") -> tuple[Path, str]:
    identity, recipient = agewrap.new_ephemeral()
    path = tmp_path / name
    path.write_text(f"# created: test\n# public key: {recipient}\n{identity}\n")
    return path, str(recipient)


def encrypt(data: bytes, recipients: list[str]) -> bytes:
    out = io.BytesIO()
    agewrap.encrypt_stream(io.BytesIO(data), out, agewrap.parse_recipients(recipients))
    return out.getvalue()


def decrypt(blob: bytes, key: Path) -> bytes:
    got = bytearray()
    agewrap.decrypt_stream(io.BytesIO(blob), got.extend, agewrap.load_identities(key), name="b")
    return bytes(got)


def test_round_trip_to_several_recipients(tmp_path: Path) -> None:
    k1, r1 = identity_file(tmp_path, "k1")
    k2, r2 = identity_file(tmp_path, "k2")
    data = bytes(range(256)) * 1000
    blob = encrypt(data, [r1, r2])
    assert agewrap.is_age(blob[:64])
    assert decrypt(blob, k1) == data
    assert decrypt(blob, k2) == data


def test_wrong_identity_is_access_error(tmp_path: Path) -> None:
    _, r1 = identity_file(tmp_path, "k1")
    k2, _ = identity_file(tmp_path, "k2")
    with pytest.raises(AccessError, match="matches no recipient"):
        decrypt(encrypt(b"x" * 100, [r1]), k2)


@pytest.mark.parametrize("where", ["truncate", "flip"])
def test_damaged_ciphertext_is_integrity_error(tmp_path: Path, where: str) -> None:
    key, rec = identity_file(tmp_path)
    blob = bytearray(encrypt(b"y" * 200_000, [rec]))
    if where == "truncate":
        blob = blob[: len(blob) // 2]
    else:
        blob[len(blob) // 2] ^= 0x10
    with pytest.raises(IntegrityError, match="truncated or damaged"):
        decrypt(bytes(blob), key)


def test_bad_recipient_and_identity_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an age X25519 recipient: age1nope"):
        agewrap.parse_recipients(["age1nope"])
    with pytest.raises(InputError, match="does not exist"):
        agewrap.load_identities(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("AGE-SECRET-KEY-1NOTAKEY\n")
    with pytest.raises(UsageError, match="line 1 is not an age secret key") as info:
        agewrap.load_identities(bad)
    assert "NOTAKEY" not in str(info.value)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(UsageError, match="holds no age secret key"):
        agewrap.load_identities(empty)


@needs_age
def test_reference_age_tool_decrypts_what_we_write(tmp_path: Path) -> None:
    key, rec = identity_file(tmp_path)
    data = b"riskcli backup " * 50_000
    enc = tmp_path / "b.rcbk.age"
    enc.write_bytes(encrypt(data, [rec]))
    out = subprocess.run(
        [str(AGE), "-d", "-i", str(key), str(enc)], capture_output=True, check=True
    )
    assert out.stdout == data


@needs_age
def test_we_decrypt_what_the_reference_age_tool_writes(tmp_path: Path) -> None:
    key, rec = identity_file(tmp_path)
    plain = tmp_path / "plain"
    plain.write_bytes(b"z" * 123_457)
    enc = tmp_path / "plain.age"
    subprocess.run([str(AGE), "-r", rec, "-o", str(enc), str(plain)], check=True)
    assert decrypt(enc.read_bytes(), key) == plain.read_bytes()

"""age X25519 encryption of whole backup files, through pyrage (the Rust `age` crate).

The output is the standard age v1 binary format, so the reference `age` tool decrypts it:
``age -d -i key.txt riskcli-....rcbk.age > backup.rcbk``. Encryption streams (pyrage reads the
plaintext in chunks), so a large backup never sits in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyrage

from riskcli.domain.errors import AccessError, InputError, IntegrityError, UsageError

AGE_MAGIC = b"age-encryption.org/v1\n"
AGE_ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"


def is_age(head: bytes) -> bool:
    """True when a file starting with *head* is an age file (binary or armored)."""
    return head.startswith(AGE_MAGIC) or head.startswith(AGE_ARMOR)


def parse_recipients(texts: Iterable[str]) -> list[Any]:
    """Parse ``age1...`` public keys; a bad one is a usage error naming it (keys are public)."""
    out = []
    for text in texts:
        value = text.strip()
        try:
            out.append(pyrage.x25519.Recipient.from_str(value))
        except pyrage.RecipientError:
            raise UsageError(f"not an age X25519 recipient: {value[:80]}") from None
    return out


def load_identities(path: Path) -> list[Any]:
    """Read an age identity file (as written by ``age-keygen``): one key a line, # comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"identity file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read identity file {path}: {exc.__class__.__name__}") from None
    identities = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            # never echo the line: it may be a secret key with a typo
            raise UsageError(
                f"identity file {path}: line {number} is not an age secret key"
            ) from None
    if not identities:
        raise UsageError(f"identity file {path} holds no age secret key")
    return identities


def new_ephemeral() -> tuple[Any, Any]:
    """A throwaway identity and its recipient (used to read a fresh backup back once)."""
    identity = pyrage.x25519.Identity.generate()
    return identity, identity.to_public()


class _Writer:
    """A file-like sink for pyrage that forwards each chunk to a callback."""

    def __init__(self, push: Callable[[bytes], object]) -> None:
        self._push = push

    def write(self, data: bytes) -> int:
        self._push(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None


class _Reader:
    """A file-like source for pyrage that counts what it reads (for progress)."""

    def __init__(self, src: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self._src = src
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        if self._progress and data:
            self._progress(len(data))
        return data


def encrypt_stream(src: BinaryIO, dst: BinaryIO, recipients: Sequence[Any]) -> None:
    pyrage.encrypt_io(src, dst, list(recipients))


def decrypt_stream(
    src: BinaryIO,
    push: Callable[[bytes], object],
    identities: Sequence[Any],
    *,
    name: str,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Decrypt *src*, pushing plaintext chunks to *push*.

    A key that matches no recipient is an AccessError; damage to the ciphertext (age
    authenticates every 64 KiB chunk) is an IntegrityError. Errors raised by *push* propagate.
    """
    try:
        pyrage.decrypt_io(_Reader(src, progress), _Writer(push), list(identities))
    except pyrage.DecryptError as exc:
        text = str(exc)
        if "No matching keys" in text:
            raise AccessError(
                f"{name}: the age identity matches no recipient of this backup "
                "(or the backup's age header is damaged)"
            ) from None
        raise IntegrityError(
            f"{name}: age decryption failed, the file is truncated or damaged ({text})"
        ) from None
    except OSError as exc:
        if exc.errno is not None:  # a real I/O error from reading the file
            raise InputError(f"{name}: cannot read the file ({exc.strerror})") from None
        # pyrage reports a chunk whose authentication tag fails as a bare OSError
        raise IntegrityError(
            f"{name}: age decryption failed, the file is truncated or damaged ({exc})"
        ) from None

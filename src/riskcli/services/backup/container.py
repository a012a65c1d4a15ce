"""The backup container: one file holding the snapshot, the keys file and the manifest.

Layout (all integers big-endian)::

    MAGIC                     16 bytes  b"RISKCLI-BACKUP/1"
    frame  b"SNAP" u64 size   the SQLCipher snapshot, encrypted under the store's master key
    frame  b"KEYS" u64 size   the keys file (JSON) as it was when the backup was taken
    frame  b"MANI" u64 size   the manifest envelope (JSON; HMAC under a master-key subkey)
    frame  b"END." u64 128    SHA-256 of the framing (magic and the four frame headers), then
                              SHA-256 of the snapshot, of the keys and of the manifest part

The order is fixed, so a missing or extra part is damage; a file that stops before the trailer
is truncated. The trailer names which part a flipped bit is in, and beside the manifest's own
SHA-256 of each part it tells a damaged part (fails the trailer too) from one swapped in from
another backup (matches the trailer, not the manifest). The manifest HMAC (checked by the
service, which holds the master key) catches an edited manifest. A length-prefixed format
rather than tar keeps the parser small and strict.

The parser is push-based (`feed` / `close`) so the same code reads a plain file and the
plaintext that age decryption streams out.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from riskcli.domain.errors import IntegrityError

MAGIC = b"RISKCLI-BACKUP/1"
TAG_SNAPSHOT = b"SNAP"
TAG_KEYS = b"KEYS"
TAG_MANIFEST = b"MANI"
TAG_END = b"END."
PART_ORDER: tuple[bytes, ...] = (TAG_SNAPSHOT, TAG_KEYS, TAG_MANIFEST)
PART_NAMES: dict[bytes, str] = {
    TAG_SNAPSHOT: "snapshot",
    TAG_KEYS: "keys",
    TAG_MANIFEST: "manifest",
    TAG_END: "trailer",
}
FRAME = struct.Struct(">4sQ")
TRAILER_ORDER: tuple[str, ...] = ("framing", "snapshot", "keys", "manifest")
TRAILER_SIZE = 32 * len(TRAILER_ORDER)
#: keys files and manifests are small; a larger length means a damaged frame
SMALL_PART_LIMIT = 16 * 1024 * 1024
CHUNK = 1024 * 1024


class ContainerError(IntegrityError):
    """The container's structure is damaged: truncated, mis-framed or failing its trailer."""


@dataclass(frozen=True)
class PartInfo:
    """Where a part sits in the container, its size and its SHA-256 (hex)."""

    name: str
    offset: int
    size: int
    sha256: str


@dataclass
class Parsed:
    """What a full read of a container yields.

    `parts` hold the SHA-256 computed while reading; `trailer` the SHA-256 the writer stored,
    by part name plus "framing". Comparing them is the caller's job (see `damaged_parts`).
    """

    parts: dict[str, PartInfo] = field(default_factory=dict)
    keys: bytes = b""
    manifest: bytes = b""
    framing_sha256: str = ""
    trailer: dict[str, str] = field(default_factory=dict)
    total_size: int = 0

    def damaged_parts(self) -> list[str]:
        """Names whose computed SHA-256 differs from the trailer ("framing" included)."""
        computed = {name: info.sha256 for name, info in self.parts.items()}
        computed["framing"] = self.framing_sha256
        return [n for n in TRAILER_ORDER if computed.get(n) != self.trailer.get(n)]


# ---- writing ------------------------------------------------------------------------------


class ContainerWriter:
    """Write a container to a binary stream, hashing as it goes.

    >>> import io
    >>> out = io.BytesIO()
    >>> w = ContainerWriter(out)
    >>> _ = w.add_bytes(TAG_SNAPSHOT, b"db"); _ = w.add_bytes(TAG_KEYS, b"{}")
    >>> _ = w.add_bytes(TAG_MANIFEST, b"{}"); w.finish()
    >>> parse_bytes(out.getvalue()).keys
    b'{}'
    """

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._framing = hashlib.sha256()
        self._digests: list[bytes] = []
        self._pos = 0
        self._next = 0
        self._part: tuple[bytes, int, int, Any] = (b"", 0, 0, None)
        self._fed = 0
        self._framing.update(MAGIC)
        self._write(MAGIC)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._pos += len(data)

    def _frame(self, tag: bytes, size: int) -> int:
        if self._next >= len(PART_ORDER) or PART_ORDER[self._next] != tag:
            raise ValueError(f"part {tag!r} out of order")
        self._next += 1
        header = FRAME.pack(tag, size)
        self._framing.update(header)
        self._write(header)
        return self._pos

    def open_part(self, tag: bytes, size: int) -> None:
        """Start a part of known size; `feed` its bytes, then `close_part`."""
        self._part = (tag, size, self._frame(tag, size), hashlib.sha256())
        self._fed = 0

    def feed(self, chunk: bytes) -> None:
        self._part[3].update(chunk)
        self._fed += len(chunk)
        self._write(chunk)

    def close_part(self) -> PartInfo:
        tag, size, offset, digest = self._part
        if self._fed != size:
            raise ValueError(f"{PART_NAMES[tag]} part: {self._fed} bytes given, {size} announced")
        self._digests.append(digest.digest())
        return PartInfo(PART_NAMES[tag], offset, size, digest.hexdigest())

    def add_bytes(self, tag: bytes, data: bytes) -> PartInfo:
        self.open_part(tag, len(data))
        self.feed(data)
        return self.close_part()

    def add_file(
        self, tag: bytes, path: Path, progress: Callable[[int], None] | None = None
    ) -> PartInfo:
        """Copy a file in as a part; its size is taken once, so the file must not change."""
        self.open_part(tag, path.stat().st_size)
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                self.feed(chunk)
                if progress:
                    progress(len(chunk))
        return self.close_part()

    def finish(self) -> int:
        """Write the trailer; return the container's total size."""
        if self._next != len(PART_ORDER):
            raise ValueError("container is missing parts")
        header = FRAME.pack(TAG_END, TRAILER_SIZE)
        self._framing.update(header)
        self._write(header)
        self._write(self._framing.digest() + b"".join(self._digests))
        return self._pos


# ---- reading ------------------------------------------------------------------------------


class ContainerParser:
    """Push parser: `feed` chunks in order, then `close`. Raises ContainerError on damage.

    `snapshot_sink`, when given, receives the snapshot payload as it streams past.
    """

    def __init__(self, snapshot_sink: Callable[[bytes], object] | None = None) -> None:
        self._sink = snapshot_sink
        self._buf = bytearray()
        self._pos = 0  # bytes consumed so far
        self._framing = hashlib.sha256()  # magic and frame headers
        self._state = "magic"
        self._tag = b""
        self._remaining = 0
        self._part_hash = hashlib.sha256()
        self._part_offset = 0
        self._small = bytearray()
        self._next = 0
        self.result = Parsed()

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._step():
            pass

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self._pos += n
        return out

    def _step(self) -> bool:
        if self._state == "magic":
            if len(self._buf) < len(MAGIC):
                return False
            magic = self._take(len(MAGIC))
            if magic != MAGIC:
                raise ContainerError("not a riskcli backup, or its header is damaged")
            self._framing.update(magic)
            self._state = "frame"
            return True
        if self._state == "frame":
            if len(self._buf) < FRAME.size:
                return False
            at = self._pos
            raw = self._take(FRAME.size)
            tag, size = FRAME.unpack(raw)
            self._check_frame(tag, size, at)
            self._framing.update(raw)
            self._tag, self._remaining = tag, size
            if tag == TAG_END:
                self._state = "trailer"
                return True
            self._part_hash = hashlib.sha256()
            self._part_offset = self._pos
            self._small = bytearray()
            self._state = "payload"
            return True
        if self._state == "payload":
            if not self._buf and self._remaining:
                return False
            chunk = self._take(min(self._remaining, len(self._buf)))
            self._remaining -= len(chunk)
            self._part_hash.update(chunk)
            if self._tag == TAG_SNAPSHOT:
                if self._sink is not None:
                    self._sink(chunk)
            else:
                self._small += chunk
            if self._remaining == 0:
                self._end_part()
                self._state = "frame"
            return True
        if self._state == "trailer":
            if len(self._buf) < self._remaining:
                return False
            stored = self._take(self._remaining)
            self.result.framing_sha256 = self._framing.hexdigest()
            self.result.trailer = {
                name: stored[32 * i : 32 * (i + 1)].hex() for i, name in enumerate(TRAILER_ORDER)
            }
            self._state = "done"
            return True
        if self._state == "done" and self._buf:
            raise ContainerError(f"unexpected data after the end of the backup at byte {self._pos}")
        return False

    def _check_frame(self, tag: bytes, size: int, at: int) -> None:
        expected = PART_ORDER[self._next] if self._next < len(PART_ORDER) else TAG_END
        if tag != expected:
            want = PART_NAMES[expected]
            raise ContainerError(
                f"damaged framing at byte {at}: expected the {want} part, found {tag!r}"
            )
        self._next += 1
        if tag == TAG_END and size != TRAILER_SIZE:
            raise ContainerError(f"damaged trailer frame at byte {at}")
        if tag in (TAG_KEYS, TAG_MANIFEST) and size > SMALL_PART_LIMIT:
            raise ContainerError(f"damaged framing at byte {at}: {PART_NAMES[tag]} part too large")

    def _end_part(self) -> None:
        name = PART_NAMES[self._tag]
        size = self._pos - self._part_offset
        info = PartInfo(name, self._part_offset, size, self._part_hash.hexdigest())
        self.result.parts[name] = info
        if self._tag == TAG_KEYS:
            self.result.keys = bytes(self._small)
        elif self._tag == TAG_MANIFEST:
            self.result.manifest = bytes(self._small)
        self._small = bytearray()

    def close(self) -> Parsed:
        if self._state != "done":
            where = {
                "magic": "in its header",
                "frame": "between parts",
                "payload": f"inside the {PART_NAMES.get(self._tag, '?')} part",
                "trailer": "inside its trailer",
            }[self._state]
            raise ContainerError(
                f"backup is truncated: it ends {where} at byte {self._pos + len(self._buf)}"
            )
        self.result.total_size = self._pos
        return self.result


def require_intact(parsed: Parsed) -> None:
    """Raise ContainerError naming every part whose bytes fail the trailer."""
    damaged = parsed.damaged_parts()
    if damaged:
        raise ContainerError(f"{', '.join(damaged)} failing the trailer checksum (damaged)")


def parse_stream(
    stream: BinaryIO,
    snapshot_sink: Callable[[bytes], object] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Parsed:
    parser = ContainerParser(snapshot_sink)
    while chunk := stream.read(CHUNK):
        parser.feed(chunk)
        if progress:
            progress(len(chunk))
    return parser.close()


def parse_bytes(data: bytes) -> Parsed:
    parser = ContainerParser()
    parser.feed(data)
    return parser.close()


def read_manifest_quick(path: Path) -> bytes:
    """Seek past the snapshot and keys and return the raw manifest part, checking nothing else.

    For listing only: `verify` is what reads everything back.
    """
    with path.open("rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise ContainerError("not a riskcli backup, or its header is damaged")
        for tag in PART_ORDER:
            raw = fh.read(FRAME.size)
            if len(raw) != FRAME.size:
                raise ContainerError("backup is truncated")
            got, size = FRAME.unpack(raw)
            if got != tag:
                raise ContainerError(f"damaged framing: expected the {PART_NAMES[tag]} part")
            if tag == TAG_MANIFEST:
                if size > SMALL_PART_LIMIT:
                    raise ContainerError("damaged framing: manifest part too large")
                data = fh.read(size)
                if len(data) != size:
                    raise ContainerError("backup is truncated")
                return data
            fh.seek(size, os.SEEK_CUR)
    raise AssertionError("unreachable")  # pragma: no cover

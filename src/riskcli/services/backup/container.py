"""The backup container: one file holding the snapshot, the keys file and the manifest.

Layout (all integers big-endian)::

    MAGIC                     16 bytes  b"RISKCLI-BACKUP/1"
    frame  b"SNAP" u64 size   the SQLCipher snapshot, encrypted under the store's master key
    frame  b"KEYS" u64 size   the keys file (JSON) as it was when the backup was taken
    frame  b"MANI" u64 size   the manifest envelope (JSON; HMAC under a master-key subkey)
    frame  b"END." u64 32     SHA-256 of every byte before this frame

The order is fixed, so a missing or extra part is damage. The trailer catches truncation and a
flipped bit in the framing; the per-part SHA-256 in the manifest names which part is damaged or
swapped; the manifest HMAC (checked by the service, which holds the master key) catches an
edited manifest. A length-prefixed format rather than tar keeps the parser small and strict.

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
from typing import BinaryIO

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
    """What a full read of a container yields."""

    parts: dict[str, PartInfo] = field(default_factory=dict)
    keys: bytes = b""
    manifest: bytes = b""
    total_size: int = 0


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
        self._hash = hashlib.sha256()
        self._pos = 0
        self._next = 0
        self._write(MAGIC)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._hash.update(data)
        self._pos += len(data)

    def _frame(self, tag: bytes, size: int) -> int:
        if self._next >= len(PART_ORDER) or PART_ORDER[self._next] != tag:
            raise ValueError(f"part {tag!r} out of order")
        self._next += 1
        self._write(FRAME.pack(tag, size))
        return self._pos

    def add_bytes(self, tag: bytes, data: bytes) -> PartInfo:
        offset = self._frame(tag, len(data))
        self._write(data)
        return PartInfo(PART_NAMES[tag], offset, len(data), hashlib.sha256(data).hexdigest())

    def add_file(
        self, tag: bytes, path: Path, progress: Callable[[int], None] | None = None
    ) -> PartInfo:
        """Copy a file in as a part; its size is taken once, so the file must not change."""
        size = path.stat().st_size
        offset = self._frame(tag, size)
        digest = hashlib.sha256()
        copied = 0
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                self._write(chunk)
                copied += len(chunk)
                if progress:
                    progress(len(chunk))
        if copied != size:
            raise ValueError(f"{path} changed size while it was copied")
        return PartInfo(PART_NAMES[tag], offset, size, digest.hexdigest())

    def finish(self) -> int:
        """Write the trailer; return the container's total size."""
        if self._next != len(PART_ORDER):
            raise ValueError("container is missing parts")
        digest = self._hash.digest()
        self._write(FRAME.pack(TAG_END, len(digest)))
        self._out.write(digest)
        self._pos += len(digest)
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
        self._hash = hashlib.sha256()  # over everything before the trailer frame
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
            self._hash.update(magic)
            self._state = "frame"
            return True
        if self._state == "frame":
            if len(self._buf) < FRAME.size:
                return False
            at = self._pos
            raw = self._take(FRAME.size)
            tag, size = FRAME.unpack(raw)
            self._check_frame(tag, size, at)
            self._tag, self._remaining = tag, size
            if tag == TAG_END:
                self._state = "trailer"
                return True
            self._hash.update(raw)
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
            self._hash.update(chunk)
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
            if stored != self._hash.digest():
                raise ContainerError(
                    "trailer checksum does not match: the file was altered or damaged"
                )
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
        if tag == TAG_END and size != hashlib.sha256().digest_size:
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

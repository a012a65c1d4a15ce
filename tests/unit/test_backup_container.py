"""The backup container format, without a store: round trip, truncation, bit flips, framing."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from riskcli.domain.errors import IntegrityError
from riskcli.services.backup.container import (
    FRAME,
    MAGIC,
    TAG_KEYS,
    TAG_MANIFEST,
    TAG_SNAPSHOT,
    ContainerError,
    ContainerWriter,
    parse_bytes,
    parse_stream,
    read_manifest_quick,
    require_intact,
)


def build(
    snapshot: bytes = b"S" * 300, keys: bytes = b'{"k":1}', manifest: bytes = b'{"m":2}'
) -> bytes:
    out = io.BytesIO()
    writer = ContainerWriter(out)
    writer.add_bytes(TAG_SNAPSHOT, snapshot)
    writer.add_bytes(TAG_KEYS, keys)
    writer.add_bytes(TAG_MANIFEST, manifest)
    writer.finish()
    return out.getvalue()


def test_round_trip_gives_parts_back_with_offsets_and_digests() -> None:
    data = build()
    sink = bytearray()
    parsed = parse_stream(io.BytesIO(data), snapshot_sink=sink.extend)
    assert bytes(sink) == b"S" * 300
    assert parsed.keys == b'{"k":1}'
    assert parsed.manifest == b'{"m":2}'
    snap = parsed.parts["snapshot"]
    assert snap.offset == len(MAGIC) + FRAME.size
    assert snap.size == 300
    assert snap.sha256 == hashlib.sha256(b"S" * 300).hexdigest()
    assert parsed.total_size == len(data)


def test_add_file_matches_add_bytes(tmp_path: Path) -> None:
    path = tmp_path / "snap"
    path.write_bytes(b"x" * 3_000_000)
    out = io.BytesIO()
    writer = ContainerWriter(out)
    seen: list[int] = []
    info = writer.add_file(TAG_SNAPSHOT, path, progress=seen.append)
    writer.add_bytes(TAG_KEYS, b"{}")
    writer.add_bytes(TAG_MANIFEST, b"{}")
    writer.finish()
    assert sum(seen) == 3_000_000
    assert info.sha256 == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert parse_bytes(out.getvalue()).parts["snapshot"] == info


def test_feeding_one_byte_at_a_time_parses_the_same() -> None:
    from riskcli.services.backup.container import ContainerParser

    data = build()
    parser = ContainerParser()
    for i in range(len(data)):
        parser.feed(data[i : i + 1])
    assert parser.close().manifest == b'{"m":2}'


@pytest.mark.parametrize("cut", [0, 5, 16, 20, 28, 100, 328, 340, -140, -129, -128, -1])
def test_truncation_anywhere_is_named(cut: int) -> None:
    data = build()
    with pytest.raises(ContainerError, match="truncated"):
        parse_bytes(data[:cut] if cut >= 0 else data[: len(data) + cut])


def test_every_single_bit_flip_is_detected() -> None:
    data = build(snapshot=bytes(range(256)), keys=b"{}", manifest=b"[]")
    for pos in range(len(data)):
        for bit in (0, 7):
            damaged = bytearray(data)
            damaged[pos] ^= 1 << bit
            with pytest.raises(IntegrityError):
                require_intact(parse_bytes(bytes(damaged)))


@pytest.mark.parametrize(
    ("offset", "part"),
    [(-128, "framing"), (40, "snapshot"), (-156, "keys"), (-141, "manifest"), (-1, "manifest")],
)
def test_a_flip_names_its_part(offset: int, part: str) -> None:
    data = bytearray(build(snapshot=b"S" * 300, keys=b"{}", manifest=b"[]"))
    data[offset] ^= 0x01
    parsed = parse_bytes(bytes(data))
    assert parsed.damaged_parts() == [part]


def test_trailing_data_is_damage() -> None:
    with pytest.raises(ContainerError, match="after the end"):
        parse_bytes(build() + b"\0")


def test_parts_out_of_order_are_refused() -> None:
    out = io.BytesIO()
    writer = ContainerWriter(out)
    with pytest.raises(ValueError, match="out of order"):
        writer.add_bytes(TAG_KEYS, b"{}")


def test_not_a_backup() -> None:
    with pytest.raises(ContainerError, match="not a riskcli backup"):
        parse_bytes(b"SQLite format 3\0" + b"\0" * 100)


def test_quick_manifest_read_seeks_past_the_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "b.rcbk"
    path.write_bytes(build(snapshot=b"z" * 100_000))
    assert read_manifest_quick(path) == b'{"m":2}'
    path.write_bytes(build()[:50])
    with pytest.raises(ContainerError):
        read_manifest_quick(path)

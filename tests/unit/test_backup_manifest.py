"""Manifest sealing: any edit after the fact fails the HMAC; the wrong key fails it too."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from riskcli.domain.errors import IntegrityError
from riskcli.services.backup.manifest import (
    Manifest,
    PartDigest,
    authenticate,
    read_unauthenticated,
    seal,
)

KEY = b"k" * 32


def sample() -> Manifest:
    return Manifest(
        store_id="s-1",
        created_at=datetime(2026, 11, 29, 14, 0, tzinfo=UTC),
        user="alice",
        label="nightly",
        riskcli_version="0.1.0",
        schema_version=["m001_core", "m040_backup"],
        page_size=4096,
        page_count=10,
        row_counts={"customers": 3},
        parts={"snapshot": PartDigest(size=40960, sha256="a" * 64)},
    )


def test_seal_then_authenticate_round_trips() -> None:
    assert authenticate(seal(sample(), KEY), KEY) == sample()


@pytest.mark.parametrize(
    ("field", "value"),
    [("row_counts", {"customers": 4}), ("label", "other"), ("store_id", "s-2"), ("page_count", 9)],
)
def test_any_edit_is_detected(field: str, value: object) -> None:
    envelope = json.loads(seal(sample(), KEY))
    envelope["manifest"][field] = value
    raw = json.dumps(envelope).encode()
    read_unauthenticated(raw)  # still readable ...
    with pytest.raises(IntegrityError, match="fails authentication"):
        authenticate(raw, KEY)  # ... but not authentic


def test_reformatting_alone_is_not_an_edit() -> None:
    raw = json.dumps(json.loads(seal(sample(), KEY)), indent=4).encode()
    assert authenticate(raw, KEY).user == "alice"


def test_other_key_fails() -> None:
    with pytest.raises(IntegrityError, match="fails authentication"):
        authenticate(seal(sample(), KEY), b"j" * 32)


@pytest.mark.parametrize("raw", [b"", b"{", b'{"manifest": {}, "hmac": "x"}', b"\xff\xfe"])
def test_garbage_is_damage(raw: bytes) -> None:
    with pytest.raises(IntegrityError, match="manifest is damaged"):
        read_unauthenticated(raw)

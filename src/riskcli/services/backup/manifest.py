"""The backup manifest and its authentication.

The manifest says what the backup holds (time, user, label, versions, row and page counts, the
SHA-256 of each part, the store id and the audit chain head). It travels in the container as an
envelope ``{"manifest": {...}, "hmac": "<hex>"}``; the HMAC-SHA256 is computed over the
canonical JSON of the manifest (sorted keys, no spaces) under a key derived from the store's
master key, so anyone without the master key can read a manifest but cannot edit one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskcli.domain.errors import IntegrityError

MANIFEST_PURPOSE = "backup-manifest"


class PartDigest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AuditHead(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    hash: str


class Manifest(BaseModel):
    """What one backup holds. Times are UTC."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    store_id: str
    created_at: datetime
    user: str
    label: str | None = None
    riskcli_version: str
    schema_version: list[str]
    page_size: int = Field(gt=0)
    page_count: int = Field(ge=0)
    row_counts: dict[str, int]
    parts: dict[str, PartDigest]
    audit_head: AuditHead | None = None

    def canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(hmac_key: bytes, body: bytes) -> str:
    return hmac.new(hmac_key, body, hashlib.sha256).hexdigest()


def seal(manifest: Manifest, hmac_key: bytes) -> bytes:
    """The manifest part's bytes: the manifest and its HMAC."""
    body = manifest.model_dump(mode="json")
    envelope = {"manifest": body, "hmac": _mac(hmac_key, canonical_json(body))}
    return canonical_json(envelope)


def read_unauthenticated(raw: bytes) -> tuple[Manifest, dict[str, Any], str]:
    """Parse a manifest part without checking its HMAC (for listing, and before unlocking).

    Returns the model, the raw manifest dict (what the HMAC covers) and the stored HMAC.
    """
    try:
        envelope = json.loads(raw.decode("utf-8"))
        body = envelope["manifest"]
        mac = envelope["hmac"]
        if not isinstance(body, dict) or not isinstance(mac, str):
            raise TypeError("envelope")
        return Manifest.model_validate(body), body, mac
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise IntegrityError("manifest is damaged: it is not a valid riskcli manifest") from exc


def authenticate(raw: bytes, hmac_key: bytes) -> Manifest:
    """Parse a manifest part and check its HMAC; an edited manifest raises IntegrityError."""
    manifest, body, mac = read_unauthenticated(raw)
    if not hmac.compare_digest(_mac(hmac_key, canonical_json(body)), mac):
        raise IntegrityError(
            "manifest fails authentication: it was edited after the backup was made, "
            "or belongs to another store"
        )
    return manifest

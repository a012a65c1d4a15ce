"""The anchor: the audit chain's head appended to a file outside the store after each write.

Anyone holding a key can recompute a whole chain, so the chain alone only catches clumsy edits.
The anchor lives by default at `<db>.anchor` beside the store; put it somewhere the store's users
cannot rewrite (another disk, an append-only mount, a log shipper) with `[audit] anchor = "PATH"`
in the config, `RISKCLI_ANCHOR` or `--anchor`. Lines are JSON, one per write::

    {"store_id": "...", "seq": 42, "hash": "ab12...", "ts": "2026-11-29T14:00:00+00:00"}

A restore (which legitimately puts an older store back) appends a line with `"kind": "restore"`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from riskcli.domain.errors import InputError
from riskcli.storage import audit as chain
from riskcli.storage.store import Store

ANCHOR_SUFFIX = ".anchor"
ANCHOR_ENV = "RISKCLI_ANCHOR"


class AuditConfig(BaseModel):
    """`[audit]` section of the config."""

    model_config = ConfigDict(extra="forbid")

    #: anchor file; relative paths are taken from the store's folder. Default `<db>.anchor`.
    anchor: str | None = None


def audit_config(config: dict[str, Any] | None) -> AuditConfig:
    section = (config or {}).get("audit", {})
    if not isinstance(section, dict):
        raise InputError("config section [audit] must be a table")
    try:
        return AuditConfig.model_validate(section)
    except ValueError as exc:
        raise InputError(f"config section [audit] is invalid: {exc}") from None


def anchor_path(
    store_path: Path, config: dict[str, Any] | None = None, override: Path | None = None
) -> Path:
    """Where the anchor lives: `--anchor`, `RISKCLI_ANCHOR`, `[audit] anchor`, else beside."""
    if override is not None:
        return override
    env = os.environ.get(ANCHOR_ENV)
    if env:
        return Path(env)
    configured = audit_config(config).anchor
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else store_path.parent / path
    return store_path.with_name(store_path.name + ANCHOR_SUFFIX)


@dataclass(frozen=True)
class AnchorEntry:
    line: int
    store_id: str
    seq: int
    hash: str
    ts: str
    kind: str = "head"  # or "restore"


@dataclass
class AnchorFile:
    entries: list[AnchorEntry]
    damaged_lines: list[int] = field(default_factory=list)
    torn_tail: bool = False  # last line incomplete (a crash during a write)


def read_anchor(path: Path) -> AnchorFile:
    """Parse the anchor file; a damaged line is reported, a torn last line tolerated."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AnchorFile([])
    except OSError as exc:
        raise InputError(f"cannot read anchor file {path}: {exc.strerror}") from None
    lines = raw.split(b"\n")
    torn = bool(lines) and lines[-1] != b""
    result = AnchorFile([])
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            entry = AnchorEntry(
                line=number,
                store_id=str(data["store_id"]),
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                ts=str(data.get("ts", "")),
                kind=str(data.get("kind", "head")),
            )
        except (ValueError, KeyError, TypeError):
            if torn and number == len(lines):
                result.torn_tail = True
            else:
                result.damaged_lines.append(number)
            continue
        result.entries.append(entry)
    return result


def append_anchor(
    path: Path, store_id: str, head: chain.ChainHead, *, kind: str = "head", **extra: Any
) -> None:
    """Append one head line (O_APPEND, mode 0600, fsync): one small write is atomic."""
    record: dict[str, Any] = {
        "store_id": store_id,
        "seq": head.seq,
        "hash": head.hash,
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if kind != "head":
        record["kind"] = kind
    record.update(extra)
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise InputError(f"cannot write anchor file {path}: {exc.strerror}") from None
    try:
        # a torn last line (crash mid-write) must not swallow this one
        if os.fstat(fd).st_size > 0:
            with path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def store_id(store: Store) -> str:
    return str(store.keyfile.store_id)


def anchor_head(store: Store, path: Path) -> chain.ChainHead:
    """Append the store's current chain head to the anchor (call after each committed write)."""
    head = chain.head(store.conn)
    if head.seq > 0:
        append_anchor(path, store_id(store), head)
    return head


def anchor_restore(store: Store, path: Path, *, source: str = "") -> chain.ChainHead:
    """Record that the store was restored to an older state (call right after a restore)."""
    head = chain.head(store.conn)
    extra = {"source": source} if source else {}
    append_anchor(path, store_id(store), head, kind="restore", **extra)
    return head

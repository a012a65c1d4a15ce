"""`backup verify`: read a backup back completely and name whatever is wrong."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from riskcli.domain.errors import AccessError, InputError, IntegrityError, RiskError, UsageError
from riskcli.services.backup import agewrap, files
from riskcli.services.backup.container import (
    ContainerParser,
    Parsed,
    parse_stream,
)
from riskcli.services.backup.manifest import (
    MANIFEST_PURPOSE,
    Manifest,
    authenticate,
    read_unauthenticated,
)
from riskcli.services.backup.records import Progress, record_event
from riskcli.storage import backup_io
from riskcli.storage.keyslots import KeyFile, subkey
from riskcli.storage.store import Store


@dataclass
class VerifyReport:
    path: Path
    manifest: Manifest
    encrypted: bool
    size: int
    role: str
    seconds: float
    checks: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "ok": True,
            "created_at": self.manifest.created_at.isoformat(timespec="seconds"),
            "user": self.manifest.user,
            "label": self.manifest.label or "",
            "size_bytes": self.size,
            "encrypted": self.encrypted,
            "pages": self.manifest.page_count,
            "rows": sum(self.manifest.row_counts.values()),
            "checks": " ".join(self.checks),
            "seconds": round(self.seconds, 3),
        }


# ---- verify ----------------------------------------------------------------------------------


def _open_backup(path: Path) -> BinaryIO:
    try:
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a backup file")
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"backup file {path} does not exist") from None
    except PermissionError:
        raise InputError(f"cannot read backup file {path}: permission denied") from None


def is_encrypted(path: Path) -> bool:
    with _open_backup(path) as fh:
        return agewrap.is_age(fh.read(64))


def _parse_file(
    path: Path,
    identities: Sequence[Any] | None,
    sink: Callable[[bytes], object] | None,
    progress: Progress,
) -> tuple[Parsed, bool]:
    with _open_backup(path) as fh:
        encrypted = agewrap.is_age(fh.read(64))
        fh.seek(0)
        if not encrypted:
            return parse_stream(fh, sink, progress), False
        if not identities:
            raise UsageError(
                "it is age-encrypted: give --identity FILE (or [backup] identity) "
                "holding a matching age secret key"
            )
        parser = ContainerParser(sink)
        agewrap.decrypt_stream(fh, parser.feed, identities, name=path.name, progress=progress)
        return parser.close(), True


def _check_parts(parsed: Parsed, manifest: Manifest) -> None:
    for part in ("snapshot", "keys"):
        want = manifest.parts.get(part)
        got = parsed.parts[part]
        if want is not None and (want.sha256, want.size) == (got.sha256, got.size):
            continue
        if got.sha256 == parsed.trailer.get(part):
            raise IntegrityError(
                f"{part} part does not match the manifest: it was swapped in from another backup"
            )
        raise IntegrityError(f"{part} part is damaged: it fails its SHA-256 checksum")
    damaged = parsed.damaged_parts()
    if damaged:
        raise IntegrityError(f"container {' and '.join(damaged)} damaged (trailer checksum)")


@dataclass
class Verified:
    """A verified backup: the report, its keys file (parsed and as bytes) and master key."""

    report: VerifyReport
    keyfile: KeyFile
    keys_bytes: bytes
    master: bytes


def _keyfile_from(raw: bytes, workdir: Path) -> KeyFile:
    path = workdir / "keys.json"
    path.write_bytes(raw)
    try:
        return KeyFile.load(path)
    except IntegrityError:
        raise IntegrityError("keys part is not a valid riskcli keys file") from None


def verify_backup(
    path: Path,
    user: str,
    secret: bytes,
    *,
    identities: Sequence[Any] | None = None,
    expect_store_id: str | None = None,
    snapshot_to: Path | None = None,
    workdir: Path | None = None,
    progress: Progress = None,
) -> Verified:
    """Read a backup back completely and check everything; raise a typed error naming the fault.

    Checks, in order: the container's structure (truncation), the manifest part, each part's
    SHA-256 against the manifest and the trailer (damaged vs swapped), the store id (when
    *expect_store_id* is given), the user's keyslot of that time (passphrase), the manifest
    HMAC, then the snapshot itself: cipher_integrity_check, integrity_check, page count, row
    counts, schema and audit head against the manifest.

    The snapshot is extracted to *snapshot_to* (restore keeps it) or a private temp file.
    Returns the report with the backup's keys file and master key.
    """
    started = time.monotonic()
    name = path.name
    _open_backup(path).close()  # a missing file is said plainly, before any work
    with tempfile.TemporaryDirectory(prefix="riskcli-verify-", dir=workdir) as tmp:
        tmpdir = Path(tmp)
        snap_path = snapshot_to or tmpdir / "snapshot.db"
        try:
            parsed, encrypted = _extract(path, identities, snap_path, progress)
            checked = _check(parsed, snap_path, tmpdir, user, secret, expect_store_id)
        except (RiskError, OSError) as exc:
            if snapshot_to is not None:
                files.remove_quietly(snapshot_to)
            if isinstance(exc, RiskError):
                raise type(exc)(f"{name}: {exc}") from None
            raise InputError(f"{name}: cannot read or extract it: {exc.strerror or exc}") from None
    report = VerifyReport(
        path=path,
        manifest=checked.manifest,
        encrypted=encrypted,
        size=path.stat().st_size,
        role=checked.role,
        seconds=time.monotonic() - started,
        checks=checked.checks,
    )
    return Verified(report, checked.keyfile, parsed.keys, checked.master)


def _extract(
    path: Path, identities: Sequence[Any] | None, snap_path: Path, progress: Progress
) -> tuple[Parsed, bool]:
    """Parse the whole container, writing its snapshot part to `snap_path` (synced)."""
    with snap_path.open("wb") as sink_fh:
        parsed, encrypted = _parse_file(path, identities, sink_fh.write, progress)
        sink_fh.flush()
        os.fsync(sink_fh.fileno())
    return parsed, encrypted


@dataclass
class _Checked:
    """What the checks of a parsed backup establish."""

    manifest: Manifest
    keyfile: KeyFile
    role: str
    master: bytes
    checks: list[str]


def _check(
    parsed: Parsed,
    snap_path: Path,
    tmpdir: Path,
    user: str,
    secret: bytes,
    expect_store_id: str | None,
) -> _Checked:
    """Every check after the parse, in the order `verify_backup` names them."""
    manifest = _manifest_of(parsed)
    _check_parts(parsed, manifest)
    checks = ["structure", "checksums"]
    if expect_store_id is not None and manifest.store_id != expect_store_id:
        raise IntegrityError(
            f"backup is of another store ({manifest.store_id}), not of this one ({expect_store_id})"
        )
    keyfile = _keyfile_from(parsed.keys, tmpdir)
    if keyfile.store_id != manifest.store_id:
        raise IntegrityError("keys part belongs to another store than the manifest")
    role, master = _unwrap(keyfile, user, secret)
    checks.append("keyslot")
    authenticate(parsed.manifest, subkey(master, MANIFEST_PURPOSE))
    checks.append("hmac")
    facts = backup_io.inspect_snapshot(snap_path, master)
    checks.extend(["cipher", "integrity"])
    _compare_facts(facts, manifest)
    checks.append("counts")
    return _Checked(manifest, keyfile, role, master, checks)


def _manifest_of(parsed: Parsed) -> Manifest:
    """The manifest part, read before its HMAC can be checked; a damaged part is said so."""
    try:
        manifest, _, _ = read_unauthenticated(parsed.manifest)
    except IntegrityError:
        if "manifest" in parsed.damaged_parts():
            raise IntegrityError(
                "manifest part is damaged: it fails its SHA-256 checksum"
            ) from None
        raise
    if "manifest" in parsed.damaged_parts():
        raise IntegrityError("manifest part is damaged: it fails its SHA-256 checksum")
    return manifest


def _unwrap(keyfile: KeyFile, user: str, secret: bytes) -> tuple[str, bytes]:
    """The user's role and the master key, from the keyslot the backup holds."""
    try:
        slot, master = keyfile.unwrap(user, secret)
    except AccessError as exc:
        if "unknown user" in str(exc):
            raise AccessError(f"user {user} had no keyslot when this backup was made") from None
        raise AccessError(f"{exc} (keyslot of the backup's time)") from None
    return slot.role, master


def _compare_facts(facts: backup_io.SnapshotFacts, manifest: Manifest) -> None:
    if facts.store_id != manifest.store_id:
        raise IntegrityError("snapshot belongs to another store than its manifest")
    if (facts.page_size, facts.page_count) != (manifest.page_size, manifest.page_count):
        raise IntegrityError(
            f"snapshot has {facts.page_count} pages, the manifest says {manifest.page_count}"
        )
    if facts.row_counts != manifest.row_counts:
        diff = sorted(
            t
            for t in set(facts.row_counts) | set(manifest.row_counts)
            if facts.row_counts.get(t) != manifest.row_counts.get(t)
        )
        raise IntegrityError(f"row counts differ from the manifest in {', '.join(diff[:5])}")
    if facts.schema_version != manifest.schema_version:
        raise IntegrityError("snapshot schema differs from the manifest")
    head = manifest.audit_head
    if (None if head is None else (head.seq, head.hash)) != facts.audit_head:
        raise IntegrityError("snapshot audit chain head differs from the manifest")


def verify_and_record(
    store: Store,
    path: Path,
    secret: bytes,
    *,
    identities: Sequence[Any] | None = None,
    progress: Progress = None,
) -> VerifyReport:
    """Verify one backup against the open store (same store id) and record the outcome."""
    try:
        report = verify_backup(
            path,
            store.user,
            secret,
            identities=identities,
            expect_store_id=store.keyfile.store_id,
            progress=progress,
        ).report
    except RiskError as exc:
        if path.exists():
            record_event(store, "verify", ok=False, path=path, detail={"error": str(exc)[:300]})
        raise
    record_event(
        store,
        "verify",
        ok=True,
        path=path,
        backup_created_at=report.manifest.created_at,
        size=report.size,
        seconds=report.seconds,
    )
    return report

"""Backup, verify, list, prune, restore and drill: the work behind `riskcli backup` and
`riskcli restore`. Never prints; long steps report bytes done to an optional callback.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from riskcli import __version__
from riskcli.domain.errors import AccessError, InputError, IntegrityError, RiskError, UsageError
from riskcli.services.backup import agewrap, files
from riskcli.services.backup.container import (
    CHUNK,
    TAG_KEYS,
    TAG_MANIFEST,
    TAG_SNAPSHOT,
    ContainerParser,
    ContainerWriter,
    Parsed,
    parse_stream,
    read_manifest_quick,
)
from riskcli.services.backup.manifest import (
    MANIFEST_PURPOSE,
    AuditHead,
    Manifest,
    PartDigest,
    authenticate,
    read_unauthenticated,
    seal,
)
from riskcli.storage import backup_io
from riskcli.storage.backup_io import crashpoint
from riskcli.storage.keyslots import KeyFile, keys_path, subkey
from riskcli.storage.store import Store

Progress = Callable[[int], None] | None


# ---- results ---------------------------------------------------------------------------------


@dataclass
class CreateResult:
    path: Path
    manifest: Manifest
    size: int
    seconds: float
    recipients: int

    def as_row(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "created_at": self.manifest.created_at.isoformat(timespec="seconds"),
            "label": self.manifest.label or "",
            "size_bytes": self.size,
            "pages": self.manifest.page_count,
            "rows": sum(self.manifest.row_counts.values()),
            "encrypted_to": self.recipients,
            "seconds": round(self.seconds, 3),
            "verified": True,
        }


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


# ---- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _record(
    store: Store,
    kind: str,
    *,
    ok: bool,
    path: Path | None = None,
    backup_created_at: datetime | None = None,
    size: int | None = None,
    seconds: float | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    if not store.has_table("backup_events"):
        return
    store.execute(
        "INSERT INTO backup_events(at, kind, file_name, folder, backup_created_at, user, ok, "
        "size_bytes, seconds, detail) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            _iso(_now()),
            kind,
            None if path is None else path.name,
            None if path is None else str(path.parent.resolve()),
            None if backup_created_at is None else _iso(backup_created_at),
            store.user,
            int(ok),
            size,
            None if seconds is None else round(seconds, 3),
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        ),
    )


def _master_key(store: Store, secret: bytes) -> bytes:
    _, master = store.keyfile.unwrap(store.user, secret)
    return master


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise InputError(f"backup folder {folder} exists and is not a folder") from None
    except OSError as exc:
        raise InputError(f"cannot create backup folder {folder}: {exc.strerror}") from None
    if not folder.is_dir():
        raise InputError(f"backup folder {folder} exists and is not a folder")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_partials(folder: Path) -> list[Path]:
    """Remove leftovers of interrupted runs whose process is gone; return what was removed."""
    removed = []
    for path in files.stale_partials(folder, older_than_s=-1, now=time.time()):
        pid_text = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 2 else ""
        if pid_text.isdigit() and _pid_alive(int(pid_text)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            files.remove_quietly(path)
        removed.append(path)
    return removed


class _ChunkReader:
    """A read() view over a generator of byte chunks (feeds pyrage without a temp file)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


class _Pipe:
    """Collects what ContainerWriter writes, for the generator to hand on."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.pending.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.pending)
        self.pending.clear()
        return out


def _container_chunks(
    snapshot_path: Path,
    keys_bytes: bytes,
    make_manifest: Callable[[PartDigest, PartDigest], bytes],
    progress: Progress,
) -> Iterator[bytes]:
    """Yield the container's bytes; the manifest is sealed once the snapshot's hash is known."""
    pipe = _Pipe()
    writer = ContainerWriter(pipe)  # type: ignore[arg-type]
    yield pipe.take()
    writer.open_part(TAG_SNAPSHOT, snapshot_path.stat().st_size)
    yield pipe.take()
    with snapshot_path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            writer.feed(chunk)
            if progress:
                progress(len(chunk))
            yield pipe.take()
    snap = writer.close_part()
    keys = writer.add_bytes(TAG_KEYS, keys_bytes)
    yield pipe.take()
    writer.add_bytes(
        TAG_MANIFEST,
        make_manifest(
            PartDigest(size=snap.size, sha256=snap.sha256),
            PartDigest(size=keys.size, sha256=keys.sha256),
        ),
    )
    writer.finish()
    yield pipe.take()


def _write_all(chunks: Iterator[bytes], out: BinaryIO) -> None:
    for chunk in chunks:
        out.write(chunk)


# ---- create ----------------------------------------------------------------------------------


def create_backup(
    store: Store,
    secret: bytes,
    folder: Path,
    *,
    recipients: Sequence[str] = (),
    label: str | None = None,
    progress: Progress = None,
) -> CreateResult:
    """Take a consistent online snapshot of *store* and write one verified backup file.

    The file appears under its final name only after it was written, synced and read back
    (checksums, manifest HMAC, and — through a throwaway age identity when *recipients* are
    given — the encryption). Returns what was written.
    """
    started = time.monotonic()
    master = _master_key(store, secret)
    age_recipients = agewrap.parse_recipients(recipients)
    _ensure_folder(folder)
    clean_partials(folder)
    created = _now()
    serial = 0
    final = folder / files.backup_name(created, encrypted=bool(age_recipients))
    while final.exists():
        serial += 1
        final = folder / files.backup_name(created, encrypted=bool(age_recipients), serial=serial)
    snap_tmp = folder / f".riskcli-snapshot.{os.getpid()}{files.PARTIAL_SUFFIX}"
    out_tmp = files.partial_path(final)
    try:
        keys_bytes = keys_path(store.path).read_bytes()
        backup_io.snapshot(store.conn, snap_tmp, master)
        crashpoint("create:snapshot-written")
        facts = backup_io.inspect_snapshot(snap_tmp, master)
        if facts.store_id != store.keyfile.store_id:
            raise IntegrityError("the snapshot's store id differs from the keys file's")

        def make_manifest(snap: PartDigest, keys: PartDigest) -> bytes:
            manifest = Manifest(
                store_id=store.keyfile.store_id,
                created_at=created,
                user=store.user,
                label=label,
                riskcli_version=__version__,
                schema_version=facts.schema_version,
                page_size=facts.page_size,
                page_count=facts.page_count,
                row_counts=facts.row_counts,
                parts={"snapshot": snap, "keys": keys},
                audit_head=(
                    None
                    if facts.audit_head is None
                    else AuditHead(seq=facts.audit_head[0], hash=facts.audit_head[1])
                ),
            )
            holder.append(manifest)
            return seal(manifest, subkey(master, MANIFEST_PURPOSE))

        holder: list[Manifest] = []
        chunks = _container_chunks(snap_tmp, keys_bytes, make_manifest, progress)
        ephemeral, ephemeral_recipient = agewrap.new_ephemeral()
        fd = os.open(out_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            if age_recipients:
                # the throwaway recipient lets us read this very file back once; its secret
                # half lives only in this process's memory and is dropped below
                agewrap.encrypt_stream(
                    _ChunkReader(chunks),  # type: ignore[arg-type]
                    out,
                    [*age_recipients, ephemeral_recipient],
                )
            else:
                _write_all(chunks, out)
            out.flush()
            os.fsync(out.fileno())
        crashpoint("create:container-written")
        manifest = holder[0]
        _read_back(out_tmp, manifest, master, [ephemeral] if age_recipients else None, progress)
        del ephemeral
        os.rename(out_tmp, final)
        files.fsync_dir(folder)
        crashpoint("create:renamed")
    except OSError as exc:
        raise InputError(
            f"cannot write the backup in {folder}: {exc.strerror or exc}; nothing was kept"
        ) from None
    finally:
        for leftover in (snap_tmp, *backup_io.sidecars(snap_tmp), out_tmp):
            files.remove_quietly(leftover)
    size = final.stat().st_size
    seconds = time.monotonic() - started
    _record(
        store,
        "create",
        ok=True,
        path=final,
        backup_created_at=created,
        size=size,
        seconds=seconds,
        detail={"label": label, "recipients": len(age_recipients)},
    )
    return CreateResult(final, manifest, size, seconds, len(age_recipients))


def _read_back(
    path: Path, manifest: Manifest, master: bytes, identities: list[Any] | None, progress: Progress
) -> None:
    """Read a freshly written file back: structure, trailer, part digests, manifest HMAC."""
    with path.open("rb") as fh:
        if identities:
            parser = ContainerParser()
            agewrap.decrypt_stream(fh, parser.feed, identities, name=path.name, progress=progress)
            parsed = parser.close()
        else:
            parsed = parse_stream(fh, progress=progress)
    damaged = parsed.damaged_parts()
    if damaged:
        raise IntegrityError(f"read-back of {path.name} failed: {', '.join(damaged)} damaged")
    for part, digest in manifest.parts.items():
        if parsed.parts[part].sha256 != digest.sha256:
            raise IntegrityError(f"read-back of {path.name} failed: {part} differs")
    if authenticate(parsed.manifest, subkey(master, MANIFEST_PURPOSE)) != manifest:
        raise IntegrityError(f"read-back of {path.name} failed: manifest differs")


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
            with snap_path.open("wb") as sink_fh:
                parsed, encrypted = _parse_file(path, identities, sink_fh.write, progress)
                sink_fh.flush()
                os.fsync(sink_fh.fileno())
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
            _check_parts(parsed, manifest)
            checks = ["structure", "checksums"]
            if expect_store_id is not None and manifest.store_id != expect_store_id:
                raise IntegrityError(
                    f"backup is of another store ({manifest.store_id}), "
                    f"not of this one ({expect_store_id})"
                )
            keyfile = _keyfile_from(parsed.keys, tmpdir)
            if keyfile.store_id != manifest.store_id:
                raise IntegrityError("keys part belongs to another store than the manifest")
            try:
                slot, master = keyfile.unwrap(user, secret)
            except AccessError as exc:
                if "unknown user" in str(exc):
                    raise AccessError(
                        f"user {user} had no keyslot when this backup was made"
                    ) from None
                raise AccessError(f"{exc} (keyslot of the backup's time)") from None
            checks.append("keyslot")
            authenticate(parsed.manifest, subkey(master, MANIFEST_PURPOSE))
            checks.append("hmac")
            facts = backup_io.inspect_snapshot(snap_path, master)
            checks.extend(["cipher", "integrity"])
            _compare_facts(facts, manifest)
            checks.append("counts")
        except RiskError as exc:
            if snapshot_to is not None:
                files.remove_quietly(snapshot_to)
            raise type(exc)(f"{name}: {exc}") from None
        except OSError as exc:
            if snapshot_to is not None:
                files.remove_quietly(snapshot_to)
            raise InputError(f"{name}: cannot read or extract it: {exc.strerror or exc}") from None
    report = VerifyReport(
        path=path,
        manifest=manifest,
        encrypted=encrypted,
        size=path.stat().st_size,
        role=slot.role,
        seconds=time.monotonic() - started,
        checks=checks,
    )
    return Verified(report, keyfile, parsed.keys, master)


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
            _record(store, "verify", ok=False, path=path, detail={"error": str(exc)[:300]})
        raise
    _record(
        store,
        "verify",
        ok=True,
        path=path,
        backup_created_at=report.manifest.created_at,
        size=report.size,
        seconds=report.seconds,
    )
    return report


# ---- list ------------------------------------------------------------------------------------


def list_backups(folder: Path, store: Store | None = None) -> list[dict[str, Any]]:
    """One row per backup file in *folder*, oldest first, read from the manifests (not verified;
    `verify` reads everything). Age-encrypted files show what the store's records know."""
    records: dict[str, dict[str, Any]] = {}
    if store is not None and store.has_table("backup_events"):
        for rec in store.query(
            "SELECT file_name, kind, ok, at, detail FROM backup_events "
            "WHERE kind IN ('create', 'verify') AND file_name IS NOT NULL ORDER BY id"
        ):
            records[str(rec["file_name"])] = rec
    rows = []
    for path in files.list_backup_files(folder):
        parsed_name = files.parse_name(path.name)
        assert parsed_name is not None
        ts, encrypted = parsed_name
        row: dict[str, Any] = {
            "file": path.name,
            "created_at": ts.isoformat(timespec="seconds"),
            "size_bytes": path.stat().st_size,
            "encrypted": encrypted,
            "user": "",
            "label": "",
            "rows": None,
            "last_check": "",
        }
        if not encrypted:
            try:
                manifest, _, _ = read_unauthenticated(read_manifest_quick(path))
                row.update(
                    user=manifest.user,
                    label=manifest.label or "",
                    rows=sum(manifest.row_counts.values()),
                )
            except (IntegrityError, OSError):
                row["last_check"] = "unreadable manifest"
        record = records.get(path.name)
        if record is not None and not row["last_check"]:
            verdict = "ok" if record["ok"] else "FAILED"
            row["last_check"] = f"{record['kind']} {verdict} {str(record['at'])[:19]}"
        rows.append(row)
    return rows


# ---- prune -----------------------------------------------------------------------------------


@dataclass
class PruneOutcome:
    decisions: list[Any]
    removed: list[Path]
    dry_run: bool
    cleaned: list[Path]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "file": d.name,
                "created_at": d.created_at.isoformat(timespec="seconds"),
                "action": "keep" if d.keep else ("would remove" if self.dry_run else "remove"),
                "why": d.why,
            }
            for d in self.decisions
        ]


def newest_verified(
    store: Store,
    folder: Path,
    secret: bytes,
    identities: Sequence[Any] | None,
    progress: Progress = None,
) -> str | None:
    """The newest backup whose latest create/verify record is ok; with no record for any file,
    verify from the newest down until one passes."""
    paths = files.list_backup_files(folder)
    latest: dict[str, bool] = {}
    if store.has_table("backup_events"):
        for row in store.query(
            "SELECT file_name, ok FROM backup_events WHERE kind IN ('create', 'verify') "
            "AND file_name IS NOT NULL ORDER BY id"
        ):
            latest[str(row["file_name"])] = bool(row["ok"])
    for path in reversed(paths):
        if latest.get(path.name):
            return path.name
    for path in reversed(paths):
        if path.name in latest:
            continue  # known to have failed
        try:
            verify_and_record(store, path, secret, identities=identities, progress=progress)
        except (IntegrityError, AccessError, UsageError):
            continue
        return path.name
    return None


def prune_backups(
    store: Store,
    folder: Path,
    policy: Any,
    secret: bytes,
    *,
    dry_run: bool = False,
    identities: Sequence[Any] | None = None,
    tz: Any = None,
) -> PruneOutcome:
    """Apply a retention policy to the backups in *folder* (see `prune.plan_prune`)."""
    from riskcli.services.backup.prune import Candidate, plan_prune

    if policy.is_empty():
        plan_prune([], policy)  # raises the refusal
    candidates = []
    for path in files.list_backup_files(folder):
        parsed = files.parse_name(path.name)
        assert parsed is not None
        candidates.append(Candidate(path.name, parsed[0]))
    protect = newest_verified(store, folder, secret, identities)
    decisions = plan_prune(candidates, policy, protect=protect, tz=tz)
    removed: list[Path] = []
    cleaned: list[Path] = []
    if not dry_run:
        cleaned = clean_partials(folder)
        # oldest first: an interrupted prune has removed the least valuable files
        for decision in reversed(decisions):
            if decision.keep:
                continue
            path = folder / decision.name
            files.remove_quietly(path)
            removed.append(path)
            crashpoint("prune:removed-one")
        if removed:
            files.fsync_dir(folder)
        _record(
            store,
            "prune",
            ok=True,
            path=None,
            detail={
                "folder": str(folder),
                "kept": [d.name for d in decisions if d.keep],
                "removed": [p.name for p in removed],
                "protected": protect,
            },
        )
    return PruneOutcome(decisions, removed, dry_run, cleaned)


# ---- status ----------------------------------------------------------------------------------


def _age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _newest_file(folders: Sequence[Path]) -> tuple[datetime, str] | None:
    best: tuple[datetime, str] | None = None
    for folder in folders:
        for path in files.list_backup_files(folder)[-1:]:
            parsed = files.parse_name(path.name)
            if parsed is not None and (best is None or parsed[0] > best[0]):
                best = (parsed[0], path.name)
    return best


def backup_status(store: Store, folder: Path | None = None) -> dict[str, Any]:
    """For `riskcli status`: the newest backup and the last successful drill, with their ages.

    Keys: newest_backup, last_successful_drill (text such as "riskcli-....rcbk (3.2 h ago)" or
    "never"), plus <key>_at (ISO time) and <key>_age_seconds when there is one, and
    last_drill_failed_at when the most recent drill failed. The newest backup is the newer of
    the store's records and the files in *folder* (default: backups/ beside the store) and in
    the folders backups were recorded in, so a store restored from an older backup still sees
    the backups made after it.
    """
    out: dict[str, Any] = {"newest_backup": "never", "last_successful_drill": "never"}
    if not store.has_table("backup_events"):
        return out
    now = _now()
    found: dict[str, tuple[datetime, str]] = {}
    for key, kind in (("newest_backup", "create"), ("last_successful_drill", "drill")):
        rows = store.query(
            "SELECT at, file_name FROM backup_events WHERE kind = ? AND ok = 1 "
            "ORDER BY at DESC LIMIT 1",
            (kind,),
        )
        if rows:
            found[key] = (datetime.fromisoformat(str(rows[0]["at"])), str(rows[0]["file_name"]))
    folders = [folder or store.path.parent / "backups"] + [
        Path(str(r["folder"]))
        for r in store.query(
            "SELECT DISTINCT folder FROM backup_events WHERE kind = 'create' AND folder IS NOT NULL"
        )
    ]
    on_disk = _newest_file(folders)
    if on_disk is not None and ("newest_backup" not in found or on_disk > found["newest_backup"]):
        found["newest_backup"] = on_disk
    for key, (at, name) in found.items():
        age = max(0.0, (now - at).total_seconds())
        out[key] = f"{name} ({_age_text(age)} ago)"
        out[f"{key}_at"] = at.isoformat(timespec="seconds")
        out[f"{key}_age_seconds"] = int(age)
    last = store.query(
        "SELECT at, ok FROM backup_events WHERE kind = 'drill' ORDER BY at DESC LIMIT 1"
    )
    if last and not last[0]["ok"]:
        out["last_drill_failed_at"] = datetime.fromisoformat(str(last[0]["at"])).isoformat(
            timespec="seconds"
        )
    return out


# ---- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    backup: Path
    target: Path
    manifest: Manifest
    safety: Path | None
    migrated: list[str]
    row_counts: dict[str, int]
    recovered: str | None
    seconds: float

    def as_row(self) -> dict[str, Any]:
        return {
            "restored": str(self.target),
            "from": str(self.backup),
            "backup_created_at": self.manifest.created_at.isoformat(timespec="seconds"),
            "safety_copy": "" if self.safety is None else str(self.safety),
            "migrated": ", ".join(self.migrated),
            "rows": sum(self.row_counts.values()),
            "seconds": round(self.seconds, 3),
        }


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _safety_name(target: Path) -> Path:
    stamp = _now().strftime("%Y%m%dT%H%M%SZ")
    candidate = target.with_name(f"{target.name}.pre-restore-{stamp}")
    serial = 1
    while candidate.exists() or keys_path(candidate).exists():
        serial += 1
        candidate = target.with_name(f"{target.name}.pre-restore-{stamp}-{serial}")
    return candidate


def restore_backup(
    path: Path,
    target: Path,
    user: str,
    secret: bytes,
    *,
    identities: Sequence[Any] | None = None,
    force: bool = False,
    action: str = "restore.run",
    expect_store_id: str | None = None,
    progress: Progress = None,
    on_restored: Callable[[Store], None] | None = None,
) -> RestoreResult:
    """Verify *path*, then put its store and keys file at *target*, atomically.

    An existing store is replaced only with *force*, and is kept as ``<target>.pre-restore-*``
    (with its keys file). The user must hold *action* in the backup's keyslots. The restored
    store is migrated to the current schema, and the restore is recorded in it; *on_restored*
    is then called with the open restored store (the CLI anchors the audit chain there).
    """
    from riskcli.domain.permissions import allowed
    from riskcli.storage import audit
    from riskcli.storage.store import open_with_key

    started = time.monotonic()
    if target.is_dir():
        raise UsageError(f"{target} is a folder: give the store file's path")
    if not target.parent.is_dir():
        raise InputError(f"folder {target.parent} does not exist")
    with backup_io.restore_lock(target):
        recovered = backup_io.recover_interrupted_restore(target)
        staged_db, staged_keys = backup_io.staged_paths(target)
        try:
            verified = verify_backup(
                path,
                user,
                secret,
                identities=identities,
                expect_store_id=expect_store_id,
                snapshot_to=staged_db,
                workdir=target.parent,
                progress=progress,
            )
            manifest = verified.report.manifest
            if not allowed(verified.report.role, action):
                raise AccessError(
                    f"user {user} (role {verified.report.role} in the backup) may not {action}"
                )
            tkeys = keys_path(target)
            exists = target.exists() or tkeys.exists()
            if exists and tkeys.exists():
                current = KeyFile.load(tkeys)
                if current.store_id != manifest.store_id:
                    raise IntegrityError(
                        f"{path.name} is a backup of another store ({manifest.store_id}) than "
                        f"the one at {target} ({current.store_id}); restore it elsewhere with --to"
                    )
            if exists and not force:
                raise InputError(
                    f"{path.name} verified, but {target} exists: add --force to replace it "
                    "(the replaced store is kept as a safety copy)"
                )
            os.chmod(staged_db, 0o600)
            _write_synced(staged_keys, verified.keys_bytes)
            crashpoint("restore:staged")
            safety = _safety_name(target)
            backup_io.install_restored(
                backup_io.SwapPlan(target, staged_db, staged_keys, safety, path.name)
            )
        except BaseException:
            if not backup_io.journal_path(target).exists():
                files.remove_quietly(staged_db)
                files.remove_quietly(staged_keys)
            raise
        crashpoint("restore:installed")
        slot = verified.keyfile.find(user)
        store = open_with_key(target, verified.master, verified.keyfile, user, slot.role)
        try:
            migrated = [m for m in _applied(store) if m not in manifest.schema_version]
            counts = store.row_counts()
            seconds = time.monotonic() - started
            _record(
                store,
                "restore",
                ok=True,
                path=path,
                backup_created_at=manifest.created_at,
                size=verified.report.size,
                seconds=seconds,
                detail={"target": str(target), "migrated": migrated},
            )
            if store.has_table("audit_events"):
                audit.append_event(
                    store.conn,
                    user=user,
                    role=slot.role,
                    action=action,
                    command="riskcli restore",
                    args={"file": str(path), "to": str(target), "force": force},
                    affected={"backup_created_at": _iso(manifest.created_at)},
                    outcome="ok",
                )
            if on_restored is not None:
                on_restored(store)
        finally:
            store.close()
    had_old = safety.exists() or keys_path(safety).exists()
    return RestoreResult(
        backup=path,
        target=target,
        manifest=manifest,
        safety=safety if had_old else None,
        migrated=migrated,
        row_counts=counts,
        recovered=recovered,
        seconds=seconds,
    )


def _applied(store: Store) -> list[str]:
    if not store.has_table("schema_migrations"):
        return []
    return [str(r["name"]) for r in store.query("SELECT name FROM schema_migrations ORDER BY name")]


# ---- drill -----------------------------------------------------------------------------------


@dataclass
class DrillResult:
    ok: bool
    backup: Path | None
    seconds: float
    differences: dict[str, tuple[int | None, int | None]]
    error: str | None = None

    def rows(self) -> list[dict[str, Any]]:
        head = {
            "backup": "" if self.backup is None else self.backup.name,
            "result": "ok" if self.ok else "FAILED",
            "seconds": round(self.seconds, 3),
        }
        if self.error:
            return [
                {**head, "table": "", "backup_rows": None, "live_rows": None, "note": self.error}
            ]
        if not self.differences:
            return [
                {
                    **head,
                    "table": "(all)",
                    "backup_rows": None,
                    "live_rows": None,
                    "note": "row counts equal the live store",
                }
            ]
        return [
            {
                **head,
                "table": t,
                "backup_rows": b,
                "live_rows": live,
                "note": "changed since the backup",
            }
            for t, (b, live) in sorted(self.differences.items())
        ]


def drill(
    store: Store,
    secret: bytes,
    folder: Path,
    *,
    identities: Sequence[Any] | None = None,
    workdir: Path | None = None,
    progress: Progress = None,
) -> DrillResult:
    """Restore the newest backup into a temporary place, verify it, compare it with the live
    store and record the result. Differing row counts are reported, not failed (the store moves
    on after a backup); damage, a wrong key or another store's backup fail the drill."""
    started = time.monotonic()
    backups = files.list_backup_files(folder)
    if not backups:
        error = f"no backup in {folder} to drill"
        _record(store, "drill", ok=False, detail={"error": error})
        raise InputError(error)
    newest = backups[-1]
    try:
        with tempfile.TemporaryDirectory(prefix="riskcli-drill-", dir=workdir) as tmp:
            result = restore_backup(
                newest,
                Path(tmp) / "drill.db",
                store.user,
                secret,
                identities=identities,
                action="backup.create",
                expect_store_id=store.keyfile.store_id,
                progress=progress,
            )
    except RiskError as exc:
        _record(
            store,
            "drill",
            ok=False,
            path=newest,
            seconds=time.monotonic() - started,
            detail={"error": str(exc)[:300]},
        )
        raise type(exc)(f"drill failed: {exc}") from None
    live = store.row_counts()
    # the store's own bookkeeping moves with every command; compare the business tables
    ignore = {"backup_events", "audit_events", "schema_migrations"}
    differences = {
        t: (result.row_counts.get(t), live.get(t))
        for t in sorted(set(result.row_counts) | set(live))
        if t not in ignore and result.row_counts.get(t) != live.get(t)
    }
    seconds = time.monotonic() - started
    _record(
        store,
        "drill",
        ok=True,
        path=newest,
        backup_created_at=result.manifest.created_at,
        seconds=seconds,
        detail={"differences": {t: list(v) for t, v in differences.items()}},
    )
    return DrillResult(True, newest, seconds, differences)

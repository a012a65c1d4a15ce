"""`backup create`: a consistent online snapshot packed into one verified file."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from riskcli import __version__
from riskcli.domain.errors import InputError, IntegrityError, StoreBusy
from riskcli.failpoints import failpoint
from riskcli.services.backup import agewrap, files
from riskcli.services.backup.container import (
    CHUNK,
    TAG_KEYS,
    TAG_MANIFEST,
    TAG_SNAPSHOT,
    ContainerParser,
    ContainerWriter,
    parse_stream,
)
from riskcli.services.backup.manifest import (
    MANIFEST_PURPOSE,
    AuditHead,
    Manifest,
    PartDigest,
    authenticate,
    seal,
)
from riskcli.services.backup.records import Progress, now_utc, record_event
from riskcli.storage import backup_io, swap
from riskcli.storage.keyslots import keys_path, subkey
from riskcli.storage.locks import pid_alive
from riskcli.storage.store import Store


@dataclass
class CreateResult:
    path: Path
    manifest: Manifest
    size: int
    seconds: float
    recipients: int
    #: why the backup is missing from the store's records (the store stayed busy), if it is
    not_recorded: str | None = None

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


def clean_partials(folder: Path) -> list[Path]:
    """Remove leftovers of interrupted runs whose process is gone; return what was removed."""
    removed = []
    for path in files.stale_partials(folder, older_than_s=-1, now=time.time()):
        pid_text = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 2 else ""
        if pid_text.isdigit() and pid_alive(int(pid_text)):
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
    created = now_utc()
    final = _free_name(folder, created, encrypted=bool(age_recipients))
    snap_tmp = folder / f".riskcli-snapshot.{os.getpid()}{files.PARTIAL_SUFFIX}"
    out_tmp = files.partial_path(final)
    try:
        keys_bytes = keys_path(store.path).read_bytes()
        facts = _snapshot(store, snap_tmp, master)

        def make_manifest(snap: PartDigest, keys: PartDigest) -> bytes:
            manifest = _manifest(store, created, label, facts, snap, keys)
            holder.append(manifest)
            return seal(manifest, subkey(master, MANIFEST_PURPOSE))

        holder: list[Manifest] = []
        chunks = _container_chunks(snap_tmp, keys_bytes, make_manifest, progress)
        ephemeral, ephemeral_recipient = agewrap.new_ephemeral()
        _write_synced(out_tmp, chunks, age_recipients, ephemeral_recipient)
        failpoint("create:container-written")
        manifest = holder[0]
        _read_back(out_tmp, manifest, master, [ephemeral] if age_recipients else None, progress)
        del ephemeral
        os.rename(out_tmp, final)
        swap.fsync_path(folder)
        failpoint("create:renamed")
    except OSError as exc:
        raise InputError(
            f"cannot write the backup in {folder}: {exc.strerror or exc}; nothing was kept"
        ) from None
    finally:
        for leftover in (snap_tmp, *swap.sidecars(snap_tmp), out_tmp):
            files.remove_quietly(leftover)
    size = final.stat().st_size
    seconds = time.monotonic() - started
    result = CreateResult(final, manifest, size, seconds, len(age_recipients))
    result.not_recorded = _record_create(store, result, created, label)
    return result


def _free_name(folder: Path, created: datetime, *, encrypted: bool) -> Path:
    """The backup's file name in `folder`, with a serial when that second's name is taken."""
    serial = 0
    final = folder / files.backup_name(created, encrypted=encrypted)
    while final.exists():
        serial += 1
        final = folder / files.backup_name(created, encrypted=encrypted, serial=serial)
    return final


def _snapshot(store: Store, snap_tmp: Path, master: bytes) -> backup_io.SnapshotFacts:
    """An online snapshot of the store at `snap_tmp`, and what it holds."""
    backup_io.snapshot(store.conn, snap_tmp, master)
    failpoint("create:snapshot-written")
    facts = backup_io.inspect_snapshot(snap_tmp, master)
    if facts.store_id != store.keyfile.store_id:
        raise IntegrityError("the snapshot's store id differs from the keys file's")
    return facts


def _manifest(
    store: Store,
    created: datetime,
    label: str | None,
    facts: backup_io.SnapshotFacts,
    snap: PartDigest,
    keys: PartDigest,
) -> Manifest:
    return Manifest(
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


def _write_synced(
    out_tmp: Path, chunks: Iterator[bytes], age_recipients: list[Any], ephemeral_recipient: Any
) -> None:
    """Write the container to `out_tmp` (a new file), encrypted when there are recipients."""
    fd = os.open(out_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        if age_recipients:
            # the throwaway recipient lets us read this very file back once; its secret
            # half lives only in this process's memory and is dropped by the caller
            agewrap.encrypt_stream(
                _ChunkReader(chunks),  # type: ignore[arg-type]
                out,
                [*age_recipients, ephemeral_recipient],
            )
        else:
            _write_all(chunks, out)
        out.flush()
        os.fsync(out.fileno())


def _record_create(
    store: Store, result: CreateResult, created: datetime, label: str | None
) -> str | None:
    """Record the backup in the store; why not, when the store stayed busy."""
    try:
        # bookkeeping only: the file is written and verified whether or not this lands
        with store.transaction():
            record_event(
                store,
                "create",
                ok=True,
                path=result.path,
                backup_created_at=created,
                size=result.size,
                seconds=result.seconds,
                detail={"label": label, "recipients": result.recipients},
            )
    except StoreBusy as exc:
        return str(exc)
    return None


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

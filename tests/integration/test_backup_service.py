"""Backups of real encrypted stores: round trip, and every fault the issue lists."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskcli.domain.errors import AccessError, InputError, IntegrityError, UsageError
from riskcli.services import backup as svc
from riskcli.services.backup import agewrap
from riskcli.services.backup.container import (
    TAG_KEYS,
    TAG_MANIFEST,
    TAG_SNAPSHOT,
    ContainerWriter,
    parse_bytes,
)
from riskcli.services.backup.manifest import canonical_json
from riskcli.storage.keyslots import KeyFile, keys_path
from riskcli.storage.store import Store, create_store, open_store

PASSPHRASE = b"correct horse battery staple"
USER = "alice"


def fill(store: Store, rows: int = 500, marker: str = "v1") -> None:
    with store.transaction():
        store.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
        store.executemany(
            "INSERT INTO notes(body) VALUES (?)", [(f"{marker}-{i}",) for i in range(rows)]
        )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def made(store: Store, folder: Path) -> svc.CreateResult:
    fill(store)
    return svc.create_backup(store, PASSPHRASE, folder, label="nightly")


def verify(path: Path, **kw: object) -> svc.VerifyReport:
    return svc.verify_backup(path, USER, PASSPHRASE, **kw).report  # type: ignore[arg-type]


def parts_of(path: Path) -> dict[str, bytes]:
    data = path.read_bytes()
    parsed = parse_bytes(data)
    return {
        name: data[info.offset : info.offset + info.size] for name, info in parsed.parts.items()
    }


def rebuild(snapshot: bytes, keys: bytes, manifest: bytes) -> bytes:
    """A well-formed container (valid trailer) from given parts: what a careful forger makes."""
    out = io.BytesIO()
    writer = ContainerWriter(out)
    writer.add_bytes(TAG_SNAPSHOT, snapshot)
    writer.add_bytes(TAG_KEYS, keys)
    writer.add_bytes(TAG_MANIFEST, manifest)
    writer.finish()
    return out.getvalue()


# ---- the happy path ----------------------------------------------------------------------------


def test_create_writes_one_verified_file_with_a_full_manifest(
    store: Store, made: svc.CreateResult, folder: Path
) -> None:
    assert [p.name for p in folder.iterdir()] == [made.path.name]
    assert made.path.name.startswith("riskcli-") and made.path.name.endswith(".rcbk")
    m = made.manifest
    assert m.user == USER and m.label == "nightly"
    assert m.store_id == store.keyfile.store_id
    assert m.row_counts["notes"] == 500
    assert m.page_count > 0 and m.page_size == 4096
    assert "m040_backup" in m.schema_version
    assert m.audit_head is None or m.audit_head.seq >= 0
    assert set(m.parts) == {"snapshot", "keys"}
    assert parts_of(made.path)["keys"] == keys_path(store.path).read_bytes()
    report = verify(made.path, expect_store_id=store.keyfile.store_id)
    assert report.manifest == m
    assert report.checks == [
        "structure",
        "checksums",
        "keyslot",
        "hmac",
        "cipher",
        "integrity",
        "counts",
    ]
    assert (made.path.stat().st_mode & 0o777) == 0o600


def test_manifest_records_the_audit_chain_head(store: Store, folder: Path) -> None:
    from riskcli.storage import audit

    head = audit.append_event(
        store.conn,
        user=USER,
        role="admin",
        action="x.y",
        command="t",
        args={},
        affected={},
        outcome="ok",
    )
    made = svc.create_backup(store, PASSPHRASE, folder)
    assert made.manifest.audit_head is not None
    assert (made.manifest.audit_head.seq, made.manifest.audit_head.hash) == (head.seq, head.hash)


def test_snapshot_is_encrypted_and_file_names_sort_by_time(store: Store, folder: Path) -> None:
    fill(store, marker="secret-marker")
    first = svc.create_backup(store, PASSPHRASE, folder)
    second = svc.create_backup(store, PASSPHRASE, folder)
    assert sorted([second.path.name, first.path.name]) == [first.path.name, second.path.name]
    assert b"secret-marker" not in first.path.read_bytes()
    assert b"SQLite format 3" not in parts_of(first.path)["snapshot"][:16]


def test_records_and_status(store: Store, made: svc.CreateResult) -> None:
    status = svc.backup_status(store)
    assert status["newest_backup"].startswith(made.path.name)
    assert status["newest_backup_age_seconds"] < 60
    assert status["last_successful_drill"] == "never"


# ---- missing, truncated, flipped, swapped, edited ------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"backup file .*nope.rcbk does not exist"):
        verify(tmp_path / "nope.rcbk")


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.25, 0.5, 0.999])
def test_truncated_at_several_offsets(made: svc.CreateResult, fraction: float) -> None:
    data = made.path.read_bytes()
    made.path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(IntegrityError, match="truncated"):
        verify(made.path)


@pytest.mark.parametrize("cut", [1, 100, 128, 129, 140])
def test_truncated_near_the_end(made: svc.CreateResult, cut: int) -> None:
    data = made.path.read_bytes()
    made.path.write_bytes(data[:-cut])
    with pytest.raises(IntegrityError, match="truncated"):
        verify(made.path)


@pytest.mark.parametrize(
    ("part", "where", "message"),
    [
        ("snapshot", 0.001, "snapshot part is damaged"),
        ("snapshot", 0.5, "snapshot part is damaged"),
        ("snapshot", 0.999, "snapshot part is damaged"),
        ("keys", 0.5, "keys part is damaged"),
        ("manifest", 0.1, "manifest part is damaged"),
        ("manifest", 0.6, "manifest part is damaged"),
    ],
)
def test_a_bit_flipped_in_each_part_is_named(
    made: svc.CreateResult, part: str, where: float, message: str
) -> None:
    data = bytearray(made.path.read_bytes())
    info = parse_bytes(bytes(data)).parts[part]
    data[info.offset + int(info.size * where)] ^= 0x04
    made.path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=message):
        verify(made.path)


def test_a_bit_flipped_in_the_header_framing_and_trailer(made: svc.CreateResult) -> None:
    data = made.path.read_bytes()
    for pos, message in [
        (3, "not a riskcli backup"),  # magic
        (17, "damaged framing"),  # SNAP tag
        (len(data) - 130, "damaged trailer frame|damaged framing|truncated"),  # END frame size
        (len(data) - 100, "damaged"),  # trailer digest of the framing
    ]:
        damaged = bytearray(data)
        damaged[pos] ^= 0x01
        made.path.write_bytes(bytes(damaged))
        with pytest.raises(IntegrityError, match=message):
            verify(made.path)


def test_damaged_snapshot_pages_fail_cipher_integrity_even_with_forged_checksums(
    store: Store, made: svc.CreateResult
) -> None:
    """Flip a page byte AND recompute every checksum: the snapshot's own page HMACs catch it
    (the manifest HMAC would too; here we re-seal it as if the attacker had the master key)."""
    from riskcli.services.backup.manifest import (
        MANIFEST_PURPOSE,
        PartDigest,
        read_unauthenticated,
        seal,
    )
    from riskcli.storage.keyslots import subkey

    parts = parts_of(made.path)
    snap = bytearray(parts["snapshot"])
    snap[4096 * 2 + 100] ^= 0x01
    import hashlib

    manifest, _, _ = read_unauthenticated(parts["manifest"])
    new_parts = dict(manifest.parts)
    new_parts["snapshot"] = PartDigest(size=len(snap), sha256=hashlib.sha256(snap).hexdigest())
    forged = manifest.model_copy(update={"parts": new_parts})
    _, master = store.keyfile.unwrap(USER, PASSPHRASE)
    sealed = seal(forged, subkey(master, MANIFEST_PURPOSE))
    made.path.write_bytes(rebuild(bytes(snap), parts["keys"], sealed))
    with pytest.raises(IntegrityError, match="cipher_integrity_check"):
        verify(made.path)


@pytest.mark.parametrize("swapped", ["snapshot", "keys", "manifest"])
def test_parts_swapped_between_two_backups(
    store: Store, folder: Path, made: svc.CreateResult, swapped: str
) -> None:
    fill(store, rows=10, marker="v2")
    _, master = store.keyfile.unwrap(USER, PASSPHRASE)
    store.keyfile.add_slot("bob", "viewer", b"bob-passphrase", master)  # the keys file changes
    store.keyfile.save(keys_path(store.path))
    other = svc.create_backup(store, PASSPHRASE, folder)
    mine, theirs = parts_of(made.path), parts_of(other.path)
    assert mine[swapped] != theirs[swapped]
    mine[swapped] = theirs[swapped]
    made.path.write_bytes(rebuild(mine["snapshot"], mine["keys"], mine["manifest"]))
    expected = "swapped in from another backup" if swapped != "manifest" else "swapped in"
    with pytest.raises(IntegrityError, match=expected):
        verify(made.path)


def test_swapped_part_without_fixing_the_trailer_is_still_named(
    store: Store, folder: Path, made: svc.CreateResult
) -> None:
    _, master = store.keyfile.unwrap(USER, PASSPHRASE)
    store.keyfile.slots[0].created = "2000-01-01T00:00:00+00:00"  # same length, other bytes
    store.keyfile.seal(master)
    store.keyfile.save(keys_path(store.path))
    other = svc.create_backup(store, PASSPHRASE, folder)
    mine, theirs = parts_of(made.path), parts_of(other.path)
    assert len(mine["keys"]) == len(theirs["keys"]) and mine["keys"] != theirs["keys"]
    data = made.path.read_bytes().replace(mine["keys"], theirs["keys"])
    made.path.write_bytes(data)
    with pytest.raises(IntegrityError, match="keys part"):
        verify(made.path)


@pytest.mark.parametrize(
    ("field", "value"),
    [("row_counts", {"notes": 1}), ("label", "forged"), ("created_at", "2020-01-01T00:00:00Z")],
)
def test_edited_manifest_with_recomputed_checksums_fails_its_hmac(
    made: svc.CreateResult, field: str, value: object
) -> None:
    parts = parts_of(made.path)
    envelope = json.loads(parts["manifest"])
    envelope["manifest"][field] = value
    made.path.write_bytes(rebuild(parts["snapshot"], parts["keys"], canonical_json(envelope)))
    with pytest.raises(IntegrityError, match="manifest fails authentication"):
        verify(made.path)


# ---- other store, passphrase, keyslots --------------------------------------------------------


@pytest.fixture
def other_store(tmp_path: Path) -> Iterator[Store]:
    s = create_store(tmp_path / "other.db", USER, PASSPHRASE)
    try:
        yield s
    finally:
        s.close()


def test_backup_of_another_store_is_detected(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    foreign = svc.create_backup(other_store, PASSPHRASE, tmp_path / "elsewhere")
    with pytest.raises(IntegrityError, match=r"backup is of another store \(.+\), not of this"):
        svc.verify_and_record(store, foreign.path, PASSPHRASE)
    assert svc.list_backups(tmp_path / "elsewhere", store)[0]["last_check"].startswith(
        "verify FAILED"
    )


def test_restore_of_another_stores_backup_over_a_store_is_refused_even_with_force(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    foreign = svc.create_backup(other_store, PASSPHRASE, tmp_path / "elsewhere")
    before = store.path.read_bytes()
    with pytest.raises(IntegrityError, match="backup of another store"):
        svc.restore_backup(foreign.path, store.path, USER, PASSPHRASE, force=True)
    assert store.path.read_bytes() == before


def test_foreign_keys_and_snapshot_with_our_manifest_fail(
    made: svc.CreateResult, other_store: Store, tmp_path: Path
) -> None:
    foreign = parts_of(svc.create_backup(other_store, PASSPHRASE, tmp_path / "x").path)
    mine = parts_of(made.path)
    made.path.write_bytes(rebuild(foreign["snapshot"], foreign["keys"], mine["manifest"]))
    with pytest.raises(IntegrityError, match="swapped in from another backup"):
        verify(made.path)


def test_wrong_passphrase_and_unknown_user(made: svc.CreateResult) -> None:
    with pytest.raises(AccessError, match="wrong passphrase for user alice"):
        svc.verify_backup(made.path, USER, b"not the passphrase")
    with pytest.raises(AccessError, match="user bob had no keyslot when this backup was made"):
        svc.verify_backup(made.path, "bob", PASSPHRASE)


def test_keyslots_of_that_time_are_used(store: Store, made: svc.CreateResult) -> None:
    """A user added after the backup cannot open it; the passphrase of that time can."""
    _, master = store.keyfile.unwrap(USER, PASSPHRASE)
    keyfile = KeyFile.load(keys_path(store.path))
    keyfile.add_slot("bob", "operator", b"bob-passphrase", master)
    keyfile.save(keys_path(store.path))
    with pytest.raises(AccessError, match="bob had no keyslot"):
        svc.verify_backup(made.path, "bob", b"bob-passphrase")
    assert verify(made.path).role == "admin"


# ---- age ----------------------------------------------------------------------------------------


def _identity(tmp_path: Path, name: str) -> tuple[Path, str]:
    identity, recipient = agewrap.new_ephemeral()
    path = tmp_path / name
    path.write_text(f"{identity}\n")
    return path, str(recipient)


def test_age_backup_needs_the_identity(store: Store, folder: Path, tmp_path: Path) -> None:
    key, rec = _identity(tmp_path, "key.txt")
    wrong, _ = _identity(tmp_path, "wrong.txt")
    fill(store, marker="age-marker")
    made = svc.create_backup(store, PASSPHRASE, folder, recipients=[rec])
    assert made.path.name.endswith(".rcbk.age")
    assert made.path.read_bytes().startswith(b"age-encryption.org/v1\n")
    with pytest.raises(UsageError, match="age-encrypted: give --identity"):
        verify(made.path)
    with pytest.raises(AccessError, match="matches no recipient"):
        verify(made.path, identities=agewrap.load_identities(wrong))
    report = verify(made.path, identities=agewrap.load_identities(key))
    assert report.encrypted and report.manifest.row_counts["notes"] == 500


def test_age_backup_damage_is_integrity(store: Store, folder: Path, tmp_path: Path) -> None:
    key, rec = _identity(tmp_path, "key.txt")
    fill(store)
    made = svc.create_backup(store, PASSPHRASE, folder, recipients=[rec])
    data = bytearray(made.path.read_bytes())
    for damage in ("flip", "truncate"):
        broken = bytes(data[: len(data) // 2]) if damage == "truncate" else None
        if broken is None:
            flipped = bytearray(data)
            flipped[len(data) // 2] ^= 0x20
            broken = bytes(flipped)
        made.path.write_bytes(broken)
        with pytest.raises(IntegrityError, match="truncated or damaged"):
            verify(made.path, identities=agewrap.load_identities(key))


@pytest.mark.skipif(
    shutil.which("age") is None,
    reason="the reference `age` binary is not installed (apt-get install age)",
)
def test_reference_age_tool_decrypts_a_backup_to_a_valid_container(
    store: Store, folder: Path, tmp_path: Path
) -> None:
    key, rec = _identity(tmp_path, "key.txt")
    made = svc.create_backup(store, PASSPHRASE, folder, recipients=[rec])
    plain = tmp_path / "plain.rcbk"
    subprocess.run(["age", "-d", "-i", str(key), "-o", str(plain), str(made.path)], check=True)
    assert verify(plain).manifest == made.manifest


def test_bad_recipient_is_refused_before_anything_is_written(store: Store, folder: Path) -> None:
    with pytest.raises(UsageError, match="not an age X25519 recipient"):
        svc.create_backup(store, PASSPHRASE, folder, recipients=["age1notakey"])
    assert not folder.exists() or list(folder.iterdir()) == []


# ---- destination unwritable or full -------------------------------------------------------------


def test_destination_is_a_file(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(InputError, match="exists and is not a folder"):
        svc.create_backup(store, PASSPHRASE, blocker)
    with pytest.raises(InputError, match="cannot create backup folder"):
        svc.create_backup(store, PASSPHRASE, blocker / "sub")


def test_disk_full_part_way_leaves_nothing(
    store: Store, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, rows=3000)
    real_write = svc.create._write_all

    def failing(chunks: Iterator[bytes], out: io.BufferedWriter) -> None:
        written = 0
        for chunk in chunks:
            if written > 50_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            out.write(chunk)
            written += len(chunk)

    monkeypatch.setattr(svc.create, "_write_all", failing)
    with pytest.raises(InputError, match="No space left on device; nothing was kept"):
        svc.create_backup(store, PASSPHRASE, folder)
    assert list(folder.iterdir()) == []
    monkeypatch.setattr(svc.create, "_write_all", real_write)
    assert svc.create_backup(store, PASSPHRASE, folder).path.exists()


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_filesystem(store: Store, tiny_fs: Path) -> None:
    fill(store, rows=20_000)  # well over 200 KiB
    with pytest.raises(InputError, match="disk is full|No space left on device"):
        svc.create_backup(store, PASSPHRASE, tiny_fs)
    assert list(tiny_fs.iterdir()) == []


def test_read_only_filesystem(store: Store, tiny_fs: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with pytest.raises(InputError, match="Read-only file system|unable to open"):
        svc.create_backup(store, PASSPHRASE, tiny_fs)


# ---- restore ------------------------------------------------------------------------------------


def test_restore_to_a_new_path_opens_with_the_passphrase_of_that_time(
    store: Store, made: svc.CreateResult, tmp_path: Path
) -> None:
    # change alice's passphrase after the backup: the restored store wants the old one
    _, master = store.keyfile.unwrap(USER, PASSPHRASE)
    keyfile = KeyFile.load(keys_path(store.path))
    keyfile.slots = [s for s in keyfile.slots if s.user != USER]
    keyfile.add_slot(USER, "admin", b"a brand new passphrase", master)
    keyfile.save(keys_path(store.path))
    target = tmp_path / "restored" / "book.db"
    target.parent.mkdir()
    result = svc.restore_backup(made.path, target, USER, PASSPHRASE)
    assert result.safety is None
    with open_store(target, USER, PASSPHRASE) as restored:
        assert restored.scalar("SELECT count(*) FROM notes") == 500
        events = restored.query("SELECT kind, ok FROM backup_events WHERE kind = 'restore'")
        assert events == [{"kind": "restore", "ok": 1}]
    with pytest.raises(AccessError):
        open_store(target, USER, b"a brand new passphrase")


def test_restore_refuses_to_replace_without_force_then_keeps_a_safety_copy(
    store: Store, made: svc.CreateResult
) -> None:
    fill(store, rows=7, marker="after")
    store.close()
    old_db_rows = 507
    with pytest.raises(InputError, match="exists: add --force to replace it"):
        svc.restore_backup(made.path, store.path, USER, PASSPHRASE)
    with open_store(store.path, USER, PASSPHRASE) as s:
        assert s.scalar("SELECT count(*) FROM notes") == old_db_rows
    result = svc.restore_backup(made.path, store.path, USER, PASSPHRASE, force=True)
    assert result.safety is not None and result.safety.exists()
    assert keys_path(result.safety).exists()
    with open_store(store.path, USER, PASSPHRASE) as s:
        assert s.scalar("SELECT count(*) FROM notes") == 500
    with open_store(result.safety, USER, PASSPHRASE) as s:
        assert s.scalar("SELECT count(*) FROM notes") == old_db_rows
    leftovers = [p.name for p in store.path.parent.iterdir() if "restore-new" in p.name]
    assert leftovers == []


def test_restore_of_a_damaged_backup_changes_nothing(store: Store, made: svc.CreateResult) -> None:
    store.close()
    data = bytearray(made.path.read_bytes())
    data[len(data) // 3] ^= 1
    made.path.write_bytes(bytes(data))

    def listing() -> list[str]:
        return sorted(p.name for p in store.path.parent.iterdir() if "restore-lock" not in p.name)

    before = listing()
    content = store.path.read_bytes()
    with pytest.raises(IntegrityError):
        svc.restore_backup(made.path, store.path, USER, PASSPHRASE, force=True)
    assert listing() == before
    assert store.path.read_bytes() == content


def test_restore_needs_the_restore_permission_in_the_backup(
    store: Store, folder: Path, tmp_path: Path
) -> None:
    _, master = store.keyfile.unwrap(USER, PASSPHRASE)
    store.keyfile.add_slot("olga", "operator", b"olga-passphrase", master)
    store.keyfile.save(keys_path(store.path))
    made = svc.create_backup(store, PASSPHRASE, folder)
    with pytest.raises(AccessError, match=r"olga \(role operator in the backup\) may not"):
        svc.restore_backup(made.path, tmp_path / "r.db", "olga", b"olga-passphrase")
    assert not (tmp_path / "r.db").exists()


def test_restore_migrates_an_older_schema(store: Store, folder: Path, tmp_path: Path) -> None:
    # make the store look like one from before m040_backup, then back it up
    with store.transaction():
        store.execute("DROP TABLE backup_events")
        store.execute("DELETE FROM schema_migrations WHERE name = 'm040_backup'")
    made = svc.create_backup(store, PASSPHRASE, folder)
    assert "m040_backup" not in made.manifest.schema_version
    result = svc.restore_backup(made.path, tmp_path / "new.db", USER, PASSPHRASE)
    assert result.migrated == ["m040_backup"]
    with open_store(tmp_path / "new.db", USER, PASSPHRASE) as s:
        assert s.has_table("backup_events")


# ---- drill and prune ---------------------------------------------------------------------------


def test_drill_reports_differences_and_records_success(
    store: Store, made: svc.CreateResult, folder: Path
) -> None:
    fill(store, rows=3, marker="later")
    result = svc.drill(store, PASSPHRASE, folder)
    assert result.ok and result.backup == made.path
    assert result.differences == {"notes": (500, 503)}
    assert svc.backup_status(store)["last_successful_drill"].startswith(made.path.name)


def test_drill_fails_on_damage_and_says_so_in_status(
    store: Store, made: svc.CreateResult, folder: Path
) -> None:
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0x80
    made.path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="drill failed: .*snapshot part is damaged"):
        svc.drill(store, PASSPHRASE, folder)
    status = svc.backup_status(store)
    assert status["last_successful_drill"] == "never"
    assert "last_drill_failed_at" in status


def test_drill_with_no_backup(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no backup in .* to drill"):
        svc.drill(store, PASSPHRASE, tmp_path / "empty")


def test_prune_keeps_newest_verified_even_if_policy_would_not(store: Store, folder: Path) -> None:
    made = [svc.create_backup(store, PASSPHRASE, folder) for _ in range(4)]
    # the newest goes bad: the newest *verified* one must survive a keep-last 1
    data = bytearray(made[-1].path.read_bytes())
    data[200] ^= 1
    made[-1].path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        svc.verify_and_record(store, made[-1].path, PASSPHRASE)
    outcome = svc.prune_backups(store, folder, svc.PrunePolicy(keep_last=1), PASSPHRASE)
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([made[2].path.name, made[3].path.name])
    why = {r["file"]: r["why"] for r in outcome.rows()}
    assert why[made[2].path.name] == "newest verified backup (always kept)"
    assert why[made[3].path.name] == "last 1 of 1"


def test_prune_dry_run_deletes_nothing_and_empty_policy_is_refused(
    store: Store, folder: Path
) -> None:
    for _ in range(3):
        svc.create_backup(store, PASSPHRASE, folder)
    outcome = svc.prune_backups(
        store, folder, svc.PrunePolicy(keep_last=1), PASSPHRASE, dry_run=True
    )
    assert [r["action"] for r in outcome.rows()] == ["keep", "would remove", "would remove"]
    assert len(list(folder.iterdir())) == 3
    with pytest.raises(UsageError, match="empty retention policy"):
        svc.prune_backups(store, folder, svc.PrunePolicy(), PASSPHRASE)
    assert len(list(folder.iterdir())) == 3


def test_prune_ignores_files_that_are_not_backups(store: Store, folder: Path) -> None:
    svc.create_backup(store, PASSPHRASE, folder)
    (folder / "notes.txt").write_text("keep me")
    svc.create_backup(store, PASSPHRASE, folder)
    svc.prune_backups(store, folder, svc.PrunePolicy(keep_last=1), PASSPHRASE)
    assert (folder / "notes.txt").read_text() == "keep me"
    assert len(list(folder.glob("*.rcbk"))) == 1


def test_age_backup_restores_and_drills_with_the_identity(
    store: Store, folder: Path, tmp_path: Path
) -> None:
    key, rec = _identity(tmp_path, "key.txt")
    fill(store)
    made = svc.create_backup(store, PASSPHRASE, folder, recipients=[rec])
    identities = agewrap.load_identities(key)
    with pytest.raises(UsageError, match="age-encrypted"):
        svc.restore_backup(made.path, tmp_path / "r.db", USER, PASSPHRASE)
    assert not (tmp_path / "r.db").exists()
    svc.restore_backup(made.path, tmp_path / "r.db", USER, PASSPHRASE, identities=identities)
    with open_store(tmp_path / "r.db", USER, PASSPHRASE) as restored:
        assert restored.scalar("SELECT count(*) FROM notes") == 500
    result = svc.drill(store, PASSPHRASE, folder, identities=identities)
    assert result.ok and result.differences == {}

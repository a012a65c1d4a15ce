"""`riskcli backup ...` and `riskcli restore` through the CLI: outputs, exact errors, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services.backup import agewrap
from riskcli.storage.keyslots import KeyFile, keys_path

Cli = Callable[..., Any]


def create(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("backup", "create", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert "Backup written and verified: " in result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_create_list_verify(store_env: Path, cli: Cli) -> None:
    made = create(cli, "--label", "nightly")
    path = Path(made["file"])
    assert path.parent == store_env.parent / "backups"
    assert made["verified"] is True and made["label"] == "nightly"
    listed = cli("backup", "list", "--format", "json")
    rows = json.loads(listed.stdout)
    assert [r["file"] for r in rows] == [path.name]
    assert rows[0]["last_check"].startswith("create ok")
    checked = cli("backup", "verify", str(path), "--format", "json")
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)[0]["ok"] is True


def test_create_to_a_folder_and_status_shows_its_age(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    made = create(cli, "--to", str(tmp_path / "offsite"))
    status = json.loads(cli("status", "--format", "json").stdout)
    assert status["store"]["newest_backup"].startswith(Path(made["file"]).name)
    assert status["store"]["last_successful_drill"] == "never"


def test_verify_damage_exits_4_naming_it(store_env: Path, cli: Cli) -> None:
    path = Path(create(cli)["file"])
    data = path.read_bytes()
    path.write_bytes(data[:5000])
    result = cli("backup", "verify", str(path))
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        f"Error: {path.name}: backup is truncated: it ends inside the snapshot part at byte 5000"
    )


def test_verify_all_reports_each_and_fails_if_one_fails(store_env: Path, cli: Cli) -> None:
    good = Path(create(cli)["file"])
    bad = Path(create(cli)["file"])
    damaged = bytearray(bad.read_bytes())
    damaged[100] ^= 1
    bad.write_bytes(bytes(damaged))
    result = cli("backup", "verify", "--all", "--format", "csv")
    assert result.exit_code == 4
    assert f"{good.name},1," in result.stdout
    assert "snapshot part is damaged" in result.stdout
    assert result.stderr.startswith("Error: 1 of 2 backups failed verification; first: ")


def test_verify_usage_and_missing_file(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    result = cli("backup", "verify")
    assert result.exit_code == 2
    missing = tmp_path / "nope.rcbk"
    result = cli("backup", "verify", str(missing))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: backup file {missing} does not exist"


def test_wrong_passphrase_exits_3(
    store_env: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(create(cli)["file"])
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "wrong")
    result = cli("restore", str(path), "--to", str(store_env.parent / "x.db"))
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        f"Error: {path.name}: wrong passphrase for user {USER} (keyslot of the backup's time)"
    )


def test_role_without_backup_permission_exits_3(
    store_env: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyfile = KeyFile.load(keys_path(store_env))
    _, master = keyfile.unwrap(USER, PASSPHRASE.encode())
    keyfile.add_slot("vera", "viewer", b"vera-passphrase", master)
    keyfile.save(keys_path(store_env))
    monkeypatch.setenv("RISKCLI_USER", "vera")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "vera-passphrase")
    result = cli("backup", "create")
    assert result.exit_code == 3
    assert result.stderr.strip() == "Error: user vera (role viewer) may not backup.create"


def test_age_recipients_and_identities(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    identity, recipient = agewrap.new_ephemeral()
    key = tmp_path / "key.txt"
    key.write_text(f"{identity}\n")
    wrong_identity, _ = agewrap.new_ephemeral()
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"{wrong_identity}\n")
    path = Path(create(cli, "--recipient", str(recipient))["file"])
    assert path.name.endswith(".rcbk.age")
    missing = cli("backup", "verify", str(path))
    assert missing.exit_code == 2
    assert "age-encrypted: give --identity FILE" in missing.stderr
    bad = cli("backup", "verify", str(path), "--identity", str(wrong))
    assert bad.exit_code == 3
    assert "matches no recipient" in bad.stderr
    ok = cli("backup", "verify", str(path), "--identity", str(key))
    assert ok.exit_code == 0, ok.stderr


def test_recipients_and_identity_from_config(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    identity, recipient = agewrap.new_ephemeral()
    key = tmp_path / "key.txt"
    key.write_text(f"{identity}\n")
    (store_env.parent / "riskcli.toml").write_text(
        f'[backup]\ndir = "vault"\nrecipients = ["{recipient}"]\nidentity = "{key}"\n'
        "keep_last = 1\n"
    )
    made = create(cli)
    assert Path(made["file"]).parent == store_env.parent / "vault"
    assert made["encrypted_to"] == 1
    assert cli("backup", "verify", "--all").exit_code == 0
    create(cli)
    pruned = cli("backup", "prune", "--format", "csv")
    assert pruned.exit_code == 0, pruned.stderr
    assert pruned.stderr.strip() == "Kept 1, removed 1."
    assert len(list((store_env.parent / "vault").iterdir())) == 1


def test_prune_refuses_an_empty_policy(store_env: Path, cli: Cli) -> None:
    create(cli)
    result = cli("backup", "prune")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: refusing an empty retention policy")


def test_prune_prints_keep_and_remove_with_reasons(store_env: Path, cli: Cli) -> None:
    for _ in range(3):
        create(cli)
    result = cli("backup", "prune", "--keep-last", "2", "--dry-run", "--format", "csv")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "file,created_at,action,why"
    assert [line.split(",")[2:] for line in lines[1:]] == [
        ["keep", "last 1 of 2"],
        ["keep", "last 2 of 2"],
        ["would remove", "matches no keep rule"],
    ]
    assert result.stderr.strip() == "Kept 2, would remove 1."


def test_restore_refuses_then_replaces_with_force(store_env: Path, cli: Cli) -> None:
    path = Path(create(cli)["file"])
    refused = cli("restore", str(path))
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"Error: {path.name} verified, but {store_env} exists: add --force to replace it "
        "(the replaced store is kept as a safety copy)"
    )
    done = cli("restore", str(path), "--force", "--format", "json")
    assert done.exit_code == 0, done.stderr
    safety = Path(json.loads(done.stdout)["safety_copy"])
    assert safety.exists() and keys_path(safety).exists()
    assert cli("status", "--check").exit_code == 0
    # the audit anchor says the store went back in time on purpose
    anchor = store_env.with_name(store_env.name + ".anchor")
    lines = [json.loads(line) for line in anchor.read_text().strip().splitlines()]
    restores = [line for line in lines if line.get("kind") == "restore"]
    assert [r["source"] for r in restores] == [path.name]


def test_drill_passes_then_fails_on_damage(store_env: Path, cli: Cli) -> None:
    path = Path(create(cli)["file"])
    ok = cli("backup", "drill", "--format", "csv")
    assert ok.exit_code == 0, ok.stderr
    assert ",ok," in ok.stdout and "row counts equal the live store" in ok.stdout
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    failed = cli("backup", "drill")
    assert failed.exit_code == 4
    assert failed.stderr.strip() == (
        f"Error: drill failed: {path.name}: snapshot part is damaged: it fails its SHA-256 checksum"
    )
    status = json.loads(cli("status", "--format", "json").stdout)["store"]
    assert status["last_successful_drill"].startswith(path.name)
    assert "last_drill_failed_at" in status


def test_backup_commands_leave_audit_events(store_env: Path, cli: Cli) -> None:
    from riskcli.storage.store import open_store

    create(cli)
    cli("backup", "prune")  # refused: recorded as an error
    with open_store(store_env, USER, PASSPHRASE.encode()) as s:
        events = s.query("SELECT action, command, outcome FROM audit_events ORDER BY seq")
    assert [(e["action"], e["command"].split()[-2:], e["outcome"]) for e in events] == [
        ("backup.create", ["backup", "create"], "ok"),
        ("backup.create", ["backup", "prune"], "error"),  # pruning needs backup.create too
    ]
